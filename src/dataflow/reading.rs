//! The first stages of a distributed scan: each worker reads its share of
//! the input, and the workers agree on document numbers.
//!
//! A single scan numbers documents in reading order and skips a record
//! whose id was seen before. Shares are stretches of the input in reading
//! order (`ingest::InputPlan`), so worker `w`'s documents come after those
//! of workers `0..w`: once each worker knows how many documents the workers
//! before it kept, it numbers its own as a single scan would. Before that,
//! ids repeated across shares are found at the worker that owns the id's
//! hash, which keeps the first (in reading order) and has the later ones
//! skipped, each reported with the place of the first, as a single reader
//! reports them.

use std::sync::Arc;

use xxhash_rust::xxh3::xxh3_128;

use crate::ingest::{Document, InputShare, Origin, RecordError, RecordErrorKind};
use crate::scan::MAX_DOCS;
use crate::{Error, Result};

use super::stages::{Owned, WorkerScan, encode_sketch, key_owner, load_sketch};

/// Which worker owns which documents: worker `w` read, and owns, the
/// documents numbered `starts[w]..starts[w + 1]`.
#[derive(Clone, Debug, Default)]
pub(super) struct Ownership {
    starts: Vec<u32>,
}

impl Ownership {
    /// The worker that owns document `doc`.
    pub(super) fn owner(&self, doc: u32) -> usize {
        self.starts.partition_point(|&s| s <= doc).saturating_sub(1)
    }
}

/// "None" in the numbers of an origin sent between workers.
const NONE: u64 = u64::MAX;

/// A reader of one share, as the caller wraps it: documents, then the
/// error that stopped reading, if one did.
pub trait ShareReader: Iterator<Item = Result<Document>> {
    /// Records skipped so far (and reported by the reader).
    fn skipped(&self) -> u64;
}

impl WorkerScan<'_, '_> {
    /// Checks that every worker listed the same input (`digest` of its
    /// plan): machines given other files, or files of other sizes, would
    /// cut other shares.
    pub fn check_plan(&mut self, digest: u64) {
        let peers = self.net.peers();
        let mut seen: Vec<u64> = Vec::new();
        self.net.round("input plan", (0..peers).map(|to| (to, digest)), |batch| seen.extend(batch));
        if seen.iter().any(|&d| d != digest) {
            self.net.fail(Error::Config(
                "the processes did not list the same input files (other files, or files of \
                 other sizes): every process must be given the same inputs, at the same paths"
                    .into(),
            ));
        }
    }

    /// Moves the pieces of split files in `share` to line starts, and
    /// numbers their lines from the counts of every worker's pieces.
    pub fn number_lines(&mut self, mut share: Option<&mut InputShare>) {
        let peers = self.net.peers();
        let counts = match share.as_mut() {
            Some(share) if !self.net.failed() => share.align_lines(),
            _ => Vec::new(),
        };
        let records =
            (0..peers).flat_map(|to| counts.iter().map(move |c| (to, (c.file, c.part, c.lines))));
        let mut all = Vec::new();
        self.net.round("line counts", records, |batch: Vec<(u32, u32, u64)>| {
            all.extend(batch.into_iter().map(|(file, part, lines)| crate::ingest::SplitLines {
                file,
                part,
                lines,
            }))
        });
        if let Some(share) = share {
            share.number_lines(&all);
        }
    }

    /// Reads and sketches this worker's share; documents are numbered in
    /// share order until [`Self::settle_numbers`].
    pub fn read(&mut self, documents: impl Iterator<Item = Result<Document>>) {
        for doc in documents {
            if self.net.failed() {
                break;
            }
            let doc = match doc {
                Ok(doc) => doc,
                Err(e) => {
                    self.net.fail(e);
                    break;
                }
            };
            if self.owned.len() as u64 >= MAX_DOCS {
                self.net.fail(Error::TooManyDocuments { limit: MAX_DOCS });
                break;
            }
            self.read_ids.push((xxh3_128(doc.id.as_bytes()), doc.origin.clone()));
            let local = self.owned.len() as u32;
            let sketch = self.scanner.sketch(doc);
            let content_hash = sketch.content_hash;
            match encode_sketch(&sketch).and_then(|bytes| self.sketches.append(&bytes)) {
                Ok(at) => self.owned.push(Owned {
                    doc: local,
                    sketch: at,
                    content_hash,
                    copy: false,
                    scanned_by: None,
                }),
                Err(e) => self.net.fail(e),
            }
        }
        self.counts.sketched = self.owned.len() as u64;
        let sealed = self.sketches.seal();
        self.net.attempt(|| sealed);
    }

    /// Skips documents whose id an earlier share holds, then gives every
    /// document the number a single scan gives it. `skipped`: records this
    /// worker's reader skipped. Returns the repeated ids found in this
    /// share, as the reader would have reported them.
    pub fn settle_numbers(&mut self, skipped: u64) -> Vec<RecordError> {
        let (me, peers) = (self.net.index() as u32, self.net.peers());
        let read_ids = std::mem::take(&mut self.read_ids);

        // The owner of each id hash sees every document with that id.
        let records = read_ids
            .iter()
            .enumerate()
            .map(|(i, (h, _))| (key_owner(*h as u64, peers), (*h, me, i as u32)));
        let mut ids: Vec<(u128, u32, u32)> = Vec::new();
        self.net.round("ids", records, |batch| ids.extend(batch));
        ids.sort_unstable();
        let mut repeats: Vec<(usize, (u32, u32, u32))> = Vec::new();
        for run in ids.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
            let (_, first_worker, first) = run[0];
            repeats
                .extend(run[1..].iter().map(|&(_, w, d)| (first_worker as usize, (first, w, d))));
        }
        drop(ids);

        // The first copy's worker tells each later one where it was read.
        let mut asked: Vec<(u32, u32, u32)> = Vec::new();
        self.net.round("repeated ids", repeats, |batch| asked.extend(batch));
        let answers = asked.into_iter().map(|(first, worker, later)| {
            let origin = &read_ids[first as usize].1;
            let numbers = (origin.line.unwrap_or(NONE), origin.record.unwrap_or(NONE));
            (worker as usize, (later, origin.source.to_string(), numbers))
        });
        let mut firsts: Vec<(u32, String, (u64, u64))> = Vec::new();
        self.net.round("first places", answers, |batch| firsts.extend(batch));
        firsts.sort_unstable_by_key(|f| f.0);
        firsts.dedup_by_key(|f| f.0);
        let problems = self.repeated_ids(&firsts, &read_ids);

        // Numbers: documents kept by the workers before this one come first.
        let kept = (self.owned.len() - firsts.len()) as u64;
        let skipped_here = skipped + firsts.len() as u64;
        let mut counts: Vec<(u32, u64, u64)> = Vec::new();
        let records = (0..peers).map(|to| (to, (me, kept, skipped_here)));
        self.net.round_always("document counts", records, |batch| counts.extend(batch));
        counts.sort_unstable();
        let mut starts = vec![0u64; peers + 1];
        for &(worker, kept, _) in &counts {
            starts[worker as usize + 1] = kept;
        }
        for w in 0..peers {
            starts[w + 1] += starts[w];
        }
        self.skipped = counts.iter().map(|c| c.2).sum();
        if starts[peers] > MAX_DOCS {
            self.net.fail(Error::TooManyDocuments { limit: MAX_DOCS });
            return problems;
        }
        self.ownership = Ownership { starts: starts.iter().map(|&s| s as u32).collect() };
        self.documents = starts[peers] as u32;
        let dropped: Vec<u32> = firsts.iter().map(|f| f.0).collect();
        let first_number = starts[me as usize] as u32;
        let mut next = first_number;
        self.owned.retain_mut(|o| {
            if dropped.binary_search(&o.doc).is_ok() {
                return false;
            }
            o.doc = next;
            next += 1;
            true
        });
        problems
    }

    /// The errors for documents of this share whose id was read first at
    /// `firsts` (local number, source, line and record numbers).
    fn repeated_ids(
        &mut self,
        firsts: &[(u32, String, (u64, u64))],
        read_ids: &[(u128, Origin)],
    ) -> Vec<RecordError> {
        let mut problems = Vec::new();
        for (local, source, (line, record)) in firsts {
            let Some(owned) = self.owned.get(*local as usize) else { continue };
            let id = match load_sketch(&self.sketches, owned.sketch) {
                Ok(sketch) => sketch.id,
                Err(e) => {
                    self.net.fail(e);
                    continue;
                }
            };
            let some = |n: u64| (n != NONE).then_some(n);
            let first = Origin {
                source: Arc::from(source.as_str()),
                line: some(*line),
                record: some(*record),
            };
            problems.push(RecordError {
                origin: read_ids[*local as usize].1.clone(),
                kind: RecordErrorKind::DuplicateId { id, first },
            });
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_follow_the_shares_even_empty_ones() {
        let ownership = Ownership { starts: vec![0, 0, 5, 5, 10] };
        let owners: Vec<usize> = (0..10).map(|d| ownership.owner(d)).collect();
        assert_eq!(owners, [1, 1, 1, 1, 1, 3, 3, 3, 3, 3]);
    }
}
