//! A scan across worker threads and processes, as a timely dataflow
//! (cargo feature `cluster`): [`scan_distributed`].
//!
//! # Why timely dataflow
//!
//! Crawl deduplication outgrows one machine. timely dataflow (Rust, the
//! engine under Materialize) gives what a shard-and-merge script would have
//! to build by hand: workers in threads and processes connected over TCP,
//! exchange channels routed by key, and progress tracking that says when
//! every worker's records for a step have arrived. Each step of the scan is
//! one keyed exchange (`exchange`); what a worker does with the records
//! it receives is the single-machine code. Its releases break the API at
//! every minor version, so the version is pinned exactly (`=0.32.0`).
//!
//! differential dataflow was considered for the grouping and the connected
//! components. Its collections are in-memory arrangements; the groupings
//! here (a billion shingles per 5 GB of text) must spill to disk as the
//! single-machine scan does, so they use this crate's spills between
//! exchanges. Connected components run at worker 0 over the candidate
//! pairs only (about one per ten documents on news crawls), with 4 bytes
//! per document.
//!
//! # What runs where
//!
//! `stages` lists the steps. Every worker lists the inputs and takes its
//! share: a stretch of the input in reading order, cut by bytes (whole
//! files, and line ranges of uncompressed JSONL files; see
//! [`crate::ingest::InputPlan`]). It reads and sketches only its share
//! (`reading`). Ids repeated across shares are found at the owner of the
//! id's hash, and document counts give each worker the numbers a single
//! scan gives its documents. Content hashes, shingles (for document
//! frequencies), band keys, passage fingerprints and candidate pairs then
//! move to the workers that own them (`candidates`). Candidate pairs and
//! links between exact copies form connected components; each component's
//! documents and candidate pairs go to one worker, which scans them as one
//! corpus (`components`). A deduplication decides there which documents to
//! drop; their numbers go back to the workers that read them, which write
//! the rest of their share (`kept`).
//!
//! # Same answer as a single scan
//!
//! The candidate pairs are those a single scan finds: the same buckets,
//! hubs and counts, only grouped on other workers. A component is closed
//! (every candidate pair and every copy of its members lies inside it), so
//! scanning its documents with its candidate pairs verifies, relates,
//! expands to copies, clusters and attributes exactly as the whole scan
//! does. Boilerplate is decided with the document frequencies of the whole
//! input ([`Scanner::with_known_frequent`], as the index does for a batch).
//! Rows are merged in the order a single scan writes them, and cluster ids
//! depend on their members only. A deduplication plan only follows links,
//! which never leave a component, so a component's plan is the whole
//! input's plan for its documents. `tests/cluster.rs` checks the output
//! byte for byte with 1 to 4 workers in one process and 1 to 3 processes of
//! 2 workers: also when most buckets are oversized, when a JSONL file is
//! split between shares (ids from line numbers, bad lines, an id repeated
//! across shares), and for `dedup`.
//!
//! # What crosses the network
//!
//! Per document: its id hash (24 bytes) and its content hash (20 bytes).
//! Per distinct document: its distinct
//! shingles (8 bytes each, for document frequencies; the largest share),
//! its band keys and kept passage fingerprints (8 bytes each); per pair of
//! documents in a bucket: 12 bytes; per document in a component: its sketch
//! (text, shingles, keys; about 7 kB compressed for a 3.7 kB article).
//! `DistributedStats` counts the bytes each round sent to other processes.
//!
//! # When a process dies
//!
//! timely has no fault tolerance: the other processes stop with an error,
//! and the job must be run again. Output is written only after worker 0
//! has heard from every worker and told all of them that every one
//! succeeded (the last round), so a failed run never leaves a result that
//! looks complete. A worker that fails on its own (unreadable input,
//! scratch storage full) keeps taking part, sending nothing, and reports
//! the failure at the end, so that no process waits forever. A process
//! that never starts fails the others after [`ClusterConfig::connect_timeout`];
//! one started with other settings is refused on connecting (`connect`).

mod candidates;
mod components;
mod connect;
mod exchange;
mod kept;
mod reading;
mod stages;

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::dedup::{DedupCounts, DedupOptions};
use crate::ingest::{DocumentReader, Input, InputShare, ReadOptions, RecordError};
use crate::scan::Scanner;
use crate::spill::Resources;
use crate::{Error, Result};

pub use exchange::RoundTraffic;
pub use kept::KeptWriter;
pub use reading::ShareReader;

/// First port of the default addresses (`localhost:2101`, `2102`, ...), as
/// timely's own default.
pub const DEFAULT_BASE_PORT: u16 = 2101;

/// Where the workers of a distributed scan run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Worker threads in each process (the same in every process).
    pub workers: usize,
    /// Number of processes.
    pub processes: usize,
    /// This process's index, from 0.
    pub process: usize,
    /// `host:port` of every process, in process order; `None`: all on this
    /// machine, at [`DEFAULT_BASE_PORT`] and up.
    pub addresses: Option<Vec<String>>,
    /// How long a process waits for the others to connect before the run
    /// fails.
    pub connect_timeout: std::time::Duration,
}

impl ClusterConfig {
    /// Reads `host:port` lines from a host file (blank lines and lines
    /// starting with `#` are skipped); the first `processes` are used.
    pub fn read_hostfile(path: &Path, processes: usize) -> Result<Vec<String>> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let hosts: Vec<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_owned)
            .collect();
        if hosts.len() < processes {
            return Err(Error::Config(format!(
                "{}: {} addresses for {processes} processes",
                path.display(),
                hosts.len()
            )));
        }
        if let Some(bad) = hosts.iter().find(|h| !h.contains(':')) {
            return Err(Error::Config(format!("{}: {bad:?} is not host:port", path.display())));
        }
        Ok(hosts.into_iter().take(processes).collect())
    }

    /// Checks the numbers.
    fn validate(&self) -> Result<()> {
        if self.workers == 0 || self.processes == 0 {
            return Err(Error::Config("workers and processes must be at least 1".into()));
        }
        if self.process >= self.processes {
            return Err(Error::Config(format!(
                "process {} does not exist: processes are numbered 0 to {}",
                self.process,
                self.processes - 1
            )));
        }
        Ok(())
    }

    /// `host:port` of every process.
    fn addresses(&self) -> Vec<String> {
        self.addresses.clone().unwrap_or_else(|| {
            (0..self.processes)
                .map(|i| format!("localhost:{}", usize::from(DEFAULT_BASE_PORT) + i))
                .collect()
        })
    }
}

/// What process 0 gets back from a distributed scan.
#[derive(Clone, Debug)]
pub struct DistributedOutcome {
    /// Documents read.
    pub documents: u64,
    /// Every related pair as a JSON line of the `--pairs` format, in the
    /// order a single scan writes them.
    pub pairs: Vec<String>,
    /// Every cluster as a JSON line of the `--clusters` format, in order.
    pub clusters: Vec<String>,
    /// When deduplicating: every dropped document as a JSON line of the
    /// `dedup --removed` format, in input order.
    pub removed: Vec<String>,
    /// Counts, traffic and timings.
    pub stats: DistributedStats,
}

/// Counts of a distributed scan.
#[derive(Clone, Debug, Default, Serialize)]
pub struct DistributedStats {
    /// Documents read.
    pub documents: u64,
    /// Records skipped by the readers of all processes (each process
    /// reports its own), with ids repeated across shares.
    pub skipped_records: u64,
    /// Workers in all processes.
    pub workers: usize,
    /// Processes.
    pub processes: usize,
    /// Frequent shingles (boilerplate candidates).
    pub frequent_shingles: u64,
    /// Candidate pairs.
    pub candidate_pairs: u64,
    /// Band buckets and passage groups too large to pair in full.
    pub oversized_groups: u64,
    /// Documents in a component (those scanned a second time, whole).
    pub documents_in_components: u64,
    /// Components of two or more documents.
    pub components: u64,
    /// Documents in the largest component.
    pub largest_component: u64,
    /// Payload bytes sent between processes.
    pub remote_bytes: u64,
    /// Payload bytes sent between workers of one process.
    pub local_bytes: u64,
    /// Payload bytes sent between processes, per document.
    pub remote_bytes_per_document: f64,
    /// When deduplicating: documents kept and dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dedup: Option<DedupCounts>,
    /// Seconds from start to the merged result.
    pub seconds: f64,
    /// This process's traffic, round by round (worker 0's view).
    pub rounds: Vec<RoundTraffic>,
}

/// What each worker thread hands back.
struct WorkerResult<R> {
    outcome: Option<DistributedOutcome>,
    error: Option<Error>,
    reader: Option<R>,
    problems: Vec<RecordError>,
    documents: u64,
    skipped: u64,
}

/// A deduplication run on the scan's result: what to drop, and where each
/// worker writes the records of its share that are kept (the workers'
/// outputs in worker order are the kept input, in reading order). The
/// input must be read with [`ReadOptions::keep_raw`] so that JSONL records
/// are written as read.
pub struct DistributedDedup {
    /// What to drop.
    pub options: DedupOptions,
    /// Opens worker `i`'s output.
    pub open_output: Box<dyn Fn(usize) -> Result<KeptWriter> + Send + Sync>,
}

/// What a distributed scan hands back to each process.
pub struct ProcessOutcome<R> {
    /// In process 0, the scan's result; `None` elsewhere.
    pub outcome: Option<DistributedOutcome>,
    /// The readers of this process's workers (with their counts of
    /// skipped records), in worker order.
    pub readers: Vec<R>,
    /// Records of this process's shares skipped after reading: ids read
    /// first in an earlier share.
    pub problems: Vec<RecordError>,
    /// Documents in all shares.
    pub documents: u64,
    /// Records skipped in all shares.
    pub skipped: u64,
}

/// Scans `inputs` as this process's share of the computation `config`
/// describes. Every worker lists the inputs and cuts the same shares
/// ([`DocumentReader::plan`]; the workers check that they did); `open`
/// turns a worker's share into its reader (usually
/// [`DocumentReader::for_share`] with the caller's reporting of skipped
/// records). A reader that yields an error fails its worker, and with it
/// the scan.
///
/// Fails when any worker of this process fails, and in process 0 when any
/// worker fails.
pub fn scan_distributed<R, F>(
    config: &ClusterConfig,
    scanner: &Scanner,
    resources: &Resources,
    inputs: Vec<Input>,
    read_options: &ReadOptions,
    open: F,
    dedup: Option<DistributedDedup>,
) -> Result<ProcessOutcome<R>>
where
    R: ShareReader + Send + 'static,
    F: Fn(InputShare) -> Result<R> + Send + Sync + 'static,
{
    config.validate()?;
    let started = Instant::now();
    let scanner = Arc::new(scanner.clone());
    let resources = resources.clone();
    let workers_per_process = config.workers;
    let processes = config.processes;
    let read_options = read_options.clone();
    let settings =
        settings_fingerprint(&scanner, &read_options, dedup.as_ref().map(|d| &d.options));
    let guards = connect::start_workers(config, settings, move |worker| {
        let net = exchange::Exchanger::new(worker, workers_per_process);
        let input = (inputs.clone(), &read_options, &open);
        run_worker(net, &scanner, &resources, input, dedup.as_ref(), (started, processes))
    })?;
    let mut process = ProcessOutcome {
        outcome: None,
        readers: Vec::new(),
        problems: Vec::new(),
        documents: 0,
        skipped: 0,
    };
    let mut error = None;
    for joined in guards.join() {
        match joined {
            Ok(result) => {
                if let Some(e) = result.error {
                    error.get_or_insert(e);
                }
                process.outcome = process.outcome.or(result.outcome);
                process.readers.extend(result.reader);
                process.problems.extend(result.problems);
                process.documents = result.documents;
                process.skipped = result.skipped;
            }
            Err(panic) => {
                error.get_or_insert(Error::Config(format!("a worker stopped: {panic}")));
            }
        }
    }
    match error {
        Some(e) => Err(e),
        None => Ok(process),
    }
}

/// A fingerprint of what every process must run alike: the command (scan
/// or dedup, with its options), the detection settings and how input is
/// read. Processes compare it when they connect.
fn settings_fingerprint(
    scanner: &Scanner,
    read_options: &ReadOptions,
    dedup: Option<&DedupOptions>,
) -> u64 {
    let detection = crate::index::manifest::config_fingerprint(scanner.config());
    let rest = format!("{detection} {read_options:?} {dedup:?}");
    xxhash_rust::xxh3::xxh3_64(rest.as_bytes())
}

/// One worker's whole run.
fn run_worker<R, F>(
    mut net: exchange::Exchanger<'_>,
    scanner: &Scanner,
    resources: &Resources,
    (inputs, read_options, open): (Vec<Input>, &ReadOptions, &F),
    dedup: Option<&DistributedDedup>,
    (started, processes): (Instant, usize),
) -> WorkerResult<R>
where
    R: ShareReader,
    F: Fn(InputShare) -> Result<R>,
{
    let (index, peers) = (net.index(), net.peers());
    let plan = net.attempt(|| DocumentReader::plan(inputs, read_options, peers).map(Some));
    let mut scan = stages::WorkerScan::new(net, scanner, resources);
    scan.check_plan(plan.as_ref().map_or(0, |p| p.digest()));
    // Every worker takes part in every round, also one that failed.
    let mut share = plan.map(|plan| plan.into_share(index));
    scan.number_lines(share.as_mut());
    let mut reader = None;
    if let Some(share) = share.filter(|_| !scan.net.failed()) {
        reader = scan.net.attempt(|| open(share).map(Some));
    }
    if let Some(reader) = reader.as_mut() {
        scan.read(reader.by_ref());
    }
    let problems = scan.settle_numbers(reader.as_ref().map_or(0, |r| r.skipped()));
    let copies = scan.copies();
    let frequent = scan.frequent_shingles();
    let candidates = scan.candidate_pairs(&frequent);
    scan.components(copies, candidates);
    let rows = scan.scan_components(frequent, dedup.map(|d| &d.options));
    if let Some(dedup) = dedup {
        let out = scan.net.attempt(|| (dedup.open_output)(index).map(Some));
        scan.write_kept(&rows.removed, out);
    }
    let rows = scan.gather(rows);
    // Worker 0 tells every worker whether all succeeded, so that no
    // process keeps output (a dedup's kept records) of a failed run.
    let verdict = u8::from(rows.as_ref().is_some_and(|r| r.failed.is_none()));
    let records = (0..peers).filter(|_| index == 0).map(|to| (to, verdict));
    let mut all_ok = false;
    scan.net.round_always("verdict", records, |batch: Vec<u8>| all_ok = batch.contains(&1));
    if !all_ok && !scan.net.failed() {
        scan.net.fail(Error::Cluster("another worker failed; no output written".into()));
    }
    let documents = scan.documents();
    let skipped = scan.skipped;
    let rounds = scan.net.traffic().to_vec();
    let (error, _) = scan.net.finish();
    let outcome = rows.and_then(|rows| {
        if rows.failed.is_some() {
            return None;
        }
        let c = rows.counts;
        Some(DistributedOutcome {
            documents,
            pairs: rows.pairs.into_iter().map(|p| p.2).collect(),
            clusters: rows.clusters.into_iter().map(|c| c.2).collect(),
            removed: rows.removed.into_iter().map(|r| r.1).collect(),
            stats: DistributedStats {
                documents,
                skipped_records: skipped,
                workers: peers,
                processes,
                frequent_shingles: c.frequent_shingles,
                candidate_pairs: c.candidate_pairs,
                oversized_groups: c.oversized_groups,
                documents_in_components: c.scanned,
                components: c.components,
                largest_component: c.largest_component,
                remote_bytes: c.remote_bytes,
                local_bytes: c.local_bytes,
                remote_bytes_per_document: c.remote_bytes as f64 / documents.max(1) as f64,
                dedup: dedup.map(|_| {
                    let dropped = c.dropped_copies + c.dropped_aggregators + c.dropped_contained;
                    DedupCounts {
                        kept: documents - dropped,
                        copies: c.dropped_copies,
                        aggregators: c.dropped_aggregators,
                        contained: c.dropped_contained,
                    }
                }),
                seconds: started.elapsed().as_secs_f64(),
                rounds,
            },
        })
    });
    // Worker 0 learns of another worker's failure from the gathered rows.
    let error = error.or_else(|| {
        (index == 0 && outcome.is_none())
            .then(|| Error::Cluster("another worker failed; no output written".into()))
    });
    WorkerResult { outcome, error, reader, problems, documents, skipped }
}
