//! `neardup scan|dedup --workers N --processes P --process I [--hostfile
//! FILE]`: the scan (and deduplication) as a timely dataflow across threads
//! and processes (feature `cluster`; see [`neardup::dataflow`]).

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Args;
use neardup::Scanner;
use neardup::dataflow::{
    ClusterConfig, DistributedDedup, DistributedOutcome, KeptWriter, ShareReader, scan_distributed,
};
use neardup::dedup::DedupOptions;
use neardup::ingest::{DocumentReader, InputShare};
use neardup::report::thousands;

use super::args::{DetectArgs, InputArgs, ReportingReader, ResourceArgs};
use super::dedup::DedupArgs;
use super::output::{Compressed, StdoutFormat, write_atomically};
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
    /// Seconds a process waits for the others to connect before the run
    /// fails (processes may start in any order within that time).
    #[arg(long, value_name = "SECONDS", default_value_t = 120.0,
          value_parser = parse_connect_timeout)]
    pub connect_timeout: f64,
}

fn parse_connect_timeout(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 7.0 * 86_400.0 => Ok(s),
        _ => Err(format!("{text:?} is not a number of seconds from 0 to 604800 (a week)")),
    }
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
            connect_timeout: std::time::Duration::from_secs_f64(self.connect_timeout),
        })
    }
}

/// Runs a distributed `neardup scan`.
pub fn run(args: ScanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    if args.output.html.is_some() {
        anyhow::bail!(
            "--html is not available in a distributed scan: run `neardup report` on its --pairs and --clusters files"
        );
    }
    if matches!(args.output.format, StdoutFormat::Csv) {
        anyhow::bail!("--format csv is not available in a distributed scan: use --format jsonl");
    }
    let job = Job { input: &args.input, detect: &args.detect, resources: &args.resources };
    let Some((outcome, console)) = job.run(&args.cluster, quiet, None)? else {
        return Ok(ExitCode::SUCCESS);
    };
    write_outputs(&args, &outcome)?;
    console.warn(&summary(&outcome));
    Ok(ExitCode::SUCCESS)
}

/// Runs a distributed `neardup dedup`: each process writes the kept
/// records of its shares (`--output`, one part per process), process 0 the
/// `--removed` rows of all.
pub fn run_dedup(args: &DedupArgs, options: DedupOptions, quiet: bool) -> anyhow::Result<ExitCode> {
    let config = args.cluster.config()?;
    let output = part_path(&args.dedup.output, config.process, config.processes);
    let parts = Arc::new(WorkerOutputs::new(&output, &args.resources, &config)?);
    let opened = Arc::clone(&parts);
    let dedup =
        DistributedDedup { options, open_output: Box::new(move |worker| opened.open(worker)) };
    let job = Job { input: &args.input, detect: &args.detect, resources: &args.resources };
    let finished = job.run(&args.cluster, quiet, Some(dedup))?;
    parts.concatenate(&output)?;
    let Some((outcome, console)) = finished else {
        return Ok(ExitCode::SUCCESS);
    };
    if let Some(path) = &args.dedup.removed {
        super::dedup::write_output(path, |w| {
            let mut out = Compressed::for_path(path, w)?;
            lines(&outcome.removed, &mut out)?;
            out.finish()
        })?;
    }
    let c = outcome.stats.dedup.unwrap_or_default();
    console.warn(&summary(&outcome));
    console.warn(&format!(
        "neardup: kept {} of {} documents; dropped {} copies, {} aggregator pages, {} contained",
        thousands(c.kept),
        thousands(outcome.documents),
        thousands(c.copies),
        thousands(c.aggregators),
        thousands(c.contained),
    ));
    Ok(ExitCode::SUCCESS)
}

/// The output of process `process` of `processes`: `kept.jsonl.gz` itself
/// for one process or standard output, `kept-00001-of-00003.jsonl.gz` for
/// the second of three (the parts, concatenated in order, are the output of
/// a single `dedup`, compressed or not).
fn part_path(path: &Path, process: usize, processes: usize) -> PathBuf {
    if processes == 1 || path == Path::new("-") {
        return path.to_path_buf();
    }
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let (stem, extension) = match name.find('.') {
        Some(at) if at > 0 => name.split_at(at),
        _ => (name.as_str(), ""),
    };
    path.with_file_name(format!("{stem}-{process:05}-of-{processes:05}{extension}"))
}

/// The workers' kept records, each in a temporary file next to the output
/// until they are joined into it.
struct WorkerOutputs {
    dir: PathBuf,
    first_worker: usize,
    files: Mutex<Vec<Option<tempfile::TempPath>>>,
}

impl WorkerOutputs {
    fn new(
        output: &Path,
        resources: &ResourceArgs,
        config: &ClusterConfig,
    ) -> anyhow::Result<Self> {
        let dir = match output.parent() {
            _ if output == Path::new("-") => {
                resources.temp_dir.clone().unwrap_or_else(std::env::temp_dir)
            }
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(WorkerOutputs {
            dir,
            first_worker: config.process * config.workers,
            files: Mutex::new((0..config.workers).map(|_| None).collect()),
        })
    }

    /// Opens the temporary file of worker `worker` (numbered in the cluster).
    fn open(&self, worker: usize) -> neardup::Result<KeptWriter> {
        let file = tempfile::Builder::new()
            .prefix(".neardup-kept-")
            .tempfile_in(&self.dir)
            .map_err(|e| neardup::Error::io(&self.dir, e))?;
        let (file, path) = file.into_parts();
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = files.get_mut(worker - self.first_worker) {
            *slot = Some(path);
        }
        Ok(Box::new(std::io::BufWriter::with_capacity(1 << 20, file)))
    }

    /// Joins the workers' files, in worker order, into `output`
    /// (compressed as its name says), atomically.
    fn concatenate(&self, output: &Path) -> anyhow::Result<()> {
        let files = std::mem::take(&mut *self.files.lock().unwrap_or_else(|p| p.into_inner()));
        super::dedup::write_output(output, |w| {
            let mut out = Compressed::for_path(output, w)?;
            for path in files.iter().flatten() {
                std::io::copy(&mut std::fs::File::open(path)?, &mut out)?;
            }
            out.finish()
        })
    }
}

/// The part of a command that a distributed run needs.
struct Job<'a> {
    input: &'a InputArgs,
    detect: &'a DetectArgs,
    resources: &'a ResourceArgs,
}

impl Job<'_> {
    /// Runs this process's part; returns, in process 0, the outcome once
    /// the skipped records of this process were reported.
    fn run(
        &self,
        cluster: &ClusterArgs,
        quiet: bool,
        dedup: Option<DistributedDedup>,
    ) -> anyhow::Result<Option<(DistributedOutcome, Arc<Console>)>> {
        if self.input.paths.iter().any(|p| p == "-") {
            anyhow::bail!(
                "a distributed run splits its inputs between workers, which standard input \
                 cannot be: save it to a file and read that"
            );
        }
        let config = cluster.config()?;
        let scanner = Scanner::new(self.detect.config())?;
        let resources = self.resources.resources()?;
        let console = Arc::new(Console::new(quiet));
        let options = self.input.read_options(dedup.is_some());
        let worker_console = Arc::clone(&console);
        let share_options = options.clone();
        // Each worker reads its share and reports the records it skips.
        let open = move |share: InputShare| -> neardup::Result<CheckedReader> {
            let reader = DocumentReader::for_share(share, share_options.clone());
            let reader = ReportingReader::new(reader, Arc::clone(&worker_console));
            Ok(CheckedReader { reader, ended: false })
        };
        let inputs = self.input.inputs();
        let process = run_catching_lost_peers(|| {
            scan_distributed(&config, &scanner, &resources, inputs, &options, open, dedup)
        })?;
        let mut readers = process.readers.into_iter().map(|r| r.reader);
        let Some(mut reader) = readers.next() else {
            anyhow::bail!("no worker of this process finished reading");
        };
        readers.for_each(|other| reader.absorb(other));
        for problem in &process.problems {
            reader.report(problem);
        }
        // Each process reports its own skipped records; --strict and an
        // empty input are judged on the counts of all processes.
        reader.finish(process.documents, false)?;
        if self.input.strict && process.skipped > 0 {
            anyhow::bail!(
                "{} records were skipped in all processes and --strict is set",
                thousands(process.skipped)
            );
        }
        match process.outcome {
            Some(outcome) => Ok(Some((outcome, console))),
            None => {
                console.warn(&format!(
                    "neardup: process {} of {} finished",
                    config.process, config.processes
                ));
                Ok(None)
            }
        }
    }
}

/// The summary line of a distributed run.
fn summary(outcome: &DistributedOutcome) -> String {
    let s = &outcome.stats;
    format!(
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
    )
}

/// Writes `rows`, a line each.
fn lines(rows: &[String], w: &mut dyn Write) -> std::io::Result<()> {
    for row in rows {
        w.write_all(row.as_bytes())?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// A worker's reader: the documents, then the error that stopped reading,
/// if one did (so that the worker fails rather than scan half its input).
struct CheckedReader {
    reader: ReportingReader,
    ended: bool,
}

impl ShareReader for CheckedReader {
    fn skipped(&self) -> u64 {
        self.reader.skipped()
    }
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
