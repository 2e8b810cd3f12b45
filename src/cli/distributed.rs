//! `neardup scan --workers N --processes P --process I [--hostfile FILE]`:
//! the scan as a timely dataflow across threads and processes (feature
//! `cluster`; see [`neardup::dataflow`]).

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use neardup::Scanner;
use neardup::dataflow::{ClusterConfig, DistributedOutcome, scan_distributed};
use neardup::report::thousands;

use super::args::ReportingReader;
use super::output::{StdoutFormat, write_atomically};
use super::progress::Console;
use super::scan::ScanArgs;

/// Where the workers of a distributed scan run.
#[derive(Args, Debug)]
#[command(next_help_heading = "Cluster (runs the scan as a timely dataflow)")]
pub struct ClusterArgs {
    /// Worker threads in this process (use the same number in every
    /// process).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Number of processes taking part; start each with its own --process.
    #[arg(long, value_name = "P")]
    pub processes: Option<usize>,
    /// This process's number, 0 to P-1. Process 0 writes the output.
    #[arg(long, value_name = "I", default_value_t = 0)]
    pub process: usize,
    /// File of host:port lines, one per process in process order (the
    /// same file on every machine). Without it, processes run on this
    /// machine at localhost:2101 and up.
    #[arg(long, value_name = "FILE")]
    pub hostfile: Option<PathBuf>,
}

impl ClusterArgs {
    /// True when any cluster flag was given.
    pub fn is_distributed(&self) -> bool {
        self.workers.is_some() || self.processes.is_some() || self.hostfile.is_some()
    }

    fn config(&self) -> anyhow::Result<ClusterConfig> {
        let processes = self.processes.unwrap_or(1);
        let addresses = match &self.hostfile {
            Some(path) => Some(ClusterConfig::read_hostfile(path, processes)?),
            None => None,
        };
        Ok(ClusterConfig {
            workers: self.workers.unwrap_or(1),
            processes,
            process: self.process,
            addresses,
        })
    }
}

/// Runs a distributed `neardup scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    if args.input.paths.iter().any(|p| p == "-") {
        anyhow::bail!(
            "a distributed scan reads its inputs on every worker, which standard input cannot \
             give: save it to a file and scan that"
        );
    }
    if args.output.html.is_some() {
        anyhow::bail!(
            "--html is not available in a distributed scan: run `neardup report` on its --pairs and --clusters files"
        );
    }
    if matches!(args.output.format, StdoutFormat::Csv) {
        anyhow::bail!("--format csv is not available in a distributed scan: use --format jsonl");
    }
    let config = args.cluster.config()?;
    let scanner = Scanner::new(args.detect.config())?;
    let resources = args.resources.resources()?;
    let console = Arc::new(Console::new(quiet));
    let input = args.input.clone();
    let worker_console = Arc::clone(&console);
    let is_first_process = config.process == 0;
    let open = move |worker: usize| -> neardup::Result<CheckedReader> {
        // Every worker reads the same records; only the first one of the
        // first process reports the skipped ones.
        let console = if worker == 0 && is_first_process {
            Arc::clone(&worker_console)
        } else {
            Arc::new(Console::new(true))
        };
        let reader = input.open(false).map_err(|e| neardup::Error::Config(format!("{e:#}")))?;
        Ok(CheckedReader { reader: ReportingReader::new(reader, console), ended: false })
    };
    let Some((outcome, reader)) =
        run_catching_lost_peers(|| scan_distributed(&config, &scanner, &resources, open))?
    else {
        console
            .warn(&format!("neardup: process {} of {} finished", config.process, config.processes));
        return Ok(ExitCode::SUCCESS);
    };
    reader.reader.finish(outcome.documents, args.input.strict)?;
    write_outputs(&args, &outcome)?;
    let s = &outcome.stats;
    console.warn(&format!(
        "neardup: {} documents on {} workers in {} processes in {:.1} s: {} related pairs in {} \
         clusters; {} documents in {} components (largest {}); {:.0} bytes per document between \
         processes",
        thousands(s.documents),
        s.workers,
        s.processes,
        s.seconds,
        thousands(outcome.pairs.len() as u64),
        thousands(outcome.clusters.len() as u64),
        thousands(s.documents_in_components),
        thousands(s.components),
        thousands(s.largest_component),
        s.remote_bytes_per_document,
    ));
    Ok(ExitCode::SUCCESS)
}

/// A worker's reader: the documents, then the error that stopped reading,
/// if one did (so that the worker fails rather than scan half its input).
struct CheckedReader {
    reader: ReportingReader,
    ended: bool,
}

impl Iterator for CheckedReader {
    type Item = neardup::Result<neardup::Document>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        match self.reader.next() {
            Some(doc) => Some(Ok(doc)),
            None => {
                self.ended = true;
                self.reader.fatal_message().map(|m| Err(neardup::Error::Config(m)))
            }
        }
    }
}

/// Runs `scan`, turning the panics with which timely's threads stop when a
/// peer process dies (or its connection breaks) into one error, so that
/// the user sees why the run stopped, not a dozen backtraces; nothing has
/// been written then.
fn run_catching_lost_peers<T>(scan: impl FnOnce() -> neardup::Result<T>) -> anyhow::Result<T> {
    let first: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = Arc::clone(&first);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".to_owned());
        seen.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(message);
    }));
    let result = std::panic::catch_unwind(AssertUnwindSafe(scan));
    drop(std::panic::take_hook());
    std::panic::set_hook(previous);
    let cause = first.lock().unwrap_or_else(|p| p.into_inner()).take();
    match (result, cause) {
        (Ok(Ok(value)), _) => Ok(value),
        (Ok(Err(e)), None) => Err(e.into()),
        (_, cause) => anyhow::bail!(
            "the cluster stopped ({}): a process died or a connection broke; no output was \
             written, run every process again",
            cause.as_deref().unwrap_or("a worker panicked")
        ),
    }
}

/// Writes the output files and stdout of process 0.
fn write_outputs(args: &ScanArgs, outcome: &DistributedOutcome) -> anyhow::Result<()> {
    let lines = |rows: &[String], w: &mut dyn Write| -> std::io::Result<()> {
        for row in rows {
            w.write_all(row.as_bytes())?;
            w.write_all(b"\n")?;
        }
        Ok(())
    };
    if let Some(path) = &args.output.pairs {
        write_atomically(path, |w| lines(&outcome.pairs, w))?;
    }
    if let Some(path) = &args.output.clusters {
        write_atomically(path, |w| lines(&outcome.clusters, w))?;
    }
    if let Some(path) = &args.output.stats {
        write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &outcome.stats)?;
            writeln!(w)
        })?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.output.format {
        StdoutFormat::Jsonl => lines(&outcome.pairs, &mut out)?,
        _ => writeln!(
            out,
            "{} documents: {} related pairs in {} clusters",
            thousands(outcome.documents),
            thousands(outcome.pairs.len() as u64),
            thousands(outcome.clusters.len() as u64)
        )?,
    }
    out.flush()?;
    Ok(())
}
