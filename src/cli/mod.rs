//! Command-line interface: argument parsing, terminal output, exit codes.
//!
//! Exit codes (a contract for scripts and cron wrappers):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (records that could not be read are reported on stderr and skipped) |
//! | 1 | `explain`: the two documents are not related; `index add --fail-on-new`: new duplicates |
//! | 2 | usage error, unusable input or output, or (with `--strict`) any skipped record |
//!
//! Everything the library computes is returned as data; this module decides
//! what reaches stdout (results) and stderr (warnings, timings).

mod args;
mod dedup;
#[cfg(feature = "cluster")]
mod distributed;
mod eval;
mod index;
mod output;
mod progress;
mod report;
mod scan;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Find reprinted, syndicated and machine-rewritten copies of articles.
#[derive(Parser, Debug)]
#[command(
    name = "neardup",
    version,
    about,
    long_about = "Find reprinted, syndicated and machine-rewritten copies of articles in \
large text collections.\n\nPoint `neardup scan` at a folder of articles (or JSONL files) to \
get every pair of copies with exact similarity scores, and the clusters of copies they form.",
    after_help = "Examples:\n  neardup scan corpora/demo\n  neardup scan crawl/ --pairs pairs.jsonl --clusters clusters.jsonl\n  cat docs.jsonl | neardup scan - --format jsonl\n  neardup eval --truth corpora/demo/truth.json corpora/demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Worker threads (default: one per CPU, or RAYON_NUM_THREADS).
    #[arg(short = 'j', long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Print no warnings or timings on stderr (errors are still printed).
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Find copies in files, folders or JSONL and report pairs and clusters.
    Scan(scan::ScanArgs),
    /// Write the input records minus the duplicates (one per story).
    Dedup(dedup::DedupArgs),
    /// Scan, then score the pairs against a labelled truth file.
    Eval(eval::EvalArgs),
    /// A persistent index for scheduled scans: add batches, report what is new.
    Index(index::IndexArgs),
    /// Write a self-contained HTML report of a scan's pairs and clusters.
    Report(report::ReportArgs),
    /// Show why two documents are related: scores, passages, substitutions.
    /// Exits 1 when they are not related.
    Explain(report::ExplainArgs),
}

/// Runs the tool and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("neardup: error: {}", error_message(&err));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Some(n) = cli.threads {
        if n == 0 {
            anyhow::bail!("--threads must be at least 1");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .map_err(|e| anyhow::anyhow!("cannot start {n} threads: {e}"))?;
    }
    match cli.command {
        Command::Scan(args) => scan::run(args, cli.quiet),
        Command::Dedup(args) => dedup::run(args, cli.quiet),
        Command::Eval(args) => eval::run(args, cli.quiet),
        Command::Index(args) => index::run(args, cli.quiet),
        Command::Report(args) => report::run(args, cli.quiet),
        Command::Explain(args) => report::explain(args),
    }
}

/// The error and its causes, each said once: library errors that name a
/// file already include their cause's text.
fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.ends_with(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// A closed stdout (`neardup scan … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
