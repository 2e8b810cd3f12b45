//! `neardup eval`: scan, then score the pairs against labelled truth.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use neardup::eval::{Evaluation, Groups, PairOutcome, Truth, evaluate};
use neardup::report::{Report, terminal_safe};
use neardup::verify::PairScores;
use neardup::{ScanOutcome, Scanner};

use super::args::{DetectArgs, InputArgs, ResourceArgs};
use super::output::write_atomically;
use super::scan::scan_inputs;

/// Arguments of `neardup eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Truth file: {"docs": [ids], "positives": [[a, b, relation], ...]}.
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Named groups of positives to report recall for:
    /// {"positive_groups": {name: [[a, b], ...]}} (a dev set's meta.json).
    #[arg(long, value_name = "FILE")]
    pub groups: Option<PathBuf>,
    /// Report format on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: EvalFormat,
    /// False positives and misses listed in the text report.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub show: usize,
    /// Also write the predicted pairs to FILE as JSONL.
    #[arg(long, value_name = "FILE")]
    pub pairs: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    #[command(flatten)]
    pub resources: ResourceArgs,
}

/// Report formats of `eval`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum EvalFormat {
    /// Tables for people.
    Text,
    /// One JSON object.
    Json,
}

/// Runs `neardup eval`.
pub fn run(args: EvalArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let truth = Truth::from_path(&args.truth)?;
    let groups = args.groups.as_deref().map(Groups::from_path).transpose()?;
    let (outcome, _) = scan_inputs(&args.input, &args.detect, &args.resources, quiet, false)?;
    if let Some(path) = &args.pairs {
        let report = Report::new(&outcome);
        write_atomically(path, |w| report.write_pairs_jsonl(w))?;
    }
    let predicted = outcome.edges.iter().map(|e| (outcome.id(e.a), outcome.id(e.b), e.relation));
    let evaluation = evaluate(&truth, predicted, groups.as_ref());
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match args.format {
        EvalFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &evaluation)?;
            writeln!(out)?;
        }
        EvalFormat::Text => {
            let scores = explain_scores(&args, &outcome, &evaluation)?;
            write_text(&mut out, &truth, &outcome, &evaluation, &scores, args.show)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Exact scores of the listed misses and false positives, for calibration.
fn explain_scores(
    args: &EvalArgs,
    outcome: &ScanOutcome,
    evaluation: &Evaluation,
) -> anyhow::Result<HashMap<(String, String), PairScores>> {
    let mut scores = HashMap::new();
    for e in &outcome.edges {
        let (a, b) = (outcome.id(e.a), outcome.id(e.b));
        if evaluation.false_positives.iter().take(args.show).any(|p| same_pair(p, a, b)) {
            scores.insert((a.to_owned(), b.to_owned()), e.scores);
        }
    }
    let missed: Vec<&PairOutcome> = evaluation.missed.iter().take(args.show).collect();
    if missed.is_empty() {
        return Ok(scores);
    }
    // Misses were never verified: their texts are read back from the scan.
    let wanted: HashSet<&str> = missed.iter().flat_map(|p| [p.a.as_str(), p.b.as_str()]).collect();
    let scanner = Scanner::new(args.detect.config())?;
    let mut features = HashMap::new();
    for (index, id) in outcome.docs.ids().enumerate() {
        if wanted.contains(id) {
            let text = outcome.docs.text(index as u32)?;
            features.insert(id.to_owned(), scanner.featurize(&text));
        }
    }
    for p in missed {
        if let (Some(fa), Some(fb)) = (features.get(&p.a), features.get(&p.b)) {
            let s = PairScores::between(&fa.shingles, &fb.shingles);
            scores.insert((p.a.clone(), p.b.clone()), s);
        }
    }
    Ok(scores)
}

fn same_pair(p: &PairOutcome, a: &str, b: &str) -> bool {
    (p.a == a && p.b == b) || (p.a == b && p.b == a)
}

fn write_text(
    out: &mut impl Write,
    truth: &Truth,
    outcome: &ScanOutcome,
    e: &Evaluation,
    scores: &HashMap<(String, String), PairScores>,
    show: usize,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{} labelled documents, {} positive pairs; {} documents scanned, {} pairs predicted\n",
        truth.docs.len(),
        truth.positives.len(),
        outcome.stats.documents,
        e.overall.tp + e.overall.fp,
    )?;
    writeln!(
        out,
        "{:<15} {:>6} {:>6} {:>7}   {:>9} {:>7} {:>9}   {:>6}   {:>10}",
        "relation",
        "truth",
        "found",
        "recall",
        "predicted",
        "correct",
        "precision",
        "F1",
        "same label"
    )?;
    let num = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.4}"));
    for r in &e.relations {
        writeln!(
            out,
            "{:<15} {:>6} {:>6} {:>7}   {:>9} {:>7} {:>9}   {:>6}   {:>10}",
            r.relation.as_str(),
            r.truth,
            r.found,
            num(r.recall),
            r.predicted,
            r.correct,
            num(r.precision),
            num(r.f1),
            format!("{}/{}", r.same_label, r.found),
        )?;
    }
    let o = &e.overall;
    writeln!(
        out,
        "{:<15} {:>6} {:>6} {:>7.4}   {:>9} {:>7} {:>9.4}   {:>6.4}",
        "overall",
        o.tp + o.fn_,
        o.tp,
        o.recall,
        o.tp + o.fp,
        o.tp,
        o.precision,
        o.f1
    )?;
    if !e.groups.is_empty() {
        writeln!(out, "\nrecall by group:")?;
        for g in &e.groups {
            let recall = if g.total == 0 { 1.0 } else { g.found as f64 / g.total as f64 };
            writeln!(out, "  {:<32} {:>5}/{:<5} {recall:.4}", g.name, g.found, g.total)?;
        }
    }
    let describe = |p: &PairOutcome| {
        let s = scores
            .get(&(p.a.clone(), p.b.clone()))
            .or_else(|| scores.get(&(p.b.clone(), p.a.clone())));
        let s = s.map_or(String::new(), |s| {
            format!(
                "  jaccard {:.3}, containment {:.3} / {:.3}",
                s.jaccard(),
                s.containment_a_in_b(),
                s.containment_b_in_a()
            )
        });
        format!("  {}  {}  {}{s}", terminal_safe(&p.a), terminal_safe(&p.b), p.relation)
    };
    for (title, list) in [("false positives", &e.false_positives), ("missed", &e.missed)] {
        if list.is_empty() || show == 0 {
            continue;
        }
        let shown = list.len().min(show);
        writeln!(out, "\n{title} ({} of {}):", shown, list.len())?;
        for p in &list[..shown] {
            writeln!(out, "{}", describe(p))?;
        }
    }
    Ok(())
}
