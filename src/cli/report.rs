//! `neardup report` (an HTML report from a scan's output and its inputs),
//! `scan --html`, and `neardup explain` (one pair's evidence in the
//! terminal).

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use neardup::index::Index;
use neardup::normalize::Normalizer;
use neardup::report::alignment::Alignment;
use neardup::report::documents::{index_report, report_documents};
use neardup::report::html::{HtmlReportInput, write_html};
use neardup::report::rows::{ClusterRow, PairRow, read_clusters, read_pairs};
use neardup::report::{Report, terminal_safe};
use neardup::{Document, ScanOutcome, Scanner};

use super::args::{DetectArgs, InputArgs};
use super::output::write_atomically;

/// Default number of pairs in an HTML report.
const DEFAULT_MAX_PAIRS: usize = 20_000;

/// Arguments of `neardup report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The scan's `--pairs` file (JSONL).
    #[arg(long, value_name = "FILE")]
    pub pairs: PathBuf,
    /// The scan's `--clusters` file (JSONL), for the cluster pages.
    #[arg(long, value_name = "FILE")]
    pub clusters: Option<PathBuf>,
    /// Where to write the report (one self-contained HTML file).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Pairs shown at most (the first ones of the pairs file); the report
    /// says when it shows a part.
    #[arg(long, default_value_t = DEFAULT_MAX_PAIRS, value_name = "N")]
    pub max_pairs: usize,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// Runs `neardup report`.
pub fn run(args: ReportArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let mut pairs = read_pairs(&args.pairs)?;
    let clusters = match &args.clusters {
        Some(path) => read_clusters(path)?,
        None => Vec::new(),
    };
    let total = pairs.len();
    pairs.truncate(args.max_pairs);
    let scanner = Scanner::new(args.detect.config())?;
    let title = args.input.paths.join(" ");
    write_report(&args.output, &title, &pairs, &clusters, total, None, &scanner, &args.input)?;
    if !quiet {
        eprintln!(
            "neardup: wrote {} ({} of {total} pairs, {} clusters)",
            args.output.display(),
            pairs.len(),
            clusters.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Arguments of `neardup index report`.
#[derive(Args, Debug)]
pub struct IndexReportArgs {
    /// The index folder.
    #[arg(long, value_name = "DIR")]
    pub index: PathBuf,
    /// Where to write the report (one self-contained HTML file).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Pairs shown at most; the report says when it shows a part.
    #[arg(long, default_value_t = DEFAULT_MAX_PAIRS, value_name = "N")]
    pub max_pairs: usize,
}

/// Runs `neardup index report`.
pub fn run_index_report(args: IndexReportArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let index = Index::open(&args.index)?;
    let report = index_report(&index, args.max_pairs)?;
    let title = format!("index {}", args.index.display());
    let input = HtmlReportInput {
        title: &title,
        pairs: &report.pairs,
        clusters: &report.clusters,
        documents: &report.documents,
        total_pairs: report.total_pairs,
        scanned_documents: Some(report.indexed_documents),
    };
    let scanner = Scanner::new(index.manifest().config.clone())?;
    let normalizer = scanner.featurizer().normalizer().clone();
    write_atomically(&args.output, |w| write_html(&input, &normalizer, w))
        .with_context(|| format!("cannot write the report {}", args.output.display()))?;
    if !quiet {
        eprintln!(
            "neardup: wrote {} ({} of {} pairs, {} clusters)",
            args.output.display(),
            report.pairs.len(),
            report.total_pairs,
            report.clusters.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `scan --html FILE`: the report of a scan just made.
pub fn write_scan_report(
    path: &Path,
    outcome: &ScanOutcome,
    input: &InputArgs,
    detect: &DetectArgs,
) -> anyhow::Result<()> {
    let report = Report::new(outcome);
    // Only the pairs shown have their evidence read back.
    let mut pairs = Vec::with_capacity(outcome.edges.len().min(DEFAULT_MAX_PAIRS));
    for (i, edge) in outcome.edges.iter().enumerate().take(DEFAULT_MAX_PAIRS) {
        let evidence = outcome.evidence(i)?;
        pairs.push(row_of(&report.pair(edge, &evidence))?);
    }
    let clusters: Vec<ClusterRow> =
        report.clusters().map(|c| row_of(&c)).collect::<std::io::Result<_>>()?;
    let scanner = Scanner::new(detect.config())?;
    let title = input.paths.join(" ");
    write_report(
        path,
        &title,
        &pairs,
        &clusters,
        outcome.edges.len(),
        Some(outcome.stats.documents),
        &scanner,
        input,
    )
}

/// An output record read back as the row a user's script would see.
fn row_of<T: serde::Serialize, R: serde::de::DeserializeOwned>(record: &T) -> std::io::Result<R> {
    serde_json::to_value(record).and_then(serde_json::from_value).map_err(std::io::Error::other)
}

/// Checks before a scan that its inputs can be read a second time.
pub fn check_rereadable(input: &InputArgs) -> anyhow::Result<()> {
    if input.paths.iter().any(|p| p == "-") {
        anyhow::bail!(
            "--html reads the inputs again for the texts, which standard input cannot give: \
             save it to a file and scan that"
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_report(
    path: &Path,
    title: &str,
    pairs: &[PairRow],
    clusters: &[ClusterRow],
    total_pairs: usize,
    scanned_documents: Option<u64>,
    scanner: &Scanner,
    input: &InputArgs,
) -> anyhow::Result<()> {
    check_rereadable(input)?;
    // Texts are shown for pairs only; cluster pages list ids.
    let mut wanted: HashSet<&str> = HashSet::new();
    for p in pairs {
        wanted.insert(&p.a);
        wanted.insert(&p.b);
    }
    // Bad records were reported by the scan that made the pairs; here they
    // are passed over silently.
    let reader = input.open(false)?.filter_map(Result::ok);
    let documents = report_documents(scanner, reader, &wanted);
    let missing = wanted.iter().filter(|id| !documents.contains_key(**id)).count();
    if missing == wanted.len() && !wanted.is_empty() {
        anyhow::bail!(
            "none of the {} documents in the pairs was found in the inputs given ({}): \
             give the inputs that were scanned",
            wanted.len(),
            title
        );
    }
    let report_input = HtmlReportInput {
        title,
        pairs,
        clusters,
        documents: &documents,
        total_pairs,
        scanned_documents,
    };
    let normalizer = scanner.featurizer().normalizer().clone();
    write_atomically(path, |w| write_html(&report_input, &normalizer, w))
        .with_context(|| format!("cannot write the report {}", path.display()))
}

/// Arguments of `neardup explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The first document: a text or HTML file, or with --index an id.
    #[arg(value_name = "A")]
    pub a: String,
    /// The second document.
    #[arg(value_name = "B")]
    pub b: String,
    /// Take A and B as ids of documents stored in this index (their
    /// newest versions), compared with the index's configuration.
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// Colour the differences: auto (on a terminal), always or never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    pub color: ColorChoice,
    #[command(flatten)]
    pub detect: DetectArgs,
}

/// When to colour terminal output.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// Runs `neardup explain`.
pub fn explain(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let (text_a, text_b, scanner) = match &args.index {
        Some(dir) => {
            let index = Index::open(dir)?;
            let number = |id: &str| -> anyhow::Result<u32> {
                index.number_of(id)?.with_context(|| {
                    format!("{}: no document with id {:?}", dir.display(), terminal_safe(id))
                })
            };
            let (na, nb) = (number(&args.a)?, number(&args.b)?);
            let mut docs = index.documents(&[na, nb])?;
            let mut take = |n: u32| docs.remove(&n).map(|d| d.text).unwrap_or_default();
            let (ta, tb) = (take(na), take(nb));
            (ta, tb, Scanner::new(index.manifest().config.clone())?)
        }
        None => {
            let (a, b) = (read_one(Path::new(&args.a))?, read_one(Path::new(&args.b))?);
            let ta = a.body.into_text(a.url.as_deref());
            let tb = b.body.into_text(b.url.as_deref());
            (ta, tb, Scanner::new(args.detect.config())?)
        }
    };
    let outcome = scanner.scan(vec![
        Document::new(args.a.clone(), text_a.clone()),
        Document::new(args.b.clone(), text_b.clone()),
    ])?;
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal(),
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let report = Report::new(&outcome);
    let mut rows: Vec<PairRow> = Vec::new();
    report.for_each_pair(|r| {
        rows.push(row_of(r)?);
        Ok(())
    })?;
    let Some(row) = rows.first() else {
        writeln!(
            out,
            "{} and {} are not related: no passage, rewrite or shared text passes the \
             thresholds.",
            terminal_safe(&args.a),
            terminal_safe(&args.b)
        )?;
        out.flush()?;
        return Ok(ExitCode::from(1));
    };
    // `contained` pairs name the smaller document first.
    let (ta, tb) = if row.a == args.a { (&text_a, &text_b) } else { (&text_b, &text_a) };
    write_explanation(&mut out, row, ta, tb, &scanner, color)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The one document in the file at `path`.
fn read_one(path: &Path) -> anyhow::Result<Document> {
    let input = neardup::ingest::Input::parse(&path.to_string_lossy());
    let mut reader =
        neardup::ingest::DocumentReader::new(vec![input], neardup::ingest::ReadOptions::default())?;
    match reader.next() {
        Some(Ok(doc)) => Ok(doc),
        Some(Err(err)) => Err(anyhow::anyhow!("{err}")),
        None => anyhow::bail!("{}: no document found", path.display()),
    }
}

/// Passages shown at most.
const MAX_PASSAGES: usize = 12;
/// Characters of an unchanged passage shown at most.
const MAX_PASSAGE_CHARS: usize = 300;
/// Changed words shown at most, in all.
const MAX_CHANGES: usize = 40;
/// Words shown on each side of a change.
const CONTEXT_WORDS: usize = 6;

fn write_explanation(
    out: &mut impl Write,
    row: &PairRow,
    ta: &str,
    tb: &str,
    scanner: &Scanner,
    color: bool,
) -> std::io::Result<()> {
    let paint = |code: &str, s: &str| {
        if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    };
    writeln!(out, "{}", paint("1", &terminal_safe(&row.sentence())))?;
    writeln!(
        out,
        "relation {} · jaccard {:.3} · a in b {:.3} · b in a {:.3}",
        row.relation.as_str(),
        row.jaccard,
        row.containment_a_in_b,
        row.containment_b_in_a
    )?;
    if let Some(subs) = row.substitutions.as_deref().filter(|s| !s.is_empty()) {
        let list: Vec<String> =
            subs.iter().take(20).map(|s| format!("{} → {}", s.from, s.to)).collect();
        writeln!(out, "substitutions: {}", terminal_safe(&list.join(", ")))?;
    }
    let normalizer: &Normalizer = scanner.featurizer().normalizer();
    let al = Alignment::new(ta, tb, normalizer);
    writeln!(
        out,
        "{} aligned passages, {} of {} words of a found in order in b",
        al.blocks.len(),
        al.equal_words(),
        al.a.len()
    )?;
    let flat = |text: &str| {
        terminal_safe(&text.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned()
    };
    let mut changes_shown = 0;
    for (i, block) in al.blocks.iter().take(MAX_PASSAGES).enumerate() {
        let a_text = Alignment::text(ta, &al.a, &block.a);
        let words = block.a.len();
        writeln!(out, "\n[{}] {words} words of a, {} changed", i + 1, block.changes.len())?;
        if block.changes.is_empty() {
            let shown: String = flat(a_text).chars().take(MAX_PASSAGE_CHARS).collect();
            writeln!(
                out,
                "  a = b: {shown}{}",
                if shown.len() < a_text.len() { " …" } else { "" }
            )?;
            continue;
        }
        // Each change with a few words of context on both sides.
        for change in &block.changes {
            if changes_shown == MAX_CHANGES {
                writeln!(out, "  (further changes not shown)")?;
                break;
            }
            changes_shown += 1;
            for (side, text, spans, r, code) in
                [("a", ta, &al.a, &change.a, "31"), ("b", tb, &al.b, &change.b, "32")]
            {
                let before = r.start.saturating_sub(CONTEXT_WORDS).max(if side == "a" {
                    block.a.start
                } else {
                    block.b.start
                });
                let after = (r.end + CONTEXT_WORDS).min(if side == "a" {
                    block.a.end
                } else {
                    block.b.end
                });
                let left = Alignment::text(text, spans, &(before..r.start));
                let mid = Alignment::text(text, spans, r);
                let right = Alignment::text(text, spans, &(r.end..after));
                let mid = if mid.is_empty() { "∅".to_string() } else { flat(mid) };
                writeln!(
                    out,
                    "  {side}: …{} {} {}…",
                    flat(left),
                    if color { paint(code, &mid) } else { format!("[{mid}]") },
                    flat(right)
                )?;
            }
        }
    }
    if al.blocks.len() > MAX_PASSAGES {
        writeln!(out, "\n(+{} more passages)", al.blocks.len() - MAX_PASSAGES)?;
    }
    Ok(())
}
