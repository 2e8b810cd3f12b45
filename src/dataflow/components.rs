//! Components of the candidate graph, each scanned whole by one worker,
//! and the rows of all workers merged at worker 0.
//!
//! A component (candidate pairs and links between exact copies, joined) is
//! closed: a scan of its documents with its candidate pairs verifies,
//! relates and clusters them exactly as a scan of everything does.
//! Components go to workers largest first, each to the least loaded.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::boilerplate::FrequentShingles;
use crate::dedup::{DedupOptions, DedupPlan, DropReason};
use crate::progress::Silent;
use crate::report::Report;
use crate::scan::Scanner;
use crate::spill::{BlobRef, BlobStore, Resources};
use crate::{Error, Result};

use super::exchange::WireSize;
use super::stages::{CHUNK, Links, WorkerCounts, WorkerScan, load_sketch, scratch};

/// A pair's JSON line with the numbers of its documents in input order
/// (which order pair lines as a single scan does).
pub(super) type PairLine = (u32, u32, String);
/// A cluster's JSON line with its size and id (which order cluster lines).
pub(super) type ClusterLine = (u32, String, String);

/// One worker's output rows and counts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Rows {
    /// `(a, b, JSON)` of each related pair, `a` and `b` numbered in input
    /// order.
    pub pairs: Vec<PairLine>,
    /// `(size, id, JSON)` of each cluster.
    pub clusters: Vec<ClusterLine>,
    /// `(doc, JSON, why)` of each document a deduplication drops.
    pub removed: Vec<(u32, String, DropReason)>,
    /// What the worker counted.
    pub counts: WorkerCounts,
    /// The error of a worker that failed.
    pub failed: Option<String>,
}

impl WireSize for Rows {
    fn wire_size(&self) -> usize {
        self.pairs.iter().map(|p| 8 + p.2.len()).sum::<usize>()
            + self.clusters.iter().map(|c| 4 + c.1.len() + c.2.len()).sum::<usize>()
            + self.removed.iter().map(|r| 4 + r.1.len()).sum::<usize>()
    }
}
impl WorkerScan<'_, '_> {
    /// Connected components of the candidate pairs and the links between
    /// exact copies (all of them meet at worker 0), each given to one
    /// worker: every worker learns which worker scans each of its
    /// documents, and gets the candidate pairs of the components it scans.
    pub fn components(&mut self, copies: Vec<(u32, u32)>, candidates: Vec<(u32, u32)>) {
        let peers = self.net.peers();
        let n = self.documents as usize;
        let mut parent: Vec<u32> =
            if self.net.index() == 0 { (0..n as u32).collect() } else { Vec::new() };
        let mut all_candidates: Vec<(u32, u32)> = Vec::new();
        let records: Vec<(usize, (Links, Links))> = copies
            .chunks(CHUNK)
            .map(|c| (0, (c.to_vec(), Vec::new())))
            .chain(candidates.chunks(CHUNK).map(|c| (0, (Vec::new(), c.to_vec()))))
            .collect();
        drop((copies, candidates));
        self.net.round("component edges", records, |batch: Vec<(Links, Links)>| {
            for (copies, candidates) in batch {
                for &(a, b) in copies.iter().chain(&candidates) {
                    union(&mut parent, a, b);
                }
                all_candidates.extend(candidates);
            }
        });
        let mut assignments: Vec<Vec<(u32, u32)>> = vec![Vec::new(); peers];
        let mut pairs_for: Vec<Vec<(u32, u32)>> = vec![Vec::new(); peers];
        if !parent.is_empty() {
            let mut size = vec![0u32; n];
            for d in 0..n as u32 {
                let root = find(&mut parent, d);
                size[root as usize] += 1;
            }
            let mut components: Vec<(u32, u32)> = (0..n as u32)
                .filter(|&d| parent[d as usize] == d && size[d as usize] > 1)
                .map(|d| (size[d as usize], d))
                .collect();
            // Largest first, each to the least loaded worker.
            components.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            self.counts.largest_component = components.first().map_or(0, |c| u64::from(c.0));
            self.counts.components = components.len() as u64;
            let mut load = vec![0u64; peers];
            let mut worker_of_root = vec![u32::MAX; n];
            for &(members, root) in &components {
                let least = (0..peers).min_by_key(|&w| (load[w], w)).unwrap_or(0);
                load[least] += u64::from(members);
                worker_of_root[root as usize] = least as u32;
            }
            for d in 0..n as u32 {
                let worker = worker_of_root[parent[d as usize] as usize];
                if worker != u32::MAX {
                    assignments[self.ownership.owner(d)].push((d, worker));
                }
            }
            for &(a, b) in &all_candidates {
                let worker = worker_of_root[parent[a as usize] as usize] as usize;
                pairs_for[worker].push((a, b));
            }
        }
        let records = assignments.into_iter().enumerate().flat_map(|(to, list)| {
            list.chunks(CHUNK).map(|c| (to, c.to_vec())).collect::<Vec<_>>()
        });
        let mut got: Vec<(u32, u32)> = Vec::new();
        self.net.round("component assignments", records, |batch: Vec<Vec<(u32, u32)>>| {
            got.extend(batch.into_iter().flatten())
        });
        for (doc, worker) in got {
            if let Ok(i) = self.owned.binary_search_by_key(&doc, |o| o.doc) {
                self.owned[i].scanned_by = Some(worker);
            }
        }
        let records = pairs_for.into_iter().enumerate().flat_map(|(to, list)| {
            list.chunks(CHUNK).map(|c| (to, c.to_vec())).collect::<Vec<_>>()
        });
        let mut mine: Vec<(u32, u32)> = Vec::new();
        self.net.round("candidates to scan", records, |batch: Vec<Vec<(u32, u32)>>| {
            mine.extend(batch.into_iter().flatten())
        });
        self.candidates = mine;
    }

    /// Sends each document of a component to the worker that scans it,
    /// scans what this worker got, and gathers every worker's rows at
    /// worker 0 (the only worker that returns them).
    pub fn scan_components(
        &mut self,
        frequent: FrequentShingles,
        dedup: Option<&DedupOptions>,
    ) -> Rows {
        let error = Mutex::new(None);
        let store = &self.sketches;
        let records = self.owned.iter().filter_map(|o| o.scanned_by.map(|w| (w, o))).map_while(
            |(worker, o)| match store.read(o.sketch) {
                Ok(bytes) => Some((worker as usize, (o.doc, bytes))),
                Err(e) => {
                    error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(scratch(e));
                    None
                }
            },
        );
        let mut received = self.net.attempt(|| BlobStore::new(&self.resources.spill).map(Some));
        let mut index: Vec<(u32, BlobRef)> = Vec::new();
        let mut push_error = None;
        self.net.round("documents", records, |batch: Vec<(u32, Vec<u8>)>| {
            let Some(store) = received.as_mut() else { return };
            for (doc, bytes) in batch {
                match store.append(&bytes) {
                    Ok(at) => index.push((doc, at)),
                    Err(e) => {
                        push_error.get_or_insert(e);
                    }
                }
            }
        });
        self.take_errors(error, push_error);
        index.sort_unstable_by_key(|e| e.0);
        self.counts.scanned = index.len() as u64;
        let mut rows = Rows::default();
        if let Some(store) = received.filter(|_| !index.is_empty()) {
            let scanned = self.net.attempt(|| {
                let candidates = std::mem::take(&mut self.candidates);
                let received = Received { store, index: &index, candidates };
                scan_received(self.scanner, self.resources, frequent, received, dedup).map(Some)
            });
            if let Some(scanned) = scanned {
                rows = scanned;
            }
        }
        let c = &mut self.counts;
        for r in &rows.removed {
            match r.2 {
                DropReason::Copy => c.dropped_copies += 1,
                DropReason::Aggregator => c.dropped_aggregators += 1,
                DropReason::Contained => c.dropped_contained += 1,
            }
        }
        rows
    }

    /// Sends this worker's rows and counts to worker 0, which returns all
    /// of them in single-scan order.
    pub(super) fn gather(&mut self, mut rows: Rows) -> Option<Rows> {
        let (failed, traffic) = (self.net.failed(), self.net.traffic());
        self.counts.remote_bytes = traffic.iter().map(|t| t.remote_bytes).sum();
        self.counts.local_bytes = traffic.iter().map(|t| t.local_bytes).sum();
        rows.counts = self.counts.clone();
        if failed {
            rows.failed = Some(format!("worker {} failed", self.net.index()));
        }
        let mut all: Vec<Rows> = Vec::new();
        // The gather round sends even from a failed worker: worker 0 must
        // learn of the failure rather than write a partial result.
        self.net.round_always("gather", std::iter::once((0, rows)), |batch| all.extend(batch));
        if self.net.index() != 0 {
            return None;
        }
        let mut merged = Rows::default();
        for r in all {
            merged.pairs.extend(r.pairs);
            merged.clusters.extend(r.clusters);
            merged.removed.extend(r.removed);
            let c = &mut merged.counts;
            c.sketched += r.counts.sketched;
            c.scanned += r.counts.scanned;
            c.components = c.components.max(r.counts.components);
            c.frequent_shingles = c.frequent_shingles.max(r.counts.frequent_shingles);
            c.candidate_pairs += r.counts.candidate_pairs;
            c.oversized_groups += r.counts.oversized_groups;
            c.remote_bytes += r.counts.remote_bytes;
            c.local_bytes += r.counts.local_bytes;
            c.largest_component = c.largest_component.max(r.counts.largest_component);
            c.dropped_copies += r.counts.dropped_copies;
            c.dropped_aggregators += r.counts.dropped_aggregators;
            c.dropped_contained += r.counts.dropped_contained;
            if merged.failed.is_none() {
                merged.failed = r.failed;
            }
        }
        merged.pairs.sort_unstable_by_key(|p| (p.0, p.1));
        merged.removed.sort_unstable_by_key(|r| r.0);
        merged.clusters.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        Some(merged)
    }
}

/// The documents a worker received (whole components) and their
/// candidate pairs.
struct Received<'a> {
    store: BlobStore,
    index: &'a [(u32, BlobRef)],
    candidates: Vec<(u32, u32)>,
}

/// Scans the received documents as one corpus and returns its pair rows,
/// cluster rows and, when deduplicating, the rows of dropped documents.
fn scan_received(
    scanner: &Scanner,
    resources: &Resources,
    frequent: FrequentShingles,
    received: Received<'_>,
    dedup: Option<&DedupOptions>,
) -> Result<Rows> {
    let Received { mut store, index, candidates } = received;
    store.seal()?;
    let error = Mutex::new(None);
    let sketches = index.iter().map_while(|&(_, at)| match load_sketch(&store, at) {
        Ok(s) => Some(s),
        Err(e) => {
            error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
            None
        }
    });
    let local = |doc: u32| index.binary_search_by_key(&doc, |e| e.0).ok().map(|i| i as u32);
    let mut pairs = Vec::with_capacity(candidates.len());
    for (a, b) in candidates {
        match (local(a), local(b)) {
            (Some(a), Some(b)) => pairs.push((a, b)),
            _ => {
                return Err(Error::Config(format!(
                    "candidate pair ({a}, {b}) outside its component"
                )));
            }
        }
    }
    let scanner = scanner.clone().with_known_frequent(frequent);
    let outcome = scanner.scan_candidates_with(sketches, pairs, resources, &Silent)?;
    if let Some(e) = error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let global = |local: u32| index[local as usize].0;
    let report = Report::new(&outcome);
    let json = |e: serde_json::Error| Error::io("<cluster output>", std::io::Error::other(e));
    let mut rows = Rows::default();
    for (i, edge) in outcome.edges.iter().enumerate() {
        let evidence = outcome.evidence(i)?;
        let line = serde_json::to_string(&report.pair(edge, &evidence)).map_err(json)?;
        rows.pairs.push((global(edge.a), global(edge.b), line));
    }
    for record in report.clusters() {
        let line = serde_json::to_string(&record).map_err(json)?;
        rows.clusters.push((record.size as u32, record.id.to_string(), line));
    }
    if let Some(options) = dedup {
        // A component holds every link of its documents, so its plan is
        // the whole input's plan for them.
        let plan = DedupPlan::new(&outcome, options)?;
        let mut lines = Vec::new();
        plan.write_removed(&outcome, &mut lines)?;
        let lines = String::from_utf8(lines).map_err(|e| json(serde::de::Error::custom(e)))?;
        for (removal, line) in plan.removals.iter().zip(lines.lines()) {
            rows.removed.push((global(removal.doc), line.to_owned(), removal.reason));
        }
    }
    Ok(rows)
}

/// The root of `x`, halving paths on the way.
fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let up = parent[parent[x as usize] as usize];
        parent[x as usize] = up;
        x = up;
    }
    x
}

/// Joins the sets of `a` and `b`; the smaller root becomes the root.
fn union(parent: &mut [u32], a: u32, b: u32) {
    if parent.len() <= a.max(b) as usize {
        return;
    }
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (low, high) = (ra.min(rb), ra.max(rb));
        parent[high as usize] = low;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_find_joins_chains_and_keeps_the_smallest_root() {
        let mut parent: Vec<u32> = (0..6).collect();
        union(&mut parent, 4, 5);
        union(&mut parent, 1, 5);
        union(&mut parent, 2, 3);
        let roots: Vec<u32> = (0..6).map(|d| find(&mut parent, d)).collect();
        assert_eq!(roots, [0, 1, 2, 2, 1, 1]);
    }
}
