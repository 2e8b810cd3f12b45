//! Stage 6b of the pipeline: where two documents match.
//!
//! Scores say *how much* of a document is found in another; evidence says
//! *where*. For a verified pair, both texts are shingled again in order and
//! aligned greedily. From each position of `a` whose shingle is shared
//! content, the longest run of equal shingles starting at some position of
//! `b` is taken as a match. Matches separated by a gap of at most one shingle
//! width in both texts, and in the same order, are joined, so a typo or a
//! changed word does not split a passage in two. Each match becomes a pair of
//! character ranges, one per text.
//!
//! Offsets count Unicode scalar values (what Python's `str` indexes), start
//! inclusive and end exclusive.
//!
//! The starts of `b`'s shingles are found by hash in a map keyed with
//! `foldhash` (the hasher `hashbrown` itself defaults to, and already in the
//! tree through the HTML extractor): the keys are hashes already, and
//! SipHash's resistance to chosen keys buys nothing for them.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use serde::{Deserialize, Serialize};

use crate::features::ShingleSequence;

/// A matched region: character ranges `[start, end)` in both documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedSpan {
    /// Range in document `a`.
    pub a: [usize; 2],
    /// Range in document `b`.
    pub b: [usize; 2],
}

/// The matched regions of a pair.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Matched regions in the order of `a`.
    pub spans: Vec<MatchedSpan>,
    /// Share of `a`'s characters (from its first to its last token) inside
    /// the spans.
    pub matched_share: f64,
    /// The beginning of the first matched passage, for people (whitespace
    /// collapsed, at most [`EXCERPT_CHARS`] characters). Not part of the
    /// `--pairs` output.
    pub excerpt: String,
}

/// Length of [`Evidence::excerpt`], in characters.
pub const EXCERPT_CHARS: usize = 120;

/// How far one shingle repeated many times in `b` is followed: each start is
/// tried, up to this many.
const MAX_STARTS: usize = 16;

/// Matched shingles: `len` from position `i` in `a`, `b_len` from position
/// `j` in `b` (equal until runs are joined across gaps of different width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    i: usize,
    j: usize,
    len: usize,
    b_len: usize,
}

/// Aligns `a` against `b`. Only shingles for which `shared` is true are
/// matched (boilerplate is left out); it is asked once about each shingle
/// of `b`, and only its answers for shingles also in `a` matter.
pub fn align(
    a_text: &str,
    a: &ShingleSequence,
    b_text: &str,
    b: &ShingleSequence,
    shingle_size: usize,
    shared: impl Fn(u64) -> bool,
) -> Evidence {
    // Whether each of `b`'s shingles may be matched, asked once: a matched
    // shingle of `a` equals the one of `b` it is matched with.
    let b_shared: Vec<bool> = b.hashes.iter().map(|&h| shared(h)).collect();
    let starts = Starts::new(&b.hashes, &b_shared);
    let mut runs: Vec<Run> = Vec::new();
    let mut i = 0;
    while i < a.hashes.len() {
        let Some(first) = starts.first(a.hashes[i]) else {
            i += 1;
            continue;
        };
        let extend = |j: usize| {
            let mut len = 0;
            while i + len < a.hashes.len()
                && j + len < b.hashes.len()
                && a.hashes[i + len] == b.hashes[j + len]
                && b_shared[j + len]
            {
                len += 1;
            }
            len
        };
        // The longest run; on ties the first start after the previous run,
        // which keeps matches in order.
        let after = runs.last().map_or(0, |r| r.j + r.b_len);
        let best = starts
            .following(first)
            .map(|j| (extend(j), j >= after, std::cmp::Reverse(j)))
            .max()
            .map(|(len, _, std::cmp::Reverse(j))| Run { i, j, len, b_len: len });
        match best {
            Some(run) if run.len > 0 => {
                i += run.len;
                runs.push(run);
            }
            _ => i += 1,
        }
    }
    let runs = join_close_runs(runs, shingle_size);
    spans_of(a_text, a, b_text, b, &runs, shingle_size)
}

/// Where the shareable shingles of `b` start, by hash: the first start of
/// each hash in a table and, from each start, the next start of the same
/// hash, at most [`MAX_STARTS`] a hash. One table and one list serve the
/// whole sequence; a vector for each hash cost an allocation a distinct
/// shingle.
struct Starts {
    by_hash: HashMap<u64, HashStarts, FixedState>,
    /// The next kept start of the same hash, or `usize::MAX`.
    next: Vec<usize>,
}

/// The starts of one hash.
struct HashStarts {
    first: usize,
    last: usize,
    kept: usize,
}

impl Starts {
    fn new(hashes: &[u64], shared: &[bool]) -> Self {
        let mut by_hash: HashMap<u64, HashStarts, FixedState> =
            HashMap::with_capacity_and_hasher(hashes.len(), FixedState::default());
        let mut next = vec![usize::MAX; hashes.len()];
        for (j, &h) in hashes.iter().enumerate() {
            if !shared[j] {
                continue;
            }
            let starts = by_hash.entry(h).or_insert(HashStarts { first: j, last: j, kept: 0 });
            if starts.kept == MAX_STARTS {
                continue;
            }
            if starts.kept > 0 {
                next[starts.last] = j;
                starts.last = j;
            }
            starts.kept += 1;
        }
        Starts { by_hash, next }
    }

    /// The first start of `hash`, if it has one.
    fn first(&self, hash: u64) -> Option<usize> {
        self.by_hash.get(&hash).map(|starts| starts.first)
    }

    /// The starts of one hash from `start` (one of them) on, in order.
    fn following(&self, start: usize) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(Some(start), |&j| Some(self.next[j]).filter(|&n| n != usize::MAX))
    }
}

/// Joins consecutive runs separated by at most `gap` shingles in both texts.
fn join_close_runs(runs: Vec<Run>, gap: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    for run in runs {
        if let Some(last) = out.last_mut() {
            let (a_end, b_end) = (last.i + last.len, last.j + last.b_len);
            if run.i >= a_end && run.i - a_end <= gap && run.j >= b_end && run.j - b_end <= gap {
                last.len = run.i + run.len - last.i;
                last.b_len = run.j + run.b_len - last.j;
                continue;
            }
        }
        out.push(run);
    }
    out
}

fn spans_of(
    a_text: &str,
    a: &ShingleSequence,
    b_text: &str,
    b: &ShingleSequence,
    runs: &[Run],
    shingle_size: usize,
) -> Evidence {
    if runs.is_empty() || a.tokens.is_empty() {
        return Evidence::default();
    }
    let a_bytes: Vec<(usize, usize)> =
        runs.iter().map(|r| a.byte_range(r.i, r.i + r.len - 1, shingle_size)).collect();
    let b_bytes: Vec<(usize, usize)> =
        runs.iter().map(|r| b.byte_range(r.j, r.j + r.b_len - 1, shingle_size)).collect();
    let a_chars = to_char_offsets(a_text, &a_bytes);
    let b_chars = to_char_offsets(b_text, &b_bytes);
    let covered: usize = a_chars.iter().map(|(s, e)| e - s).sum();
    let (first_start, first_end) = a_bytes[0];
    let mut excerpt = String::new();
    for word in a_text[first_start..first_end].split_whitespace() {
        if excerpt.chars().count() + word.chars().count() + 1 > EXCERPT_CHARS {
            excerpt.push('…');
            break;
        }
        if !excerpt.is_empty() {
            excerpt.push(' ');
        }
        excerpt.push_str(word);
    }
    let first = a.tokens[0].start;
    let last = a.tokens[a.tokens.len() - 1].end;
    let extent = a_text[first..last].chars().count().max(1);
    Evidence {
        spans: a_chars
            .iter()
            .zip(&b_chars)
            .map(|(&(a0, a1), &(b0, b1))| MatchedSpan { a: [a0, a1], b: [b0, b1] })
            .collect(),
        matched_share: (covered as f64 / extent as f64).min(1.0),
        excerpt,
    }
}

/// Converts byte ranges (on char boundaries) into char ranges in one pass.
///
/// Chars are counted between consecutive offsets as the bytes that start a
/// char (a loop the compiler vectorizes), and only up to the last offset;
/// visiting every char of the text one by one was 0.9 % of a 100k scan's
/// CPU.
fn to_char_offsets(text: &str, ranges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut wanted: Vec<usize> = ranges.iter().flat_map(|&(s, e)| [s, e]).collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut chars = Vec::with_capacity(wanted.len());
    let (mut count, mut last) = (0, 0);
    for &byte in &wanted {
        count += text.as_bytes()[last..byte].iter().filter(|&&b| !is_continuation(b)).count();
        chars.push(count);
        last = byte;
    }
    let char_at = |byte: usize| chars[wanted.binary_search(&byte).expect("an offset listed above")];
    ranges.iter().map(|&(s, e)| (char_at(s), char_at(e))).collect()
}

/// Returns true if and only if `b` continues a UTF-8 char (`0b10xx_xxxx`).
#[inline]
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::test_featurizer as featurizer;

    fn chars(text: &str, [s, e]: [usize; 2]) -> String {
        text.chars().skip(s).take(e - s).collect()
    }

    #[test]
    fn char_offsets_count_chars_of_every_width() {
        let text = "añ€😀b — Ωx\u{301}y";
        let boundaries: Vec<usize> =
            text.char_indices().map(|(b, _)| b).chain([text.len()]).collect();
        let ranges: Vec<(usize, usize)> = boundaries
            .iter()
            .flat_map(|&s| boundaries.iter().filter(move |&&e| e >= s).map(move |&e| (s, e)))
            .collect();
        let naive = |byte: usize| text[..byte].chars().count();
        let expected: Vec<(usize, usize)> =
            ranges.iter().map(|&(s, e)| (naive(s), naive(e))).collect();
        assert_eq!(to_char_offsets(text, &ranges), expected);
        // Repeated and unsorted ranges come back in their order.
        assert_eq!(to_char_offsets(text, &[(10, 11), (0, 3), (10, 11)]), [(4, 5), (0, 2), (4, 5)]);
    }

    #[test]
    fn finds_a_passage_inside_a_page_with_char_offsets() {
        let f = featurizer();
        let article = "Der Bürgermeister eröffnete die neue Brücke über den Fluss am Montag.";
        let page =
            format!("Menü · Start · Über uns\n\nAktuell: {article}\n\nNewsletter abonnieren");
        let (sa, sp) = (f.sequence(article), f.sequence(&page));
        let ev = align(article, &sa, &page, &sp, 3, |_| true);
        assert_eq!(ev.spans.len(), 1);
        assert_eq!(chars(article, ev.spans[0].a), article.trim_end_matches('.'));
        assert_eq!(chars(&page, ev.spans[0].b), article.trim_end_matches('.'));
        assert!(ev.matched_share > 0.95);
    }

    #[test]
    fn a_changed_word_does_not_split_the_passage() {
        let f = featurizer();
        let a = "one two three four five six seven eight nine ten eleven twelve";
        let b = "one two three four five SIX-X seven eight nine ten eleven twelve";
        let (sa, sb) = (f.sequence(a), f.sequence(b));
        let ev = align(a, &sa, b, &sb, 3, |_| true);
        assert_eq!(ev.spans.len(), 1, "{:?}", ev.spans);
        assert_eq!(chars(a, ev.spans[0].a), a);
        assert_eq!(chars(b, ev.spans[0].b), b);
    }

    #[test]
    fn unshared_shingles_are_not_matched() {
        let f = featurizer();
        let a = "alpha beta gamma delta epsilon zeta";
        let (sa, sb) = (f.sequence(a), f.sequence(a));
        let ev = align(a, &sa, a, &sb, 3, |_| false);
        assert!(ev.spans.is_empty());
        assert_eq!(ev.matched_share, 0.0);
    }

    #[test]
    fn a_run_stops_at_unshared_shingles() {
        let f = featurizer();
        let words = "one two three four five six seven eight nine ten eleven twelve thirteen \
                     fourteen fifteen sixteen seventeen eighteen nineteen twenty";
        let (sa, sb) = (f.sequence(words), f.sequence(words));
        // Six shingles in the middle are boilerplate: longer than a gap that
        // joins runs, so the text is matched as two passages around them.
        let boilerplate = &sa.hashes[6..12];
        let ev = align(words, &sa, words, &sb, 3, |h| !boilerplate.contains(&h));
        assert_eq!(ev.spans.len(), 2, "{:?}", ev.spans);
        assert_eq!(chars(words, ev.spans[0].a), "one two three four five six seven eight");
        assert!(chars(words, ev.spans[1].a).starts_with("thirteen"), "{:?}", ev.spans);
    }

    proptest::proptest! {
        /// Each hash's starts are its first `MAX_STARTS` shareable
        /// positions, in order; a hash with none has no entry.
        #[test]
        fn starts_are_the_first_shareable_positions_of_each_hash(
            positions in proptest::collection::vec((0u64..6, proptest::bool::weighted(0.8)), 0..120),
        ) {
            let (hashes, shared): (Vec<u64>, Vec<bool>) = positions.into_iter().unzip();
            let starts = Starts::new(&hashes, &shared);
            for h in 0..6 {
                let expected: Vec<usize> = (0..hashes.len())
                    .filter(|&j| hashes[j] == h && shared[j])
                    .take(MAX_STARTS)
                    .collect();
                let found: Vec<usize> =
                    starts.first(h).map(|j| starts.following(j).collect()).unwrap_or_default();
                proptest::prop_assert_eq!(found, expected);
            }
        }

        /// The scan asks `align` whether a shingle is boilerplate in either
        /// document rather than whether it is in both content sets: the
        /// same alignment, since only shingles of both sequences are ever
        /// matched.
        #[test]
        fn leaving_out_boilerplate_aligns_as_content_membership(
            a_words in proptest::collection::vec(0usize..12, 3..60),
            b_words in proptest::collection::vec(0usize..12, 3..60),
            a_boilerplate in proptest::collection::vec(proptest::bool::weighted(0.2), 60),
            b_boilerplate in proptest::collection::vec(proptest::bool::weighted(0.2), 60),
        ) {
            const WORDS: [&str; 12] = [
                "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota",
                "kappa", "lambda", "mu",
            ];
            let text = |words: &[usize]| {
                words.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ")
            };
            let (a, b) = (text(&a_words), text(&b_words));
            let f = featurizer();
            let (sa, sb) = (f.sequence(&a), f.sequence(&b));
            // Boilerplate: some shingles of each sequence, by position.
            let pick = |hashes: &[u64], marks: &[bool]| {
                let mut picked: Vec<u64> =
                    hashes.iter().zip(marks).filter(|(_, m)| **m).map(|(h, _)| *h).collect();
                picked.sort_unstable();
                picked.dedup();
                picked
            };
            let (bp_a, bp_b) = (pick(&sa.hashes, &a_boilerplate), pick(&sb.hashes, &b_boilerplate));
            let content = |hashes: &[u64], bp: &[u64]| {
                crate::shingle::ShingleSet::from_hashes(hashes.to_vec()).without(bp)
            };
            let (ca, cb) = (content(&sa.hashes, &bp_a), content(&sb.hashes, &bp_b));
            let by_content = align(&a, &sa, &b, &sb, 3, |h| ca.contains(h) && cb.contains(h));
            let by_boilerplate = align(&a, &sa, &b, &sb, 3, |h| {
                bp_a.binary_search(&h).is_err() && bp_b.binary_search(&h).is_err()
            });
            proptest::prop_assert_eq!(by_boilerplate, by_content);
        }
    }
}
