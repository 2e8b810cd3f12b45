//! `neardup index`: a persistent index for scheduled scans.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand};
use neardup::index::changes::write_cluster_changes_jsonl;
use neardup::index::state::cluster_name;
use neardup::index::{BatchMatch, Index, Wait, WriterLock, cluster_changes, match_batch};
use neardup::report::thousands;
use serde::Serialize;

use super::args::{InputArgs, ReportingReader, ResourceArgs};
use super::output::write_atomically;
use super::progress::Console;

/// Arguments of `neardup index`.
#[derive(Args, Debug)]
pub struct IndexArgs {
    #[command(subcommand)]
    command: IndexCommand,
}

#[derive(Subcommand, Debug)]
enum IndexCommand {
    /// Add documents: match them against themselves and everything indexed,
    /// store them, and report only what is new. Creates the index if DIR
    /// holds none.
    Add(BatchArgs),
    /// Match documents against the index without adding them.
    Query(BatchArgs),
    /// Sizes and counts.
    Stats(DirArgs),
    /// Read every file of the index and check it in full.
    Verify(DirArgs),
    /// Write every pair the index holds, as JSONL.
    Pairs(DirArgs),
    /// Write a self-contained HTML report of the pairs and clusters the
    /// index holds, with the texts it stores.
    Report(super::report::IndexReportArgs),
    /// Merge all segments into one, dropping what replaced documents left
    /// behind. Later adds read one segment instead of one per batch.
    Compact(CompactArgs),
}

/// Arguments of `index compact`.
#[derive(Args, Debug)]
struct CompactArgs {
    /// The index folder.
    #[arg(long, value_name = "DIR")]
    index: PathBuf,
    /// Seconds to wait for another writer to finish (0: fail at once,
    /// naming it).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    wait: u64,
}

/// Ends a batch's documents once more than `limit` have come, and says so.
struct BatchLimit<'a, I> {
    documents: &'a mut I,
    limit: u64,
    taken: u64,
    exceeded: bool,
}

impl<I: Iterator> Iterator for BatchLimit<'_, I> {
    type Item = I::Item;

    fn next(&mut self) -> Option<I::Item> {
        if self.exceeded {
            return None;
        }
        let next = self.documents.next()?;
        if self.taken == self.limit {
            self.exceeded = true;
            return None;
        }
        self.taken += 1;
        Some(next)
    }
}

/// The writer lock of `dir`, waiting up to `seconds`.
fn writer_lock(dir: &std::path::Path, seconds: u64) -> anyhow::Result<WriterLock> {
    let wait = if seconds == 0 { Wait::No } else { Wait::Up(Duration::from_secs(seconds)) };
    Ok(WriterLock::acquire(dir, wait)?)
}

/// The index folder.
#[derive(Args, Debug)]
struct DirArgs {
    /// The index folder.
    #[arg(long, value_name = "DIR")]
    index: PathBuf,
}

/// Arguments of `index add` and `index query`.
#[derive(Args, Debug)]
struct BatchArgs {
    /// The index folder.
    #[arg(long, value_name = "DIR")]
    index: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    #[command(flatten)]
    resources: ResourceArgs,
    /// Write the new pairs to FILE as JSONL (the records of `scan --pairs`,
    /// with the index's cluster ids).
    #[arg(long, value_name = "FILE")]
    pairs: Option<PathBuf>,
    /// Write the clusters this batch created or changed to FILE as JSONL
    /// (the records of `scan --clusters`, plus what changed: new, grown or
    /// merged, the new members, the absorbed cluster ids).
    #[arg(long, value_name = "FILE")]
    clusters: Option<PathBuf>,
    /// Exit with code 1 when new pairs were found (for cron wrappers).
    #[arg(long)]
    fail_on_new: bool,
    /// Seconds to wait for another writer to finish (0: fail at once,
    /// naming it).
    #[arg(long, default_value_t = 0, value_name = "SECONDS")]
    wait: u64,
    /// Refuse a batch of more documents than this, before it is matched
    /// or stored: a batch is held in memory, about 40–75 KB per document.
    /// Split larger inputs into several adds.
    #[arg(long, default_value_t = 250_000, value_name = "N")]
    max_batch_docs: u64,
}

/// Runs `neardup index`.
pub fn run(args: IndexArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    match args.command {
        IndexCommand::Add(batch) => run_batch(batch, quiet, true),
        IndexCommand::Query(batch) => run_batch(batch, quiet, false),
        IndexCommand::Stats(dir) => {
            let index = Index::open(&dir.index)?;
            print_json(&index.stats()?)?;
            Ok(ExitCode::SUCCESS)
        }
        IndexCommand::Verify(dir) => {
            let index = Index::open(&dir.index)?;
            let stats = index.verify()?;
            println!(
                "{}: ok ({} documents in {} segments, generation {})",
                dir.index.display(),
                thousands(stats.documents),
                stats.segments,
                stats.generation
            );
            Ok(ExitCode::SUCCESS)
        }
        IndexCommand::Pairs(dir) => {
            let index = Index::open(&dir.index)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            index.write_pairs_jsonl(&mut out)?;
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
        IndexCommand::Report(args) => super::report::run_index_report(args, quiet),
        IndexCommand::Compact(args) => {
            // Opened first for a clear error when there is no index, then
            // again under the lock: a writer may have committed meanwhile.
            Index::open(&args.index)?;
            let lock = writer_lock(&args.index, args.wait)?;
            let mut index = Index::open(&args.index)?;
            let started = Instant::now();
            match index.compact(&lock)? {
                None => println!("{}: one segment, nothing to compact", args.index.display()),
                Some(c) => println!(
                    "{}: {} segments ({}) merged into one ({}) in {:.1} s; {} replaced documents dropped",
                    args.index.display(),
                    c.segments_before,
                    megabytes(c.bytes_before),
                    megabytes(c.bytes_after),
                    started.elapsed().as_secs_f64(),
                    thousands(c.replaced)
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn print_json(value: &impl Serialize) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `index add` (`commit`) or `index query`.
fn run_batch(args: BatchArgs, quiet: bool, commit: bool) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let resources = args.resources.resources()?;
    let (lock, mut index) = if commit {
        std::fs::create_dir_all(&args.index)
            .with_context(|| format!("{}: cannot create the index folder", args.index.display()))?;
        let lock = writer_lock(&args.index, args.wait)?;
        let index = Index::open_or_create(&args.index, neardup::ScanConfig::default(), &lock)?;
        (Some(lock), index)
    } else {
        (None, Index::open(&args.index)?)
    };
    let console = Arc::new(Console::new(quiet));
    let mut reader = ReportingReader::new(args.input.open(false)?, Arc::clone(&console));
    let mut limited = BatchLimit {
        documents: &mut reader,
        limit: args.max_batch_docs,
        taken: 0,
        exceeded: false,
    };
    let matched = match_batch(&index, &mut limited, &resources, console.as_ref())?;
    if limited.exceeded {
        anyhow::bail!(
            "the batch holds more than {} documents (--max-batch-docs); nothing was {}. A batch \
             is held in memory, about 40–75 KB per document: split the input into several \
             adds, or raise the limit if memory allows",
            thousands(args.max_batch_docs),
            if commit { "added" } else { "matched" }
        );
    }
    reader.finish(matched.counts.read, args.input.strict)?;
    if let Some(path) = &args.pairs {
        // The records the segment keeps are the report.
        write_atomically(path, |w| w.write_all(&matched.segment.report))?;
    }
    if let Some(path) = &args.clusters {
        let records = cluster_changes(&index, &matched)?;
        write_atomically(path, |w| write_cluster_changes_jsonl(&records, w))?;
    }
    write_summary(&matched)?;
    let c = matched.counts.clone();
    let changes = matched.changes.clone();
    let generation = match &lock {
        Some(lock) if c.added > 0 || c.replaced > 0 => {
            Some(index.commit(lock, matched.segment, &matched.state)?)
        }
        _ => None,
    };
    console.warn(&format!(
        "neardup: {} documents read ({} added, {} replaced, {} already indexed) in {:.1} s: \
         {} new pairs, {} withdrawn; {} new clusters, {} grown, {} merged; scanned with {} stored \
         neighbours ({} rechecked for new boilerplate){}",
        thousands(c.read),
        thousands(c.added),
        thousands(c.replaced),
        thousands(c.unchanged),
        started.elapsed().as_secs_f64(),
        thousands(c.new_pairs),
        thousands(c.withdrawn_pairs),
        changes.new.len(),
        changes.grown.len(),
        changes.merged.len(),
        thousands(c.neighbours),
        thousands(c.rechecked),
        match generation {
            Some(g) => format!("; committed as generation {g}"),
            None if commit => "; nothing to commit".to_owned(),
            None => String::new(),
        }
    ));
    if args.fail_on_new && c.new_pairs > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The text summary on stdout: new pairs and cluster changes.
fn write_summary(matched: &BatchMatch) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let scan = &matched.scan;
    writeln!(out, "new pairs: {}", matched.new_edges.len())?;
    for &i in &matched.new_edges {
        let e = &scan.edges[i];
        writeln!(
            out,
            "  {} {} {} (jaccard {:.3})",
            neardup::report::terminal_safe(scan.id(e.a)),
            e.relation,
            neardup::report::terminal_safe(scan.id(e.b)),
            e.scores.jaccard()
        )?;
    }
    for (kept, absorbed) in &matched.changes.merged {
        let names: Vec<String> = absorbed.iter().map(|&c| cluster_name(c)).collect();
        writeln!(out, "cluster {} absorbed {}", cluster_name(*kept), names.join(", "))?;
    }
    out.flush()?;
    Ok(())
}
