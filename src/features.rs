//! Stages 2–4 applied to one document: text → the features later stages use.
//!
//! [`Featurizer::featurize`] runs normalize → shingle → sketch in one pass and
//! keeps only what candidates and verification need ([`DocFeatures`]).
//! [`Featurizer::sequence`] keeps the shingles *in order, with the byte span
//! of every token*; boilerplate detection and evidence (aligned passages) need
//! positions, and they compute them again for the few documents that need
//! them rather than storing positions for every document.

use crate::hash_lanes::char_ngram_keys;
use crate::normalize::{NormalizeOptions, Normalizer, TokenShape, TokenSpan, scanned_tokens};
use crate::passage::winnow;
use crate::shingle::{ShingleHasher, ShingleSet, hash_token_bytes};
use crate::sketch::{MinHasher, Signature};
use crate::spin::{CHAR_NGRAM_SEED, IMMUTABLE_SHINGLE, Immutables};

/// What the pipeline keeps of one document.
#[derive(Clone, Debug)]
pub struct DocFeatures {
    /// Hash of the sequence of normalized tokens; `None` when there is none.
    pub content_hash: Option<u128>,
    /// Number of tokens.
    pub tokens: u32,
    /// Distinct word shingles.
    pub shingles: ShingleSet,
    /// MinHash signature of the shingles.
    pub signature: Signature,
    /// MinHash signature of the immutable-word 3-grams (the spun view).
    pub spin_signature: Signature,
    /// MinHash signature of the character n-grams of the normalized text
    /// (the noisy-copy view); empty when the view is off.
    pub char_signature: Signature,
    /// Winnowed shingle hashes (passage fingerprints), sorted and distinct.
    pub fingerprints: Vec<u64>,
}

/// The shingles of a document in text order, with token positions.
#[derive(Clone, Debug, Default)]
pub struct ShingleSequence {
    /// Byte span of every token.
    pub tokens: Vec<TokenSpan>,
    /// Hash of every normalized token.
    pub token_hashes: Vec<u64>,
    /// Shape of every token (see [`TokenShape`]).
    pub shapes: Vec<TokenShape>,
    /// `hashes[i]` is the shingle that starts at token `i` (the last
    /// `size − 1` tokens start none; a document shorter than one shingle has
    /// a single shingle covering all its tokens).
    pub hashes: Vec<u64>,
}

impl ShingleSequence {
    /// Byte range in the text covered by shingles `first..=last`.
    pub fn byte_range(&self, first: usize, last: usize, shingle_size: usize) -> (usize, usize) {
        let end_token = (last + shingle_size - 1).min(self.tokens.len() - 1);
        (self.tokens[first].start, self.tokens[end_token].end)
    }
}

/// Turns texts into [`DocFeatures`] with one fixed configuration.
#[derive(Clone, Debug)]
pub struct Featurizer {
    normalizer: Normalizer,
    shingler: ShingleHasher,
    minhasher: MinHasher,
    winnow_window: usize,
    immutables: Immutables,
    immutable_shingler: ShingleHasher,
    char_ngram: usize,
}

impl Featurizer {
    /// A featurizer; `winnow_window` is the passage fingerprint window in
    /// shingles (see [`crate::passage`]).
    pub fn new(
        normalize: NormalizeOptions,
        shingler: ShingleHasher,
        minhasher: MinHasher,
        winnow_window: usize,
    ) -> Self {
        Self::with_char_ngrams(normalize, shingler, minhasher, winnow_window, 0)
    }

    /// A featurizer that also sketches character n-grams of `char_ngram`
    /// bytes of the normalized token stream (0: none).
    pub fn with_char_ngrams(
        normalize: NormalizeOptions,
        shingler: ShingleHasher,
        minhasher: MinHasher,
        winnow_window: usize,
        char_ngram: usize,
    ) -> Self {
        Featurizer {
            normalizer: Normalizer::new(normalize),
            shingler,
            minhasher,
            winnow_window,
            immutables: Immutables::english(),
            immutable_shingler: ShingleHasher::new(IMMUTABLE_SHINGLE)
                .expect("a valid shingle size"),
            char_ngram,
        }
    }

    /// The normalizer in use.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// The immutable-word classifier in use.
    pub fn immutables(&self) -> &Immutables {
        &self.immutables
    }

    /// The shingle size in tokens.
    pub fn shingle_size(&self) -> usize {
        self.shingler.size()
    }

    /// The word shingler in use.
    pub fn shingler(&self) -> &ShingleHasher {
        &self.shingler
    }

    /// Normalizes, shingles, sketches and winnows one text.
    pub fn featurize(&self, text: &str) -> DocFeatures {
        // Sized for news text (a token every 6 bytes or so) so that it
        // rarely grows: sizing it so cut a 100k scan's CPU by about 4 %
        // (runs taking turns). Texts over 1 MB, which may hold few tokens,
        // grow as they go beyond that.
        let expected = text.len().min(1 << 20);
        let mut tokens = Vec::with_capacity(expected / 5 + 8);
        // The immutable words, written at `immutable[kept]` whatever the
        // verdict and kept by counting them: whether a word is immutable is
        // a coin toss in running text, a branch mispredicted half the time.
        let mut immutable = Vec::new();
        let mut kept = 0;
        // The normalized tokens joined by spaces, for the character view (the
        // cheapest way to normalize tokens even when the view is off).
        let mut stream = Vec::new();
        self.normalizer.for_each_joined_token(text, &mut stream, |_, shape, t| {
            let h = hash_token_bytes(t);
            tokens.push(h);
            // The first token starts a sentence whatever precedes it.
            let starts_sentence = tokens.len() == 1 || shape.follows_break();
            if kept == immutable.len() {
                immutable.resize(2 * kept + 64, 0);
            }
            immutable[kept] = h;
            kept += usize::from(self.immutables.is_immutable_shaped(h, shape, starts_sentence));
        });
        immutable.truncate(kept);
        let content_hash = (!tokens.is_empty()).then(|| hash_of_tokens(&tokens));
        let mut sequence = Vec::with_capacity(tokens.len());
        self.shingler.shingles_into(&tokens, &mut sequence);
        let mut fingerprints = winnow(&sequence, self.winnow_window);
        fingerprints.sort_unstable();
        fingerprints.dedup();
        let shingles = ShingleSet::from_hashes(sequence);
        let signature = self.minhasher.sketch(&shingles);
        // A signature is a function of the set, and sketching takes hashes in
        // any order with repeats: the immutable shingles need no sorting.
        let mut immutable_shingles = Vec::with_capacity(immutable.len());
        self.immutable_shingler.shingles_into(&immutable, &mut immutable_shingles);
        let spin_signature = self.minhasher.sketch_hashes(immutable_shingles);
        let char_signature =
            self.sketch_char_ngrams(if self.char_ngram > 0 { &stream } else { &[] });
        DocFeatures {
            content_hash,
            tokens: tokens.len() as u32,
            shingles,
            signature,
            spin_signature,
            char_signature,
            fingerprints,
        }
    }

    /// The signature of the character n-grams of `stream`, each keyed by
    /// its xxh3 hash (see [`char_ngram_keys`]). (Packing n-grams of up to 8
    /// bytes into a `u64` as the window rolls was measured: 3 % less scan
    /// time on the 100k corpus, but a different random sample lost 2 of 104
    /// OCR pairs on the dev set, so the keys stay as indexes already store
    /// them.)
    fn sketch_char_ngrams(&self, stream: &[u8]) -> Signature {
        let mut keys = Vec::new();
        char_ngram_keys(stream, self.char_ngram, CHAR_NGRAM_SEED, &mut keys);
        self.minhasher.sketch_hashes(keys)
    }

    /// The shingles of `text` in order, with token spans.
    pub fn sequence(&self, text: &str) -> ShingleSequence {
        let scanned = scanned_tokens(text);
        let mut tokens = Vec::with_capacity(scanned.len());
        self.normalizer.normalize_each(text, &scanned, |_, t| tokens.push(hash_token_bytes(t)));
        let mut hashes = Vec::with_capacity(tokens.len());
        self.shingler.shingles_into(&tokens, &mut hashes);
        ShingleSequence {
            tokens: scanned.iter().map(|t| t.span).collect(),
            token_hashes: tokens,
            shapes: scanned.iter().map(|t| t.shape).collect(),
            hashes,
        }
    }
}

/// The content hash: xxh3-128 of the token hashes as little-endian bytes,
/// hashed where they are on a little-endian machine (see
/// [`crate::spill::u64s_as_le_bytes`]).
fn hash_of_tokens(tokens: &[u64]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(&crate::spill::u64s_as_le_bytes(tokens))
}

/// A small featurizer for unit tests: 3-word shingles, 16 hashes, window 4.
#[cfg(test)]
pub(crate) fn test_featurizer() -> Featurizer {
    Featurizer::new(
        NormalizeOptions::default(),
        ShingleHasher::new(3).unwrap(),
        MinHasher::new(16, crate::sketch::DEFAULT_SEED).unwrap(),
        4,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spin::ends_sentence;

    fn featurizer() -> Featurizer {
        test_featurizer()
    }

    #[test]
    fn sequence_and_set_agree() {
        let f = featurizer();
        let text = "One two three four five six seven. One two three!";
        let features = f.featurize(text);
        let seq = f.sequence(text);
        assert_eq!(seq.tokens.len(), 10);
        assert_eq!(seq.hashes.len(), 8);
        assert_eq!(ShingleSet::from_hashes(seq.hashes.clone()), features.shingles);
        // Every fingerprint is one of the shingles.
        assert!(features.fingerprints.iter().all(|h| features.shingles.contains(*h)));
        let (start, end) = seq.byte_range(0, 1, 3);
        assert_eq!(&text[start..end], "One two three four");
    }

    #[test]
    fn the_content_hash_is_xxh3_of_the_token_hashes_in_little_endian() {
        // Indexes keep content hashes: the definition must not drift.
        let f = featurizer();
        let text = "Don’t PANIC: 3.5 ﬁsh";
        let bytes: Vec<u8> =
            f.sequence(text).token_hashes.iter().flat_map(|h| h.to_le_bytes()).collect();
        assert_eq!(bytes.len(), 4 * 8);
        assert_eq!(f.featurize(text).content_hash, Some(xxhash_rust::xxh3::xxh3_128(&bytes)));
    }

    #[test]
    fn the_spun_view_sketches_the_immutable_words_the_text_defines() {
        // The featurizer classifies tokens from the shapes the tokenizer
        // gathers; the definition reads the text (token and gap).
        let f = featurizer();
        let text = "Leader Putin said 83 of the Étoile staff left... Then the \
                    Kremlin’s chief, on 2 May; Thousands of élan\nÜber army units.";
        let seq = f.sequence(text);
        let mut immutable = Vec::new();
        for (i, span) in seq.tokens.iter().enumerate() {
            let start = i == 0 || ends_sentence(&text[seq.tokens[i - 1].end..span.start]);
            let hash = seq.token_hashes[i];
            if f.immutables().is_immutable(&text[span.start..span.end], hash, start) {
                immutable.push(hash);
            }
        }
        // Putin 83 of the Étoile · Then the Kremlin’s · on 2 May · of; not
        // Leader, Thousands or Über (the first token and sentence starts
        // after `;` and a line end) nor the other words.
        assert_eq!(immutable.len(), 12);
        let mut shingles = Vec::new();
        f.immutable_shingler.shingles_into(&immutable, &mut shingles);
        assert_eq!(f.featurize(text).spin_signature, f.minhasher.sketch_hashes(shingles));
    }

    #[test]
    fn short_texts_have_one_shingle_over_all_tokens() {
        let f = featurizer();
        let seq = f.sequence("Hello world");
        assert_eq!(seq.hashes.len(), 1);
        assert_eq!(seq.byte_range(0, 0, 3), (0, 11));
        assert!(f.featurize("  ").content_hash.is_none());
    }
}
