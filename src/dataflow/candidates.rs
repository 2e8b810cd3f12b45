//! Candidate pairs across workers: the single-machine candidate pass
//! (`scan::candidate_pass`) with its groupings done by the owners of keys.
//!
//! ```text
//! owner of a document: band keys, passage fingerprints less boilerplate
//!     ──▶ owner of the key: buckets; each emits its pairs (through a hub
//!         when oversized: the first member of a band bucket, the smallest
//!         member of a passage group, whose size its owner is asked for),
//!         tagged with the view
//!     ──▶ owner of the pair: shared bands per view and shared passages
//!         counted; candidates kept
//! ```

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::boilerplate::FrequentShingles;
use crate::candidates::{GroupPairs, unpack};
use crate::passage::passage_hub;
use crate::scan::{PASSAGE_TAG, candidate_views};
use crate::spill::{EntrySpill, mix};

use super::exchange::WireSize;
use super::stages::{WorkerScan, distinct_sketches, drain_runs, key_owner};

/// What the owner of a document sends the owner of some of its keys.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct KeyRecord {
    doc: u32,
    /// Band entry keys of every view.
    bands: Vec<u64>,
    /// Passage fingerprints, boilerplate removed.
    passages: Vec<u64>,
}

impl WireSize for KeyRecord {
    fn wire_size(&self) -> usize {
        4 + self.bands.wire_size() + self.passages.wire_size()
    }
}

/// Adds received pair entries to `spill`, keeping the first error.
fn spill_pairs(spill: &mut Option<EntrySpill>, batch: Vec<(u64, u32)>, error: &mut Option<Error>) {
    let Some(spill) = spill.as_mut() else { return };
    for (pair, tag) in batch {
        if let Err(e) = spill.push(spill.partition_of_hash(mix(pair)), pair, tag) {
            error.get_or_insert(e);
        }
    }
}

impl WorkerScan<'_, '_> {
    /// The candidate pairs of the whole input, found as a single scan finds
    /// them: band keys and kept passage fingerprints meet at the owner of
    /// the key, each bucket emits its pairs (through a hub when oversized)
    /// to the owner of the pair, which counts shared bands per view and
    /// shared passages.
    pub fn candidate_pairs(&mut self, frequent: &FrequentShingles) -> Vec<(u32, u32)> {
        let peers = self.net.peers();
        let scanner = self.scanner;
        let error = Mutex::new(None);
        let mut spills = [self.receiving_spill(), self.receiving_spill()];
        // Content sizes of this worker's documents (sorted by document),
        // asked for by the owners of oversized passage groups.
        let sizes: Mutex<Vec<(u32, u32)>> = Mutex::default();
        let records = distinct_sketches(&self.owned, &self.sketches, &error).flat_map(|(o, s)| {
            let split = if frequent.any_in(&s.shingles) {
                scanner.boilerplate_split(&s.text, frequent)
            } else {
                None
            };
            let (content_len, removed) = split.unwrap_or((s.shingles.len(), Vec::new()));
            sizes.lock().unwrap_or_else(|p| p.into_inner()).push((o.doc, content_len as u32));
            let mut by_owner: Vec<KeyRecord> =
                (0..peers).map(|_| KeyRecord { doc: o.doc, ..KeyRecord::default() }).collect();
            for key in s.band_entries() {
                by_owner[key_owner(key, peers)].bands.push(key);
            }
            for &key in s.fingerprints.iter().filter(|f| removed.binary_search(f).is_err()) {
                by_owner[key_owner(key, peers)].passages.push(key);
            }
            by_owner
                .into_iter()
                .enumerate()
                .filter(|(_, r)| !r.bands.is_empty() || !r.passages.is_empty())
        });
        let mut push_error = None;
        self.net.round("bucket keys", records, |batch: Vec<KeyRecord>| {
            for record in batch {
                for (spill, keys) in spills.iter_mut().zip([record.bands, record.passages]) {
                    let Some(spill) = spill.as_mut() else { continue };
                    for key in keys {
                        if let Err(e) = spill.push(spill.partition_of_hash(key), key, record.doc) {
                            push_error.get_or_insert(e);
                        }
                    }
                }
            }
        });
        self.take_errors(error, push_error);

        // Each bucket's pairs, tagged with their view (passages:
        // PASSAGE_TAG), streamed to the owner of the pair as the buckets
        // are read.
        let config = self.scanner.config();
        let mut groups =
            [GroupPairs::new(config.bucket_cap), GroupPairs::new(config.passage.group_cap)];
        let budget = self.resources.sort_entries();
        let mut pair_spill = self.receiving_spill();
        let mut push_error = None;
        // Oversized passage groups wait for their members' content sizes,
        // which pick the hub.
        let mut oversized_passages: Vec<Vec<u32>> = Vec::new();
        let passage_cap = config.passage.group_cap;
        let [bands, passages] = spills;
        self.net.round_from(
            "pair entries",
            |send| {
                for (kind, spill) in [bands, passages].into_iter().enumerate() {
                    let Some(spill) = spill else { continue };
                    let groups = &mut groups[kind];
                    let oversized = &mut oversized_passages;
                    let mut members = Vec::new();
                    drain_runs(spill, budget, |run| {
                        members.clear();
                        members.extend(run.iter().map(|e| e.1));
                        members.dedup();
                        if members.len() < 2 {
                            return;
                        }
                        if kind == 1 && members.len() > passage_cap {
                            oversized.push(members.clone());
                            return;
                        }
                        let tag =
                            if kind == 0 { ((run[0].0 >> 8) & 0xff) as u32 } else { PASSAGE_TAG };
                        // A band bucket's hub is its first member.
                        groups.emit(&members, members[0], |pair| {
                            send(key_owner(pair, peers), (pair, tag))
                        });
                    })?;
                }
                Ok(())
            },
            |batch| spill_pairs(&mut pair_spill, batch, &mut push_error),
        );
        let sizes = sizes.into_inner().unwrap_or_else(|p| p.into_inner());
        let size_of = self.content_sizes(&oversized_passages, &sizes);
        let passage_groups = &mut groups[1];
        self.net.round_from(
            "hub pairs",
            |send| {
                for members in &oversized_passages {
                    let size = |d: u32| size_of.get(&d).copied().unwrap_or(0);
                    let hub = passage_hub(members, size);
                    passage_groups.emit(members, hub, |pair| {
                        send(key_owner(pair, peers), (pair, PASSAGE_TAG))
                    });
                }
                Ok(())
            },
            |batch| spill_pairs(&mut pair_spill, batch, &mut push_error),
        );
        self.take_errors(Mutex::new(None), push_error);
        let [bands, passages] = groups;
        self.counts.oversized_groups =
            (bands.into_report().count + passages.into_report().count) as u64;

        // Each pair's shared bands per view and shared passages, counted by
        // the owner of the pair, decide whether it is a candidate.
        let min_shared = config.passage.min_shared;
        let mut candidates = Vec::new();
        if let Some(spill) = pair_spill {
            self.net.attempt(|| {
                drain_runs(spill, budget, |run| {
                    if candidate_views(run.iter().map(|e| e.1), min_shared).contains(&true) {
                        candidates.push(unpack(run[0].0));
                    }
                })
            });
        }
        self.counts.candidate_pairs = candidates.len() as u64;
        candidates
    }

    /// The content sizes of the members of `groups`, asked of the workers
    /// that own them (`sizes`: this worker's, sorted by document).
    fn content_sizes(&mut self, groups: &[Vec<u32>], sizes: &[(u32, u32)]) -> HashMap<u32, u32> {
        let (me, peers) = (self.net.index() as u32, self.net.peers());
        let mut asked: Vec<u32> = groups.iter().flatten().copied().collect();
        asked.sort_unstable();
        asked.dedup();
        let mut by_owner: Vec<Vec<u32>> = vec![Vec::new(); peers];
        for d in asked {
            by_owner[self.ownership.owner(d)].push(d);
        }
        let records = by_owner.into_iter().enumerate().filter(|(_, v)| !v.is_empty());
        let mut questions: Vec<(u32, Vec<u32>)> = Vec::new();
        self.net.round("hub sizes asked", records.map(|(to, v)| (to, (me, v))), |batch| {
            questions.extend(batch)
        });
        let answers = questions.into_iter().map(|(from, docs)| {
            let answer: Vec<(u32, u32)> = docs
                .into_iter()
                .map(|d| {
                    let at = sizes.binary_search_by_key(&d, |e| e.0);
                    (d, at.map_or(0, |i| sizes[i].1))
                })
                .collect();
            (from as usize, answer)
        });
        let mut size_of = HashMap::new();
        self.net.round("hub sizes", answers, |batch: Vec<Vec<(u32, u32)>>| {
            size_of.extend(batch.into_iter().flatten())
        });
        size_of
    }
}
