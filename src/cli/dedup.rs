//! `neardup dedup`: write the input records minus the duplicates.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use neardup::dedup::{DEFAULT_AGGREGATOR_SHARE, DedupOptions, DedupPlan, KeepRule};
use neardup::report::thousands;

use super::args::{DetectArgs, InputArgs, ResourceArgs};
use super::output::{Compressed, write_atomically};
use super::scan::scan_inputs;

/// Arguments of `neardup dedup`.
#[derive(Args, Debug)]
pub struct DedupArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub dedup: DedupFlags,
    #[command(flatten)]
    pub detect: DetectArgs,
    #[command(flatten)]
    pub resources: ResourceArgs,
    #[cfg(feature = "cluster")]
    #[command(flatten)]
    pub cluster: super::distributed::ClusterArgs,
}

/// What to keep and where to write it.
#[derive(Args, Debug)]
#[command(next_help_heading = "Deduplication")]
pub struct DedupFlags {
    /// Where to write the kept records, as JSONL (.gz or .zst compresses,
    /// "-" writes to stdout). JSONL records are written exactly as read;
    /// others (text, HTML, WARC) as {"id", "url", "date", "text"}.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Also write one JSON line per dropped record: the kept record that
    /// holds its text, the relation and the scores.
    #[arg(long, value_name = "FILE")]
    pub removed: Option<PathBuf>,
    /// Which copy of a story to keep.
    #[arg(long, value_enum, default_value = "original")]
    pub keep: KeepArg,
    /// Drop pages made mostly of documents they contain (aggregators).
    #[arg(long)]
    pub drop_aggregators: bool,
    /// Share of a page's content found in the documents it carries from
    /// which it counts as an aggregator.
    #[arg(long, default_value_t = DEFAULT_AGGREGATOR_SHARE, value_name = "SHARE")]
    pub aggregator_share: f64,
    /// Drop documents contained in a kept document (a teaser inside its
    /// article, an article inside a kept page).
    #[arg(long)]
    pub drop_contained: bool,
}

/// Which copy of a story to keep.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum KeepArg {
    /// The likely original found by attribution (date, then pages that
    /// carry it, then containment, then input order).
    Original,
    /// The earliest dated copy.
    Earliest,
    /// The longest copy.
    Longest,
    /// The first copy read.
    First,
}

/// Writes to `path` atomically, or to stdout for `-`.
pub(super) fn write_output(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    if path == Path::new("-") {
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        write(&mut out)?;
        out.flush()?;
        Ok(())
    } else {
        write_atomically(path, write)
    }
}

/// Runs `neardup dedup`.
pub fn run(args: DedupArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let flags = &args.dedup;
    let options = DedupOptions {
        keep: match flags.keep {
            KeepArg::Original => KeepRule::Original,
            KeepArg::Earliest => KeepRule::Earliest,
            KeepArg::Longest => KeepRule::Longest,
            KeepArg::First => KeepRule::First,
        },
        drop_aggregators: flags.drop_aggregators,
        aggregator_share: flags.aggregator_share,
        drop_contained: flags.drop_contained,
    };
    // Check the options before the (long) scan.
    DedupPlan::new(&neardup::ScanOutcome::default(), &options)?;
    let stdout = Path::new("-");
    if flags.output == stdout && flags.removed.as_deref() == Some(stdout) {
        anyhow::bail!("--output and --removed cannot both be standard output (-)");
    }
    #[cfg(feature = "cluster")]
    if args.cluster.is_distributed() {
        return super::distributed::run_dedup(&args, options, quiet);
    }
    let (outcome, console) = scan_inputs(&args.input, &args.detect, &args.resources, quiet, true)?;
    let plan = DedupPlan::new(&outcome, &options)?;
    let write_kept = |w: &mut dyn Write| -> std::io::Result<()> {
        let mut out = Compressed::for_path(&flags.output, w)?;
        plan.write_kept(&outcome, &mut out).map_err(std::io::Error::other)?;
        out.finish()
    };
    write_output(&flags.output, write_kept)?;
    if let Some(path) = &flags.removed {
        write_output(path, |w| {
            let mut out = Compressed::for_path(path, w)?;
            plan.write_removed(&outcome, &mut out).map_err(std::io::Error::other)?;
            out.finish()
        })?;
    }
    let c = plan.counts;
    console.warn(&format!(
        "neardup: kept {} of {} documents; dropped {} copies, {} aggregator pages, {} contained",
        thousands(c.kept),
        thousands(outcome.stats.documents),
        thousands(c.copies),
        thousands(c.aggregators),
        thousands(c.contained),
    ));
    Ok(ExitCode::SUCCESS)
}
