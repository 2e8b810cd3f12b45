//! Which words a spinner leaves alone: the immutable words of the spun
//! view (see the [parent module](super)).
//!
//! A spinner has no synonym for function words, numbers or names, so the
//! spun view's candidates are 3-grams of those words, and every token of
//! every document is classified here while it is sketched.

use crate::normalize::{TokenShape, is_break_byte};
use crate::shingle::hash_token;

/// Decides which tokens a spinner is unlikely to change.
#[derive(Clone, Debug)]
pub struct Immutables {
    /// Open-addressing table of the function words' token hashes: every
    /// word sits in its home slot (`hash >> shift`, masked) or the one
    /// after, 0 marks an empty slot, and there is one slot more than a
    /// power of two. Every token of every document is looked up here: two
    /// compares, no loop and no branch on the outcome, which is a coin
    /// toss in running text (half its words are function words).
    slots: Vec<u64>,
    /// Where a hash's home slot starts, in bits from its low end.
    shift: u32,
}

impl Default for Immutables {
    fn default() -> Self {
        Self::english()
    }
}

impl Immutables {
    /// English function words (NLTK list).
    pub fn english() -> Self {
        let mut stopwords: Vec<u64> = stop_words::get(stop_words::Language::English)
            .iter()
            .map(|w| hash_token(&w.to_lowercase().replace('’', "'")))
            .collect();
        stopwords.sort_unstable();
        stopwords.dedup();
        // A zero hash cannot be stored (it marks empty slots); the odds of
        // a function word hashing to it are 2^-64.
        stopwords.retain(|&h| h != 0);
        Self::with_words(&stopwords)
    }

    /// The smallest table, at most a quarter full, that holds `hashes`
    /// (distinct, none 0) with some shift: at a quarter full about one
    /// shift in seven works, and there are dozens to try.
    fn with_words(hashes: &[u64]) -> Self {
        let mut size = (hashes.len() * 4).next_power_of_two().max(16);
        loop {
            for shift in (0..=64 - size.trailing_zeros()).rev() {
                if let Some(table) = Self::two_slot_table(hashes, size, shift) {
                    return table;
                }
            }
            size *= 2;
        }
    }

    /// A table of `size + 1` slots holding every hash in its home slot or
    /// the next, if linear probing puts them there.
    fn two_slot_table(hashes: &[u64], size: usize, shift: u32) -> Option<Self> {
        let mut table = Immutables { slots: vec![0u64; size + 1], shift };
        for &h in hashes {
            let home = table.home_of(h);
            let i = (home..=home + 1).find(|&i| table.slots[i] == 0)?;
            table.slots[i] = h;
        }
        Some(table)
    }

    #[inline]
    fn home_of(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize & (self.slots.len() - 2)
    }

    /// Returns true if and only if `hash` is a function word's token hash.
    #[inline]
    fn is_stopword(&self, hash: u64) -> bool {
        let i = self.home_of(hash);
        let pair = &self.slots[i..i + 2];
        (pair[0] == hash) | (pair[1] == hash)
    }

    /// Returns true if and only if the token is a function word, holds a
    /// digit, or is capitalised without starting a sentence. `raw` is the
    /// token as written, `hash` its normalized hash.
    #[inline]
    pub fn is_immutable(&self, raw: &str, hash: u64, sentence_start: bool) -> bool {
        self.is_immutable_shaped(hash, TokenShape::of(raw), sentence_start)
    }

    /// [`Immutables::is_immutable`] for a token whose [`TokenShape`] the
    /// tokenizer found.
    #[inline]
    pub fn is_immutable_shaped(&self, hash: u64, shape: TokenShape, sentence_start: bool) -> bool {
        // Bitwise, not short-circuit: each test is cheap and its outcome
        // hard to predict.
        self.is_stopword(hash)
            | shape.has_ascii_digit()
            | (!sentence_start & shape.starts_uppercase())
    }
}

/// Returns true if and only if the text between two tokens ends a sentence
/// or a line.
#[inline]
pub fn ends_sentence(gap: &str) -> bool {
    gap.bytes().any(is_break_byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn immutables_are_function_words_numbers_and_names() {
        let imm = Immutables::english();
        let h = |w: &str| hash_token(w);
        assert!(imm.is_immutable("the", h("the"), false));
        assert!(imm.is_immutable("83", h("83"), false));
        assert!(imm.is_immutable("Kremlin", h("kremlin"), false));
        assert!(!imm.is_immutable("Thousands", h("thousands"), true));
        assert!(!imm.is_immutable("leader", h("leader"), false));
        assert!(ends_sentence(". ") && ends_sentence("\n") && !ends_sentence(", "));
    }

    #[test]
    fn the_function_word_table_holds_every_word_and_nothing_else() {
        let imm = Immutables::english();
        let words = stop_words::get(stop_words::Language::English);
        for w in words {
            assert!(imm.is_stopword(hash_token(&w.to_lowercase().replace('’', "'"))), "{w}");
        }
        let known: std::collections::HashSet<String> =
            words.iter().map(|w| w.to_lowercase()).collect();
        let others = (0..20_000)
            .map(|i| format!("w{i}"))
            .chain(["leader", "war", "kremlin"].map(String::from));
        for w in others.filter(|w| !known.contains(w)) {
            assert!(!imm.is_stopword(hash_token(&w)), "{w}");
        }
    }

    #[test]
    fn the_function_word_table_keeps_each_word_in_its_home_slot_or_the_next() {
        let (size, shift) = (16, 40);
        let at = |home: u64, low: u64| (home << shift) | low;
        // Two words sharing a home slot fit; a third one does not.
        let table = Immutables::two_slot_table(&[at(5, 1), at(5, 2)], size, shift).unwrap();
        assert_eq!(table.slots.len(), size + 1);
        assert!(table.is_stopword(at(5, 1)) && table.is_stopword(at(5, 2)));
        assert!(!table.is_stopword(at(5, 3)) && !table.is_stopword(at(6, 1)));
        let three = [at(5, 1), at(5, 2), at(5, 3)];
        assert!(Immutables::two_slot_table(&three, size, shift).is_none());
        // The last home slot spills into the extra slot, not around.
        let table = Immutables::two_slot_table(&[at(15, 1), at(15, 2)], size, shift).unwrap();
        assert!(table.is_stopword(at(15, 2)) && !table.is_stopword(at(0, 2)));
        // Another shift or a larger table is found when one does not fit.
        let table = Immutables::with_words(&three);
        assert!(three.iter().all(|&h| table.is_stopword(h)));
        // The English table is at most a quarter full: 8 KiB for the NLTK
        // list, within the first-level cache.
        let english = Immutables::english();
        assert!(english.slots.len() <= 4 * 256 + 1, "{}", english.slots.len());
    }
}
