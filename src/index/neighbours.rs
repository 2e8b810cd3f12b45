//! The stored documents a batch must be scanned with: for each band key
//! and passage fingerprint of the focus documents (the batch, and stored
//! documents whose boilerplate changed), the stored holders a scan of the
//! whole collection could pair them with through that key.
//!
//! A scan pairs all the holders of a key only while there are at most
//! `cap` of them (`bucket_cap` for band keys, `passage.group_cap` for
//! fingerprints). Beyond that it pairs every holder with one hub: the
//! first holder in document order for a band key, the holder with the
//! smallest content for a fingerprint ([`crate::passage::passage_hub`]).
//! So for a crowded key only the hub is a neighbour, unless the hub is a
//! focus document itself, when every holder is. This is what keeps the
//! neighbourhood of a batch small when its pages share site chrome and
//! syndicated passages with thousands of stored pages.
//!
//! Two approximations, both documented in the matcher: the fingerprint
//! hub is chosen by token count (a stored document's content size after
//! boilerplate removal is not kept), and a stored holder counts even where
//! the key is boilerplate for it (its text is not read to find out).

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

/// Which kind of key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyKind {
    /// A band key of one of the views.
    Band,
    /// A passage fingerprint.
    Passage,
}

/// The keys of the focus documents and what is known about their holders.
pub struct FocusKeys {
    /// `(kind, key, focus document holding it)`, sorted once all are added
    /// (with the keys a scan would keep for them: boilerplate fingerprints
    /// are left out). A flat list: a large batch has tens of millions.
    holders: Vec<(KeyKind, u64, u32)>,
    sorted: bool,
    /// Focus documents that are stored (their stored postings hold keys a
    /// scan would drop, so only the keys above count for them).
    stored_focus: HashSet<u32>,
}

impl FocusKeys {
    /// No keys yet.
    pub fn new() -> Self {
        FocusKeys { holders: Vec::new(), sorted: true, stored_focus: HashSet::new() }
    }

    /// Adds the keys of focus document `doc` (`stored`: it is already in
    /// the index).
    pub fn add(&mut self, doc: u32, stored: bool, bands: &[u64], passages: &[u64]) {
        if stored {
            self.stored_focus.insert(doc);
        }
        self.holders.extend(bands.iter().map(|&k| (KeyKind::Band, k, doc)));
        self.holders.extend(passages.iter().map(|&k| (KeyKind::Passage, k, doc)));
        self.sorted = false;
    }

    fn sort(&mut self) {
        if !self.sorted {
            self.holders.par_sort_unstable();
            self.holders.dedup();
            self.sorted = true;
        }
    }

    /// The distinct keys of `kind`, sorted.
    pub fn keys(&mut self, kind: KeyKind) -> Vec<u64> {
        self.sort();
        let mut out: Vec<u64> = self.holders.iter().filter(|k| k.0 == kind).map(|k| k.1).collect();
        out.dedup();
        out
    }

    /// The focus documents holding `(kind, key)`, ascending.
    fn focus_of(&self, kind: KeyKind, key: u64) -> &[(KeyKind, u64, u32)] {
        let start = self.holders.partition_point(|h| (h.0, h.1) < (kind, key));
        let len = self.holders[start..].partition_point(|h| (h.0, h.1) == (kind, key));
        &self.holders[start..start + len]
    }

    /// The stored documents to scan with the focus documents, given the
    /// live stored holders of the keys (`(kind, key, doc)`), the caps, what
    /// a pair must share to be a candidate (`min_shared[tag]`: bands of
    /// view 0, 1, 2, then fingerprints) and each document's size in tokens.
    pub fn neighbours(
        &mut self,
        mut stored: Vec<(KeyKind, u64, u32)>,
        band_cap: usize,
        passage_cap: usize,
        min_shared: [u32; 4],
        tokens: impl Fn(u32) -> u32,
    ) -> HashSet<u32> {
        self.sort();
        stored.par_sort_unstable();
        stored.dedup();
        // Keys shared by (focus document, stored document), per tag.
        let mut shared: HashMap<(u32, u32), [u32; 4]> = HashMap::new();
        let mut members: Vec<u32> = Vec::new();
        let mut focus: Vec<u32> = Vec::new();
        for run in stored.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            let (kind, key) = (run[0].0, run[0].1);
            focus.clear();
            focus.extend(self.focus_of(kind, key).iter().map(|h| h.2));
            // Stored holders as a scan would see them, then the batch's.
            members.clear();
            members.extend(
                run.iter()
                    .map(|e| e.2)
                    .filter(|d| !self.stored_focus.contains(d) || focus.binary_search(d).is_ok()),
            );
            let stored_count = members.len();
            members.extend(focus.iter().copied().filter(|d| !self.stored_focus.contains(d)));
            let tag = match kind {
                KeyKind::Band => ((key >> 8) & 0xff).min(2) as usize,
                KeyKind::Passage => 3,
            };
            let mut count = |f: u32, s: u32| {
                if f != s {
                    shared.entry((f, s)).or_default()[tag] += 1;
                }
            };
            let cap = if kind == KeyKind::Band { band_cap } else { passage_cap };
            let stored_members = &members[..stored_count];
            if members.len() <= cap {
                for &f in &focus {
                    stored_members.iter().for_each(|&s| count(f, s));
                }
                continue;
            }
            let hub = match kind {
                KeyKind::Band => members.iter().copied().min(),
                KeyKind::Passage => members.iter().copied().min_by_key(|&m| (tokens(m), m)),
            };
            let Some(hub) = hub else { continue };
            if focus.binary_search(&hub).is_ok() {
                stored_members.iter().for_each(|&s| count(hub, s));
            } else {
                focus.iter().for_each(|&f| count(f, hub));
            }
        }
        shared
            .into_iter()
            .filter(|(_, n)| n.iter().zip(&min_shared).any(|(n, min)| n >= min))
            .map(|((_, s), _)| s)
            .collect()
    }
}

impl Default for FocusKeys {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crowded_key_brings_only_its_hub_unless_a_focus_document_is_the_hub() {
        // Stored documents 0..10 hold band key 7 and fingerprint 9; the
        // batch document 100 holds both.
        let mut focus = FocusKeys::new();
        focus.add(100, false, &[7], &[9]);
        let stored: Vec<(KeyKind, u64, u32)> =
            (0..10).flat_map(|d| [(KeyKind::Band, 7, d), (KeyKind::Passage, 9, d)]).collect();
        let tokens = |d: u32| if d == 4 { 10 } else { 100 };
        let all: HashSet<u32> = (0..10).collect();
        let one = [1, 1, 1, 1];
        assert_eq!(focus.neighbours(stored.clone(), 64, 64, one, tokens), all);
        // Over the caps: the first holder for the band key, the smallest
        // for the fingerprint.
        assert_eq!(focus.neighbours(stored.clone(), 5, 5, one, tokens), HashSet::from([0, 4]));
        // The batch document is the smallest: every holder pairs with it.
        let small = |d: u32| if d == 100 { 1 } else { 100 };
        assert_eq!(focus.neighbours(stored.clone(), 5, 5, one, small), all);
        // A stored focus document that is the first holder is the band hub
        // (its pairs with the others count; the batch document is not
        // stored).
        let mut focus = FocusKeys::new();
        focus.add(0, true, &[7], &[]);
        let bands: Vec<_> = stored.iter().copied().filter(|e| e.0 == KeyKind::Band).collect();
        let others: HashSet<u32> = (1..10).collect();
        assert_eq!(focus.neighbours(bands, 5, 5, one, tokens), others);
    }

    #[test]
    fn a_fingerprint_dropped_as_boilerplate_for_a_stored_focus_document_does_not_count_it() {
        let mut focus = FocusKeys::new();
        // Stored document 3 is rechecked; fingerprint 9 is boilerplate for it.
        focus.add(3, true, &[], &[]);
        focus.add(100, false, &[], &[9]);
        let stored = vec![(KeyKind::Passage, 9, 3), (KeyKind::Passage, 9, 5)];
        assert_eq!(focus.neighbours(stored, 64, 64, [1, 1, 1, 1], |_| 1), HashSet::from([5]));
    }

    #[test]
    fn a_stored_document_is_a_neighbour_only_if_it_shares_enough_to_be_a_candidate() {
        let mut focus = FocusKeys::new();
        // View 1 band keys (1 << 8 | band), one fingerprint.
        focus.add(100, false, &[0x100, 0x101], &[9]);
        let stored = vec![
            (KeyKind::Band, 0x100, 1),
            (KeyKind::Band, 0x101, 1),
            (KeyKind::Band, 0x100, 2),
            (KeyKind::Passage, 9, 3),
        ];
        let found = focus.neighbours(stored, 64, 64, [1, 2, 2, 2], |_| 1);
        assert_eq!(
            found,
            HashSet::from([1]),
            "2 bands of view 1: a candidate; 1 band or 1 passage: not"
        );
    }
}
