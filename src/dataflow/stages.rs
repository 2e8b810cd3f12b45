//! The stages of a distributed scan, as one worker runs them.
//!
//! ```text
//! plan      every worker lists the inputs and takes its share (a stretch
//!           of the input in reading order); the workers check that they
//!           listed the same files and exchange line counts of split files
//! read      each worker reads and sketches its share (sketches to scratch
//!           storage); ids repeated across shares are found at the owner
//!           of the id's hash, and the later copies skipped; counts give
//!           each worker the numbers a single scan gives its documents
//! copies    (content hash, doc) → owner of the hash: groups of exact
//!           copies; each copy is told its representative
//! frequent  each distinct document's shingles → owner of the shingle:
//!           document frequencies; the frequent ones are broadcast
//! keys      band keys and passage fingerprints (boilerplate removed) →
//!           owner of the key: buckets; their pairs → owner of the pair:
//!           shared bands and passages counted, candidates kept; an
//!           oversized bucket (paired through a hub) becomes a star
//! components candidate pairs and copy links → worker 0: union-find;
//!           components spread over the workers (see `components`)
//! documents sketches and candidate pairs of each component → the worker
//!           that scans it as one corpus (verification, evidence,
//!           clusters, attribution: the single-machine code)
//! gather    output rows → worker 0, in single-scan order
//! ```

use std::sync::Mutex;

use rayon::slice::ParallelSliceMut;
use serde::{Deserialize, Serialize};

use crate::boilerplate::FrequentShingles;
use crate::ingest::Origin;
use crate::scan::{DocSketch, Scanner};
use crate::spill::{BlobRef, BlobStore, EntrySpill, Resources, Spill, mix};
use crate::{Error, Result};

use super::exchange::Exchanger;
use super::reading::Ownership;

/// Records per message when a worker sends a long list.
pub(super) const CHUNK: usize = 4096;
/// Partitions of an exchange's receiving spill on disk.
const DISK_PARTITIONS: usize = 64;

/// The worker that owns a hashed key.
pub(super) fn key_owner(key: u64, peers: usize) -> usize {
    (mix(key) % peers as u64) as usize
}

/// A document this worker read and sketched.
pub(super) struct Owned {
    pub(super) doc: u32,
    pub(super) sketch: BlobRef,
    pub(super) content_hash: Option<u128>,
    pub(super) copy: bool,
    /// The worker that scans its component, when it is in one.
    pub(super) scanned_by: Option<u32>,
}

/// Pairs of document numbers: links between exact copies, candidate pairs.
pub(super) type Links = Vec<(u32, u32)>;

/// Counts of one worker.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct WorkerCounts {
    /// Documents sketched by this worker.
    pub sketched: u64,
    /// Documents scanned by this worker (those of the components it got).
    pub scanned: u64,
    /// Components of two or more documents (worker 0 only).
    pub components: u64,
    /// Frequent shingles (the same on every worker).
    pub frequent_shingles: u64,
    /// Candidate pairs, found by this worker.
    pub candidate_pairs: u64,
    /// Groups too large to pair in full (paired through a hub), as this
    /// worker saw them.
    pub oversized_groups: u64,
    /// Bytes this worker sent to other processes, and to its own.
    pub remote_bytes: u64,
    /// Bytes sent to workers of the same process.
    pub local_bytes: u64,
    /// The largest component (worker 0 only).
    pub largest_component: u64,
    /// Copies a deduplication drops.
    pub dropped_copies: u64,
    /// Aggregator pages a deduplication drops.
    pub dropped_aggregators: u64,
    /// Contained documents a deduplication drops.
    pub dropped_contained: u64,
}

/// One worker's share of a distributed scan.
pub(super) struct WorkerScan<'a, 'w> {
    pub net: Exchanger<'w>,
    pub(super) scanner: &'a Scanner,
    pub(super) resources: &'a Resources,
    pub(super) sketches: BlobStore,
    pub(super) owned: Vec<Owned>,
    pub(super) documents: u32,
    /// Which worker read (and owns) which documents.
    pub(super) ownership: Ownership,
    /// Id hashes and places of the documents read, until ids are checked
    /// across workers.
    pub(super) read_ids: Vec<(u128, Origin)>,
    /// Records skipped by every worker's reader (and repeated ids).
    pub(super) skipped: u64,
    /// The candidate pairs of the components this worker scans.
    pub(super) candidates: Vec<(u32, u32)>,
    pub counts: WorkerCounts,
}

impl<'a, 'w> WorkerScan<'a, 'w> {
    /// A worker with scratch storage where `resources` says.
    pub fn new(net: Exchanger<'w>, scanner: &'a Scanner, resources: &'a Resources) -> Self {
        let mut net = net;
        let sketches =
            net.attempt(|| BlobStore::new(&resources.spill).map(Some)).unwrap_or_default();
        WorkerScan {
            net,
            scanner,
            resources,
            sketches,
            owned: Vec::new(),
            documents: 0,
            ownership: Ownership::default(),
            read_ids: Vec::new(),
            skipped: 0,
            candidates: Vec::new(),
            counts: WorkerCounts::default(),
        }
    }

    /// Number of documents read.
    pub fn documents(&self) -> u64 {
        u64::from(self.documents)
    }

    /// Groups exact copies; returns the edges from each representative to
    /// its copies (found here) and marks this worker's copies.
    pub fn copies(&mut self) -> Vec<(u32, u32)> {
        let peers = self.net.peers();
        let records = self
            .owned
            .iter()
            .filter_map(|o| o.content_hash.map(|h| ((h % peers as u128) as usize, (h, o.doc))));
        let mut hashes: Vec<(u128, u32)> = Vec::new();
        self.net.round("copies", records, |batch| hashes.extend(batch));
        hashes.sort_unstable();
        let mut edges = Vec::new();
        for run in hashes.chunk_by(|a, b| a.0 == b.0) {
            edges.extend(run[1..].iter().map(|&(_, copy)| (run[0].1, copy)));
        }
        let notices = edges.iter().map(|&(_, copy)| (self.ownership.owner(copy), copy));
        let mut copies: Vec<u32> = Vec::new();
        self.net.round("copy notices", notices, |batch| copies.extend(batch));
        copies.sort_unstable();
        for o in &mut self.owned {
            o.copy = copies.binary_search(&o.doc).is_ok();
        }
        edges
    }

    /// The shingles at least `min_df` distinct documents hold, counted by
    /// the workers that own them and broadcast to all.
    pub fn frequent_shingles(&mut self) -> FrequentShingles {
        let peers = self.net.peers();
        let error = Mutex::new(None);
        let mut spill = self.receiving_spill();
        let records = distinct_sketches(&self.owned, &self.sketches, &error).flat_map(|(_, s)| {
            let mut by_owner = vec![Vec::new(); peers];
            for &h in s.shingles.as_slice() {
                by_owner[key_owner(h, peers)].push(h);
            }
            by_owner.into_iter().enumerate().filter(|(_, v)| !v.is_empty())
        });
        let mut push_error = None;
        self.net.round("shingle frequencies", records, |batch: Vec<Vec<u64>>| {
            let Some(spill) = spill.as_mut() else { return };
            for h in batch.into_iter().flatten() {
                if let Err(e) = spill.push(spill.partition_of_hash(h), h, 0) {
                    push_error.get_or_insert(e);
                }
            }
        });
        self.take_errors(error, push_error);
        let min_df = self.scanner.config().boilerplate.min_df.max(2) as usize;
        let budget = self.resources.sort_entries();
        let mut frequent: Vec<u64> = Vec::new();
        if let Some(spill) = spill {
            self.net.attempt(|| {
                drain_runs(spill, budget, |run| {
                    if run.len() >= min_df {
                        frequent.push(run[0].0);
                    }
                })
            });
        }
        let records =
            (0..peers).flat_map(|to| frequent.chunks(CHUNK).map(move |c| (to, c.to_vec())));
        let mut all: Vec<u64> = Vec::new();
        self.net.round("frequent shingles", records, |batch: Vec<Vec<u64>>| {
            all.extend(batch.into_iter().flatten())
        });
        all.sort_unstable();
        all.dedup();
        self.counts.frequent_shingles = all.len() as u64;
        FrequentShingles::from_sorted(all)
    }

    /// A spill for the entries this worker receives in one round.
    pub(super) fn receiving_spill(&mut self) -> Option<EntrySpill> {
        let partitions = match self.resources.spill {
            Spill::Memory => 1,
            Spill::Dir(_) => DISK_PARTITIONS,
        };
        let resources = self.resources;
        self.net.attempt(|| resources.entry_spill(partitions).map(Some))
    }

    /// Fails the worker with the first error of a round, if any.
    pub(super) fn take_errors(&mut self, read: Mutex<Option<Error>>, push: Option<Error>) {
        let read = read.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = read.or(push) {
            self.net.fail(e);
        }
    }
}

/// Drains `spill` one sorted batch at a time (at most `budget` entries; all
/// entries of a key in one batch) and calls `f` with each run of entries
/// that share a key.
pub(super) fn drain_runs(
    spill: EntrySpill,
    budget: usize,
    mut f: impl FnMut(&[(u64, u32)]),
) -> Result<()> {
    spill.drain(
        budget,
        |key, _| key,
        |batch| {
            batch.par_sort_unstable();
            batch.chunk_by(|a, b| a.0 == b.0).for_each(&mut f);
            Ok(())
        },
    )
}

/// The sketch of each distinct, non-empty document of `owned`, with the
/// document; stops at the first read error, which goes to `error`.
pub(super) fn distinct_sketches<'s>(
    owned: &'s [Owned],
    store: &'s BlobStore,
    error: &'s Mutex<Option<Error>>,
) -> impl Iterator<Item = (&'s Owned, DocSketch)> + 's {
    owned.iter().filter(|o| !o.copy && o.content_hash.is_some()).map_while(move |o| {
        match load_sketch(store, o.sketch) {
            Ok(s) => Some((o, s)),
            Err(e) => {
                error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                None
            }
        }
    })
}

thread_local! {
    /// zstd contexts of this thread: making one per sketch cost more than
    /// the compression itself.
    static ZSTD: std::cell::RefCell<Option<(zstd::bulk::Compressor<'static>, zstd::bulk::Decompressor<'static>)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's zstd contexts.
fn with_zstd<T>(
    f: impl FnOnce(
        &mut zstd::bulk::Compressor<'static>,
        &mut zstd::bulk::Decompressor<'static>,
    ) -> std::io::Result<T>,
) -> std::io::Result<T> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some((zstd::bulk::Compressor::new(1)?, zstd::bulk::Decompressor::new()?));
        }
        let (c, d) = slot.as_mut().expect("set above");
        f(c, d)
    })
}

/// The stored (and sent) form of a sketch: its postcard length, then
/// postcard compressed with zstd at its fastest level, which shrinks the
/// text about threefold for a few percent of the time to sketch it.
pub(super) fn encode_sketch(sketch: &DocSketch) -> Result<Vec<u8>> {
    let bytes = postcard::to_allocvec(sketch).map_err(|e| scratch(std::io::Error::other(e)))?;
    let packed = with_zstd(|c, _| c.compress(&bytes)).map_err(scratch)?;
    let mut out = Vec::with_capacity(4 + packed.len());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&packed);
    Ok(out)
}

/// Reads back one stored sketch.
pub(super) fn load_sketch(store: &BlobStore, at: BlobRef) -> Result<DocSketch> {
    let stored = store.read(at).map_err(scratch)?;
    let corrupt = || scratch(std::io::Error::other("stored sketch is corrupt"));
    let (len, packed) = stored.split_at_checked(4).ok_or_else(corrupt)?;
    let len = u32::from_le_bytes(len.try_into().map_err(|_| corrupt())?) as usize;
    let bytes = with_zstd(|_, d| d.decompress(packed, len)).map_err(scratch)?;
    postcard::from_bytes(&bytes).map_err(|e| scratch(std::io::Error::other(e)))
}

pub(super) fn scratch(e: std::io::Error) -> Error {
    Error::io("<cluster scratch store>", e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sketch_survives_its_stored_form() {
        let scanner = Scanner::new(crate::ScanConfig::default()).unwrap();
        let text = "The council approved the new bridge on Tuesday after a long debate about \
                    its cost, its design and the years of traffic it would bring to town.";
        let sketch = scanner.sketch(crate::Document::new("a", text));
        assert!(sketch.shingles.len() > 10 && !sketch.band_keys.is_empty());
        let mut store = BlobStore::in_memory();
        let at = store.append(&encode_sketch(&sketch).unwrap()).unwrap();
        store.seal().unwrap();
        let back = load_sketch(&store, at).unwrap();
        assert_eq!(back.shingles, sketch.shingles);
        assert_eq!(back.fingerprints, sketch.fingerprints);
        assert_eq!(back.band_keys, sketch.band_keys);
        assert_eq!(
            (back.id, back.text, back.content_hash),
            (sketch.id, sketch.text, sketch.content_hash)
        );
        // A damaged blob is an error, not a panic.
        let mut bad = BlobStore::in_memory();
        let at = bad.append(b"not a sketch").unwrap();
        bad.seal().unwrap();
        assert!(load_sketch(&bad, at).is_err());
    }
}
