//! `neardup scan`: find copies and report pairs and clusters.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use neardup::report::{Report, SummaryLimits, human_bytes, thousands};
use neardup::{ScanOutcome, Scanner};

use super::args::{DetectArgs, InputArgs, ReportingReader, ResourceArgs};
use super::output::{StdoutFormat, write_atomically};
use super::progress::Console;

/// Arguments of `neardup scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[cfg(feature = "cluster")]
    #[command(flatten)]
    pub cluster: super::distributed::ClusterArgs,
}

/// Where results go.
#[derive(Args, Debug)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Write every related pair to FILE as JSONL.
    #[arg(long, value_name = "FILE")]
    pub pairs: Option<PathBuf>,
    /// Write every cluster to FILE as JSONL.
    #[arg(long, value_name = "FILE")]
    pub clusters: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE: overview, clusters, and
    /// each pair side by side with its matched passages and substitutions
    /// (the inputs are read a second time for the texts).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write the scan's counts and stage timings to FILE as JSON.
    #[arg(long, value_name = "FILE")]
    pub stats: Option<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value = "text")]
    pub format: StdoutFormat,
    /// Clusters shown in the text summary (0: all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_clusters: usize,
    /// `contained` pairs shown in the text summary (0: all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_contained: usize,
    /// `spun` pairs shown in the text summary (0: all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub max_spun: usize,
}

impl OutputArgs {
    /// Writes the --pairs and --clusters files, if asked for.
    pub fn write_files(&self, outcome: &ScanOutcome) -> anyhow::Result<()> {
        let report = Report::new(outcome);
        if let Some(path) = &self.pairs {
            write_atomically(path, |w| report.write_pairs_jsonl(w))?;
        }
        if let Some(path) = &self.clusters {
            write_atomically(path, |w| report.write_clusters_jsonl(w))?;
        }
        if let Some(path) = &self.stats {
            write_atomically(path, |w| {
                serde_json::to_writer_pretty(&mut *w, &outcome.stats)?;
                writeln!(w)
            })?;
        }
        Ok(())
    }
}

/// Reads the inputs and scans them, reporting progress, skipped records
/// and a one-line summary on stderr. `keep_raw` keeps records as read, for
/// `dedup` output.
pub fn scan_inputs(
    input: &InputArgs,
    detect: &DetectArgs,
    resources: &ResourceArgs,
    quiet: bool,
    keep_raw: bool,
) -> anyhow::Result<(ScanOutcome, Arc<Console>)> {
    let scanner = Scanner::new(detect.config())?;
    let resources = resources.resources()?;
    let console = Arc::new(Console::new(quiet));
    let mut reader = ReportingReader::new(input.open(keep_raw)?, Arc::clone(&console));
    let progress = reader.progress();
    let started = Instant::now();
    let outcome = scanner.scan_with(&mut reader, &resources, console.as_ref())?;
    let skipped = reader.skipped();
    reader.finish(outcome.stats.documents, input.strict)?;
    let seconds = started.elapsed().as_secs_f64();
    let s = &outcome.stats;
    let relations: Vec<String> = outcome
        .relation_counts()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(r, n)| format!("{} {r}", thousands(*n as u64)))
        .collect();
    console.warn(&format!(
        "neardup: {} documents, {} of content ({} of files) in {seconds:.1} s ({:.1} MB/s): \
         {} related pairs{} in {} clusters{}",
        thousands(s.documents),
        human_bytes(s.input_bytes),
        human_bytes(progress.read()),
        s.input_bytes as f64 / 1e6 / seconds.max(1e-9),
        thousands(outcome.edges.len() as u64),
        if relations.is_empty() { String::new() } else { format!(" ({})", relations.join(", ")) },
        thousands(outcome.clusters.len() as u64),
        if skipped > 0 {
            format!("; {} records skipped", thousands(skipped))
        } else {
            String::new()
        },
    ));
    Ok((outcome, console))
}

/// Runs `neardup scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    #[cfg(feature = "cluster")]
    if args.cluster.is_distributed() {
        return super::distributed::run(args, quiet);
    }
    if args.output.html.is_some() {
        super::report::check_rereadable(&args.input)?;
    }
    let (outcome, _) = scan_inputs(&args.input, &args.detect, &args.resources, quiet, false)?;
    args.output.write_files(&outcome)?;
    if let Some(path) = &args.output.html {
        super::report::write_scan_report(path, &outcome, &args.input, &args.detect)?;
    }
    let report = Report::new(&outcome);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.output.format {
        StdoutFormat::Text => report.write_summary(
            &mut out,
            SummaryLimits {
                clusters: args.output.max_clusters,
                contained: args.output.max_contained,
                spun: args.output.max_spun,
            },
        )?,
        StdoutFormat::Jsonl => report.write_pairs_jsonl(&mut out)?,
        StdoutFormat::Csv => report.write_pairs_csv(&mut out)?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
