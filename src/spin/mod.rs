//! The spun view: candidates and verification that survive word substitution.
//!
//! A synonym spinner replaces a third or more of an article's content words
//! ("leader" → "chief", "war" → "warfare"). That breaks most word 5-grams (the
//! Jaccard similarity of a copy spun at rate 0.5 is about 0.17), so the word
//! view cannot link it. OCR noise does the same in a different way ("tho" for
//! "the", "re- turning"). What survives both is the *skeleton* of the text
//! and its order. Two different articles about the same event share names,
//! numbers and topic words, but neither.
//!
//! **Candidates: immutables.** A spinner leaves alone the words it has no
//! synonym for: function words (the NLTK English stopword list, from the
//! `stop-words` crate), tokens holding a digit, and capitalised words inside a
//! sentence (names). Word 3-grams over that reduced stream ("immutables", as
//! in DSpin, NDSS 2014) are sketched with MinHash and banded 42 × 3. Measured
//! on the dev set, they keep a Jaccard of 0.73–1.0 for spun copies at every
//! rate, and 0.0–0.14 for unrelated pairs.
//!
//! **Candidates: characters.** OCR errors change letters, not words: "tho"
//! for "the" breaks every shingle that holds the word. Character 7-grams of
//! the normalized token stream survive most of them. They are sketched
//! straight from the stream (one-permutation hashing needs no sorted set) and
//! banded 42 × 3, and their candidates go to the same verifier. In both
//! views a pair must share two bands (see [`SPIN_MIN_BANDS`] for why). On the dev
//! set, the OCR pairs that no other view proposed had a word 5-gram Jaccard
//! of 0.01 to 0.07.
//!
//! **Verification: alignment.** Both texts are cut into fixed windows of 20
//! tokens, boilerplate left out. Two windows match when their word sets have
//! a Jaccard of at least 0.3. The longest chain of matches in the same order
//! in both texts gives an *aligned Jaccard* `L / (nA + nB − L)`. A pair is a
//! rewrite when the aligned Jaccard, or the Jaccard of immutable 2-grams, is
//! at least 0.4. On the dev set the lowest spun pair scores 0.50 and 0.80 on
//! these; the highest pair of same-event articles scores 0.32 and 0.27. The
//! alignment does not depend on what the spinner touches, which matters
//! because other spinners also replace function words ("in" → "within").
//!
//! **Spun or OCR.** A word-level diff (Myers, from the `similar` crate) of the
//! two texts yields the substitutions. When most of them are spelling-level
//! changes (normalized Levenshtein similarity ≥ 0.5, from `strsim`: "tho" →
//! "the"), the pair is OCR noise and a `near_duplicate`. Otherwise it is
//! `spun`, and the substitutions are its evidence, with the aligned sentences.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::features::ShingleSequence;
use crate::normalize::TokenSpan;
use crate::shingle::{ShingleHasher, ShingleSet};

mod immutables;

pub use immutables::{Immutables, ends_sentence};

/// Settings of the spun view.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpinConfig {
    /// Run the view at all.
    pub enabled: bool,
    /// Tokens per alignment window.
    pub window_tokens: usize,
    /// Word-set Jaccard at which two windows (or sentences) match.
    pub segment_match: f64,
    /// Aligned Jaccard from which a pair is a rewrite.
    pub aligned_threshold: f64,
    /// Immutable 2-gram Jaccard from which a pair is a rewrite.
    pub immutables_threshold: f64,
    /// Fewest substitutions for the `spun` label (fewer: `near_duplicate`).
    pub min_substitutions: usize,
    /// Share of spelling-level substitutions from which a rewrite is OCR
    /// noise rather than spinning.
    pub ocr_share: f64,
    /// Characters per n-gram of the character view that finds noisy (OCR)
    /// copies as candidates; 0 switches the view off.
    pub char_ngram: usize,
}

impl Default for SpinConfig {
    fn default() -> Self {
        SpinConfig {
            enabled: true,
            window_tokens: 20,
            segment_match: 0.3,
            aligned_threshold: 0.4,
            immutables_threshold: 0.4,
            min_substitutions: 3,
            ocr_share: 0.5,
            char_ngram: DEFAULT_CHAR_NGRAM,
        }
    }
}

/// Default characters per n-gram of the character view.
pub const DEFAULT_CHAR_NGRAM: usize = 7;
/// Seed of character n-gram hashes.
pub const CHAR_NGRAM_SEED: u64 = 0x6368_6172_6e67_7231; // "charngr1"

/// Banding of immutable signatures.
pub const SPIN_BANDS: usize = 42;
/// Rows per band of immutable signatures.
pub const SPIN_ROWS: usize = 3;
/// Bands two documents must share in the immutable view to be a candidate.
///
/// Both spun-view signatures are banded 42 × 3, a loose banding that finds
/// pairs at a Jaccard of 0.35 with probability 0.84. But unrelated texts
/// share common character 7-grams (median Jaccard 0.016, 99.9th percentile
/// 0.06 on `devset/mixed`) and common function-word 3-grams, so one shared
/// band turns a fixed share of *all* pairs into candidates, a number that
/// grows with the square of the corpus: 2.56 million character-view
/// candidates on a 100,000-document synthetic corpus. Asking for two shared
/// bands keeps the S-curve almost as loose for real copies (a pair at 0.5 is
/// found with probability 0.97, at 0.4 with 0.76) and cuts unrelated pairs
/// by three to four orders of magnitude (5.5e-8 per pair at a Jaccard of
/// 0.02, against 3.4e-4): 9,610 character candidates on that corpus, every
/// dev-set result unchanged (`ARCHITECTURE.md`, issue 5).
pub const SPIN_MIN_BANDS: u32 = 2;
/// Bands two documents must share in the character view (see
/// [`SPIN_MIN_BANDS`]).
pub const CHAR_MIN_BANDS: u32 = 2;
/// Fewest words a document needs to enter the rewrite views (spun and
/// character). A rewrite verdict rests on an alignment with several
/// substitutions among mostly kept words, which a shorter text cannot
/// show; yet the character n-grams of short texts collide with those of
/// every other short text: 200,000 three-word notes made 7.2 million
/// character-view candidates, none of them related, and took 30 s to
/// reject. Short texts are still compared by the word view.
pub const MIN_REWRITE_TOKENS: u32 = 16;
/// Banding of character signatures.
pub const CHAR_BANDS: usize = 42;
/// Rows per band of character signatures.
pub const CHAR_ROWS: usize = 3;
/// Words per immutable shingle for candidates.
pub const IMMUTABLE_SHINGLE: usize = 3;
/// Windows kept per document (the first ones): bounds alignment cost.
const MAX_WINDOWS: usize = 1000;
/// Tokens diffed per document for evidence.
const MAX_DIFF_TOKENS: usize = 20_000;
/// Substitutions listed as evidence.
pub const MAX_SUBSTITUTIONS: usize = 20;

/// What the verifier needs of one document.
#[derive(Clone, Debug, Default)]
pub struct SpinProfile {
    windows: Vec<Vec<u64>>,
    immutable_bigrams: ShingleSet,
}

impl SpinProfile {
    /// The profile of a text. Tokens covered by a shingle for which
    /// `boilerplate` is true are left out.
    pub fn new(
        text: &str,
        sequence: &ShingleSequence,
        shingle_size: usize,
        immutables: &Immutables,
        config: &SpinConfig,
        boilerplate: impl Fn(u64) -> bool,
    ) -> Self {
        let kept = content_tokens(sequence, shingle_size, boilerplate);
        let hashes: Vec<u64> = kept.iter().map(|&t| sequence.token_hashes[t]).collect();
        let windows = hashes
            .chunks(config.window_tokens)
            .filter(|w| w.len() * 2 >= config.window_tokens)
            .take(MAX_WINDOWS)
            .map(|w| {
                let mut set = w.to_vec();
                set.sort_unstable();
                set.dedup();
                set
            })
            .collect();
        let mut immutable = Vec::new();
        let mut prev_end = None;
        for &t in &kept {
            let span = sequence.tokens[t];
            let start = prev_end.is_none_or(|e| ends_sentence(&text[e..span.start]));
            if immutables.is_immutable_shaped(sequence.token_hashes[t], sequence.shapes[t], start) {
                immutable.push(sequence.token_hashes[t]);
            }
            prev_end = Some(span.end);
        }
        let bigrams = ShingleHasher::new(2).map(|h| h.shingle_set(&immutable)).unwrap_or_default();
        SpinProfile { windows, immutable_bigrams: bigrams }
    }
}

/// Indices of the tokens not covered by a boilerplate shingle.
fn content_tokens(
    sequence: &ShingleSequence,
    shingle_size: usize,
    boilerplate: impl Fn(u64) -> bool,
) -> Vec<usize> {
    let mut covered = vec![false; sequence.tokens.len()];
    for (i, &h) in sequence.hashes.iter().enumerate() {
        if boilerplate(h) {
            let end = (i + shingle_size).min(covered.len());
            covered[i..end].iter_mut().for_each(|c| *c = true);
        }
    }
    (0..covered.len()).filter(|&t| !covered[t]).collect()
}

/// Scores of the spun view for a pair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpinScores {
    /// Windows in the longest ordered chain of matches.
    pub aligned_windows: u32,
    /// `L / (nA + nB − L)` over windows.
    pub aligned_jaccard: f64,
    /// Jaccard of immutable 2-grams.
    pub immutables_jaccard: f64,
}

/// Compares two profiles; `Some` when the pair is a rewrite of one text.
pub fn verify(a: &SpinProfile, b: &SpinProfile, config: &SpinConfig) -> Option<SpinScores> {
    if a.windows.len() < 2 || b.windows.len() < 2 {
        return None;
    }
    let chain = ordered_matches(&a.windows, &b.windows, config.segment_match);
    let l = chain.len();
    let aligned_jaccard = l as f64 / (a.windows.len() + b.windows.len() - l) as f64;
    let shared = a.immutable_bigrams.intersection_len(&b.immutable_bigrams);
    let union = a.immutable_bigrams.len() + b.immutable_bigrams.len() - shared;
    let immutables_jaccard = if union == 0 { 0.0 } else { shared as f64 / union as f64 };
    let scores = SpinScores { aligned_windows: l as u32, aligned_jaccard, immutables_jaccard };
    (aligned_jaccard >= config.aligned_threshold
        || immutables_jaccard >= config.immutables_threshold)
        .then_some(scores)
}

/// The longest chain of matching segments in the same order in both
/// documents: `(i, j)` pairs with `i` and `j` increasing.
fn ordered_matches(a: &[Vec<u64>], b: &[Vec<u64>], min_jaccard: f64) -> Vec<(usize, usize)> {
    let matches = matching_segments(a, b, min_jaccard);
    // Patience sorting for the longest strictly increasing j, with links to
    // rebuild the chain.
    let mut tails: Vec<usize> = Vec::new(); // index into matches
    let mut prev = vec![usize::MAX; matches.len()];
    for (k, &(_, j)) in matches.iter().enumerate() {
        let pos = tails.partition_point(|&t| matches[t].1 < j);
        if pos > 0 {
            prev[k] = tails[pos - 1];
        }
        if pos == tails.len() {
            tails.push(k);
        } else {
            tails[pos] = k;
        }
    }
    let mut chain = Vec::with_capacity(tails.len());
    let mut k = tails.last().copied().unwrap_or(usize::MAX);
    while k != usize::MAX {
        chain.push(matches[k]);
        k = prev[k];
    }
    chain.reverse();
    chain
}

/// All pairs `(i, j)` of segments whose word sets have a Jaccard of at least
/// `min_jaccard`, sorted by `i` ascending and, within one `i`, `j`
/// descending (so that a strictly increasing subsequence of `j` uses each
/// `i` at most once).
///
/// Segments of `b` are indexed by word, and each word of a segment of `a`
/// visits only the segments of `b` that hold it. Most words sit in few
/// segments, so this does much less work than merging every pair of segments.
/// The index is a hash table of chains, built in one pass. Sorting `b`'s
/// postings and searching them for each word of `a`, as before, took 61–62
/// ms against 35.6–36.0 ms for 1,999 pairs of generated news (a probe,
/// rounds taking turns, the same matches).
fn matching_segments(a: &[Vec<u64>], b: &[Vec<u64>], min_jaccard: f64) -> Vec<(usize, usize)> {
    // The end of a chain.
    const END: u32 = u32::MAX;
    let postings_len: usize = b.iter().map(Vec::len).sum();
    // The latest posting of each word, and for each posting (its segment)
    // the one before it of the same word.
    let mut latest: HashMap<u64, u32, foldhash::fast::FixedState> =
        HashMap::with_capacity_and_hasher(postings_len, Default::default());
    let mut postings: Vec<(u32, u32)> = Vec::with_capacity(postings_len);
    for (j, seg) in b.iter().enumerate() {
        for &h in seg {
            let before = latest.insert(h, postings.len() as u32).unwrap_or(END);
            postings.push((j as u32, before));
        }
    }
    let mut shared = vec![0u32; b.len()];
    let mut touched: Vec<u32> = Vec::new();
    let mut matches = Vec::new();
    for (i, seg_a) in a.iter().enumerate() {
        for h in seg_a {
            let mut at = latest.get(h).copied().unwrap_or(END);
            while at != END {
                let (j, before) = postings[at as usize];
                if shared[j as usize] == 0 {
                    touched.push(j);
                }
                shared[j as usize] += 1;
                at = before;
            }
        }
        touched.sort_unstable_by(|x, y| y.cmp(x));
        for &j in &touched {
            let common = shared[j as usize] as usize;
            let union = seg_a.len() + b[j as usize].len() - common;
            if common as f64 >= min_jaccard * union as f64 {
                matches.push((i, j as usize));
            }
            shared[j as usize] = 0;
        }
        touched.clear();
    }
    matches
}

/// One substitution seen between the two texts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Substitution {
    /// Words in `a`.
    pub from: String,
    /// Words in `b`.
    pub to: String,
    /// How often it occurs.
    pub count: u32,
}

/// Why a pair is a rewrite, for people.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RewriteEvidence {
    /// The verifier's scores.
    pub scores: SpinScores,
    /// Sentences of `a` aligned with a sentence of `b`, in order.
    pub aligned_sentences: u32,
    /// Sentences (of five words or more) in `a` and `b`.
    pub sentences: [u32; 2],
    /// `aligned_sentences` over the sentences of the document with fewer.
    pub aligned_share: f64,
    /// Word substitutions from `a` to `b`, most frequent first (at most
    /// [`MAX_SUBSTITUTIONS`]).
    pub substitutions: Vec<Substitution>,
    /// All substitutions seen, and how many of them are spelling-level.
    pub substitution_counts: (u32, u32),
}

impl RewriteEvidence {
    /// The same evidence seen from the other side.
    pub fn swapped(&self) -> Self {
        let mut out = self.clone();
        out.sentences = [self.sentences[1], self.sentences[0]];
        for s in &mut out.substitutions {
            std::mem::swap(&mut s.from, &mut s.to);
        }
        out
    }

    /// Returns true if and only if the substitutions look like OCR noise
    /// (mostly spelling-level changes) rather than synonyms, or are too few
    /// to call the pair spun.
    pub fn is_noise(&self, config: &SpinConfig) -> bool {
        let (all, spelling) = self.substitution_counts;
        (all as usize) < config.min_substitutions
            || f64::from(spelling) >= config.ocr_share * f64::from(all)
    }
}

/// The words of a text the rewrite evidence compares, with boilerplate left
/// out, and sentence boundaries (word index ranges of sentences with at
/// least five words).
///
/// Words are compared by the hash of their normalized form. The diff below
/// is about 3 % of a 100k scan's CPU, and it ran a quarter faster on hashes
/// than on the normalized strings it compared before; normalizing every
/// word into its own `String` also cost an allocation a word. Equal hashes
/// stand for equal words, as shingle hashes do everywhere else. Only the
/// words a substitution reports are spelled out again.
struct Words<'a> {
    text: &'a str,
    /// Byte span of each word in `text`.
    spans: Vec<TokenSpan>,
    /// [`hash_token`](crate::shingle::hash_token) of each normalized word,
    /// as the sequence holds it.
    hashes: Vec<u64>,
    sentences: Vec<(usize, usize)>,
}

impl<'a> Words<'a> {
    fn new(text: &'a str, sequence: &ShingleSequence, kept: &[usize]) -> Self {
        let mut spans = Vec::with_capacity(kept.len().min(MAX_DIFF_TOKENS));
        let mut hashes = Vec::with_capacity(spans.capacity());
        let mut sentences = Vec::new();
        let mut start = 0;
        let mut prev_end: Option<usize> = None;
        for (k, &t) in kept.iter().take(MAX_DIFF_TOKENS).enumerate() {
            let span = sequence.tokens[t];
            let boundary = prev_end.is_some_and(|e| {
                let gap = &text[e..span.start];
                gap.bytes().any(|b| matches!(b, b'.' | b'!' | b'?')) || gap.contains("\n\n")
            });
            if boundary {
                if k - start >= 5 {
                    sentences.push((start, k));
                }
                start = k;
            }
            hashes.push(sequence.token_hashes[t]);
            spans.push(span);
            prev_end = Some(span.end);
        }
        if hashes.len() - start >= 5 {
            sentences.push((start, hashes.len()));
        }
        Words { text, spans, hashes, sentences }
    }

    fn sentence_sets(&self) -> Vec<Vec<u64>> {
        self.sentences
            .iter()
            .map(|&(s, e)| {
                let mut set = self.hashes[s..e].to_vec();
                set.sort_unstable();
                set.dedup();
                set
            })
            .collect()
    }

    /// The normalized words `start..start + len`, joined by spaces.
    fn phrase(
        &self,
        normalizer: &crate::normalize::Normalizer,
        start: usize,
        len: usize,
    ) -> String {
        let mut buf = String::new();
        let mut phrase = String::new();
        for span in &self.spans[start..start + len] {
            if !phrase.is_empty() {
                phrase.push(' ');
            }
            phrase.push_str(normalizer.normalize_token(&self.text[span.start..span.end], &mut buf));
        }
        phrase
    }
}

/// Evidence of a rewrite: aligned sentences and word substitutions from `a`
/// to `b`. `normalizer` must be the one the sequences were made with: words
/// are compared by the sequences' token hashes and spelled out with it.
#[allow(clippy::too_many_arguments)]
pub fn rewrite_evidence(
    a: (&str, &ShingleSequence, &dyn Fn(u64) -> bool),
    b: (&str, &ShingleSequence, &dyn Fn(u64) -> bool),
    shingle_size: usize,
    normalizer: &crate::normalize::Normalizer,
    scores: SpinScores,
    config: &SpinConfig,
) -> RewriteEvidence {
    let a_kept = content_tokens(a.1, shingle_size, a.2);
    let b_kept = content_tokens(b.1, shingle_size, b.2);
    let wa = Words::new(a.0, a.1, &a_kept);
    let wb = Words::new(b.0, b.1, &b_kept);
    let aligned =
        ordered_matches(&wa.sentence_sets(), &wb.sentence_sets(), config.segment_match).len();
    let fewer = wa.sentences.len().min(wb.sentences.len()).max(1);

    let mut counts: HashMap<(String, String), (u32, usize)> = HashMap::new();
    let (mut all, mut spelling) = (0u32, 0u32);
    for op in capture_diff_slices(Algorithm::Myers, &wa.hashes, &wb.hashes) {
        if let DiffOp::Replace { old_index, old_len, new_index, new_len } = op
            && old_len <= 3
            && new_len <= 3
        {
            let from = wa.phrase(normalizer, old_index, old_len);
            let to = wb.phrase(normalizer, new_index, new_len);
            all += 1;
            if strsim::normalized_levenshtein(&from.replace(' ', ""), &to.replace(' ', "")) >= 0.5 {
                spelling += 1;
            }
            let entry = counts.entry((from, to)).or_insert((0, old_index));
            entry.0 += 1;
        }
    }
    let mut substitutions: Vec<(u32, usize, String, String)> =
        counts.into_iter().map(|((from, to), (count, first))| (count, first, from, to)).collect();
    substitutions.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    RewriteEvidence {
        scores,
        aligned_sentences: aligned as u32,
        sentences: [wa.sentences.len() as u32, wb.sentences.len() as u32],
        aligned_share: aligned as f64 / fewer as f64,
        substitutions: substitutions
            .into_iter()
            .take(MAX_SUBSTITUTIONS)
            .map(|(count, _, from, to)| Substitution { from, to, count })
            .collect(),
        substitution_counts: (all, spelling),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Word-set Jaccard of two sorted, distinct sets.
    fn set_jaccard(a: &[u64], b: &[u64]) -> f64 {
        let shared = crate::shingle::merge_intersection_len(a, b);
        let union = a.len() + b.len() - shared;
        if union == 0 { 0.0 } else { shared as f64 / union as f64 }
    }

    use crate::features::test_featurizer;
    use crate::normalize::Normalizer;

    const ORIGINAL: &str = "The Kremlin leader was treated to a lavish ceremony when he arrived in the North \
        Korean capital on Tuesday. Thousands of people lined the streets as the motorcade passed. The two \
        leaders later signed an agreement on trade and security, officials said. Read more about the visit \
        and the war in Ukraine in our live coverage, which is updated through the day by our team.";
    const SPUN: &str = "The Kremlin chief was handled to a lavish ceremony when he arrived within the North \
        Korean capital on Tuesday. Hundreds of individuals lined the roads as the motorcade handed. The two \
        chiefs later signed an settlement on commerce and safety, officers stated. Learn extra about the go \
        to and the warfare in Ukraine in our reside protection, which is up to date by way of the day by our crew.";
    const OTHER: &str = "Storm Ingrid brought gusts of up to 83 miles per hour to the coast on Friday night, \
        bringing down trees and power lines across the region. Engineers worked through the weekend to \
        reconnect about thirty thousand homes, and councils opened rest centres in two village halls for \
        people who needed warmth, hot drinks or somewhere to charge their phones.";

    fn profile(text: &str) -> (SpinProfile, ShingleSequence) {
        let f = test_featurizer();
        let seq = f.sequence(text);
        let config = SpinConfig { window_tokens: 10, ..SpinConfig::default() };
        (SpinProfile::new(text, &seq, 3, &Immutables::english(), &config, |_| false), seq)
    }

    #[test]
    fn a_spun_copy_aligns_and_an_unrelated_text_does_not() {
        let config = SpinConfig { window_tokens: 10, ..SpinConfig::default() };
        let (orig, _) = profile(ORIGINAL);
        let (spun, _) = profile(SPUN);
        let (other, _) = profile(OTHER);
        let s = verify(&orig, &spun, &config).expect("spun copy verified");
        assert!(s.aligned_jaccard >= 0.4 || s.immutables_jaccard >= 0.4, "{s:?}");
        assert!(verify(&orig, &other, &config).is_none());
    }

    #[test]
    fn evidence_lists_the_substitutions_and_calls_them_synonyms() {
        let config = SpinConfig { window_tokens: 10, ..SpinConfig::default() };
        let (pa, sa) = profile(ORIGINAL);
        let (pb, sb) = profile(SPUN);
        let scores = verify(&pa, &pb, &config).unwrap();
        let none = |_: u64| false;
        let ev = rewrite_evidence(
            (ORIGINAL, &sa, &none),
            (SPUN, &sb, &none),
            3,
            &Normalizer::default(),
            scores,
            &config,
        );
        let pairs: Vec<(&str, &str)> =
            ev.substitutions.iter().map(|s| (s.from.as_str(), s.to.as_str())).collect();
        assert!(pairs.contains(&("leader", "chief")), "{pairs:?}");
        assert!(pairs.contains(&("in", "within")), "{pairs:?}");
        // A phrase is its normalized words joined by spaces.
        assert!(pairs.contains(&("thousands", "hundreds")), "{pairs:?}");
        assert!(pairs.contains(&("live coverage", "reside protection")), "{pairs:?}");
        assert!(!ev.is_noise(&config));
        assert_eq!(ev.sentences, [4, 4]);
        assert_eq!(ev.aligned_sentences, 4);
    }

    #[test]
    fn ocr_noise_is_not_spinning() {
        let config = SpinConfig { window_tokens: 10, ..SpinConfig::default() };
        let noisy = ORIGINAL
            .replace("the ", "tho ")
            .replace("capital", "capita1")
            .replace("arrived", "arrivcd");
        let (pa, sa) = profile(ORIGINAL);
        let (pb, sb) = profile(&noisy);
        let scores = verify(&pa, &pb, &config).expect("noisy copy verified");
        let none = |_: u64| false;
        let ev = rewrite_evidence(
            (ORIGINAL, &sa, &none),
            (&noisy, &sb, &none),
            3,
            &Normalizer::default(),
            scores,
            &config,
        );
        assert!(ev.is_noise(&config), "{:?}", ev.substitutions);
    }

    proptest::proptest! {
        /// The indexed search finds exactly the pairs a full comparison finds.
        #[test]
        fn indexed_matching_equals_all_pairs(
            a in proptest::collection::vec(proptest::collection::btree_set(0u64..40, 1..12), 0..12),
            b in proptest::collection::vec(proptest::collection::btree_set(0u64..40, 1..12), 0..12),
            t in 0.05f64..0.9,
        ) {
            let a: Vec<Vec<u64>> = a.into_iter().map(|s| s.into_iter().collect()).collect();
            let b: Vec<Vec<u64>> = b.into_iter().map(|s| s.into_iter().collect()).collect();
            let mut naive = Vec::new();
            for (i, x) in a.iter().enumerate() {
                for (j, y) in b.iter().enumerate().rev() {
                    if set_jaccard(x, y) >= t {
                        naive.push((i, j));
                    }
                }
            }
            proptest::prop_assert_eq!(matching_segments(&a, &b, t), naive);
        }
    }

    #[test]
    fn chains_keep_the_order() {
        let seg = |v: &[u64]| v.to_vec();
        let a = vec![seg(&[1, 2]), seg(&[3, 4]), seg(&[5, 6])];
        let b = vec![seg(&[5, 6]), seg(&[1, 2]), seg(&[3, 4])];
        assert_eq!(ordered_matches(&a, &b, 0.5), [(0, 1), (1, 2)]);
    }
}
