//! `neardup scan`: find copies and report pairs and clusters.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use neardup::report::{Report, SummaryLimits, human_bytes};
use neardup::{ScanOutcome, Scanner};

use super::args::{DetectArgs, InputArgs, ReportingReader};
use super::output::{StdoutFormat, write_atomically};

/// Arguments of `neardup scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub detect: DetectArgs,
    #[command(flatten)]
    pub output: OutputArgs,
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
        Ok(())
    }
}

/// Reads the inputs and scans them, reporting skipped records.
pub fn scan_inputs(
    input: &InputArgs,
    detect: &DetectArgs,
    quiet: bool,
) -> anyhow::Result<ScanOutcome> {
    let scanner = Scanner::new(detect.config())?;
    let mut reader = ReportingReader::new(input.open()?, quiet);
    let started = Instant::now();
    let outcome = scanner.scan(&mut reader)?;
    reader.finish(outcome.stats.documents, input.strict)?;
    if !quiet {
        let seconds = started.elapsed().as_secs_f64();
        let t = &outcome.stats.timings;
        eprintln!(
            "neardup: scanned {} in {seconds:.2} s ({:.1} MB/s; featurize {:.2} s, candidates {:.2} s, verify {:.2} s, cluster {:.2} s)",
            human_bytes(outcome.stats.bytes),
            outcome.stats.bytes as f64 / 1e6 / seconds.max(1e-9),
            t.featurize.as_secs_f64(),
            t.candidates.as_secs_f64(),
            t.verify.as_secs_f64(),
            t.cluster.as_secs_f64(),
        );
    }
    Ok(outcome)
}

/// Runs `neardup scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let outcome = scan_inputs(&args.input, &args.detect, quiet)?;
    args.output.write_files(&outcome)?;
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
