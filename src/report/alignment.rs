//! Word-level alignment of two texts, for people looking at a pair.
//!
//! The scan's evidence ([`crate::evidence`], [`crate::spin`]) says which
//! passages and which substitutions made a pair. To *show* them, the two
//! texts are aligned word by word: which words of `a` reappear in `b`, in
//! order, and which were replaced.
//!
//! The words (normalized as for shingling) are diffed with the patience
//! algorithm of the [`similar`] crate: it anchors on words that occur once
//! in each text, so a common word ("the") does not pull unrelated regions
//! together, and it is a maintained implementation with a time limit, which
//! a hand-written LCS would not be. The diff is then read as a sequence of
//! **aligned blocks**: equal runs joined across small replacements (at most
//! [`MAX_CHANGE_WORDS`] words on either side), such as a spinner's "leader" →
//! "chief" or an OCR error. A block is kept when its equal words number at
//! least [`MIN_BLOCK_EQUAL`] and outnumber its changed words, so the stray
//! "of the" that any two English texts share is not shown as a match.

use std::ops::Range;
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

use crate::normalize::{Normalizer, TokenSpan};
use crate::shingle::hash_token;

/// Longest replacement (in words, on either side) inside an aligned block.
pub const MAX_CHANGE_WORDS: usize = 3;
/// Fewest equal words in a block worth showing.
pub const MIN_BLOCK_EQUAL: usize = 6;
/// Time after which the diff settles for a coarser answer (long pages).
const DIFF_TIME_LIMIT: Duration = Duration::from_secs(2);

/// Words replaced inside an aligned block: word ranges in `a` and in `b`
/// (one of them may be empty: a word dropped or added).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordChange {
    /// Words of `a` (indices into [`Alignment::a`]).
    pub a: Range<usize>,
    /// Words of `b` (indices into [`Alignment::b`]).
    pub b: Range<usize>,
}

/// A stretch of `a` found again in `b`, in order, with its changed words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlignedBlock {
    /// Words of `a`.
    pub a: Range<usize>,
    /// Words of `b`.
    pub b: Range<usize>,
    /// Words equal in both.
    pub equal_words: usize,
    /// Replacements inside the block, in order.
    pub changes: Vec<WordChange>,
}

/// Two texts aligned word by word.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Alignment {
    /// Byte spans of the words of `a`.
    pub a: Vec<TokenSpan>,
    /// Byte spans of the words of `b`.
    pub b: Vec<TokenSpan>,
    /// Aligned blocks in the order of `a` (and of `b`).
    pub blocks: Vec<AlignedBlock>,
}

impl Alignment {
    /// Aligns `a_text` with `b_text`, words normalized by `normalizer`.
    ///
    /// ```
    /// use neardup::normalize::Normalizer;
    /// use neardup::report::alignment::Alignment;
    /// let a = "The leader said the war would end soon, according to officials.";
    /// let b = "The chief said the warfare would end soon, according to officials.";
    /// let al = Alignment::new(a, b, &Normalizer::default());
    /// assert_eq!(al.blocks.len(), 1);
    /// let words: Vec<_> = al.substitutions(a, b).collect();
    /// assert_eq!(words, [("leader".to_string(), "chief".to_string()),
    ///                    ("war".to_string(), "warfare".to_string())]);
    /// ```
    pub fn new(a_text: &str, b_text: &str, normalizer: &Normalizer) -> Self {
        let (a, a_words) = words(a_text, normalizer);
        let (b, b_words) = words(b_text, normalizer);
        let deadline = Instant::now() + DIFF_TIME_LIMIT;
        let ops =
            capture_diff_slices_deadline(Algorithm::Patience, &a_words, &b_words, Some(deadline));
        Alignment { a, b, blocks: blocks(&ops) }
    }

    /// Words of `a` inside aligned blocks and equal in `b`.
    pub fn equal_words(&self) -> usize {
        self.blocks.iter().map(|b| b.equal_words).sum()
    }

    /// The text of words `range` of a text whose spans are `spans`.
    pub fn text<'t>(text: &'t str, spans: &[TokenSpan], range: &Range<usize>) -> &'t str {
        if range.is_empty() {
            return "";
        }
        &text[spans[range.start].start..spans[range.end - 1].end]
    }

    /// Every replacement as `(words in a, words in b)`, in order of `a`; a
    /// dropped or added word has an empty side.
    pub fn substitutions<'s>(
        &'s self,
        a_text: &'s str,
        b_text: &'s str,
    ) -> impl Iterator<Item = (String, String)> + 's {
        self.blocks.iter().flat_map(|block| &block.changes).map(move |c| {
            (
                Self::text(a_text, &self.a, &c.a).to_string(),
                Self::text(b_text, &self.b, &c.b).to_string(),
            )
        })
    }
}

/// The spans and normalized-word hashes of `text`.
fn words(text: &str, normalizer: &Normalizer) -> (Vec<TokenSpan>, Vec<u64>) {
    let mut spans = Vec::new();
    let mut hashes = Vec::new();
    normalizer.for_each_token(text, |span, word| {
        spans.push(span);
        hashes.push(hash_token(word));
    });
    (spans, hashes)
}

/// A block being built from diff operations.
struct OpenBlock {
    a_start: usize,
    b_start: usize,
    a_end: usize,
    b_end: usize,
    equal_words: usize,
    changed_words: usize,
    changes: Vec<WordChange>,
    /// A replacement seen after the last equal run: kept only if another
    /// equal run follows.
    pending: Option<WordChange>,
}

impl OpenBlock {
    fn close(self, out: &mut Vec<AlignedBlock>) {
        let worth_showing =
            self.equal_words >= MIN_BLOCK_EQUAL && self.equal_words > self.changed_words;
        if worth_showing {
            out.push(AlignedBlock {
                a: self.a_start..self.a_end,
                b: self.b_start..self.b_end,
                equal_words: self.equal_words,
                changes: self.changes,
            });
        }
    }
}

/// Reads diff operations as aligned blocks.
fn blocks(ops: &[DiffOp]) -> Vec<AlignedBlock> {
    let mut out = Vec::new();
    let mut open: Option<OpenBlock> = None;
    for op in ops {
        match *op {
            DiffOp::Equal { old_index, new_index, len } => {
                let block = open.get_or_insert(OpenBlock {
                    a_start: old_index,
                    b_start: new_index,
                    a_end: old_index,
                    b_end: new_index,
                    equal_words: 0,
                    changed_words: 0,
                    changes: Vec::new(),
                    pending: None,
                });
                if let Some(change) = block.pending.take() {
                    block.changed_words += change.a.len().max(change.b.len());
                    block.changes.push(change);
                }
                block.a_end = old_index + len;
                block.b_end = new_index + len;
                block.equal_words += len;
            }
            _ => {
                let (a, b) = (op.old_range(), op.new_range());
                let small = a.len() <= MAX_CHANGE_WORDS && b.len() <= MAX_CHANGE_WORDS;
                match open.as_mut() {
                    Some(block) if small && block.pending.is_none() => {
                        block.pending = Some(WordChange { a, b });
                    }
                    _ => {
                        if let Some(block) = open.take() {
                            block.close(&mut out);
                        }
                    }
                }
            }
        }
    }
    if let Some(block) = open.take() {
        block.close(&mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn align(a: &str, b: &str) -> Alignment {
        Alignment::new(a, b, &Normalizer::default())
    }

    #[test]
    fn an_article_inside_a_page_is_one_block_and_the_page_chrome_is_not_matched() {
        let article = "The council approved the new bridge on Tuesday after a long debate \
                       about its cost and its design.";
        let page = format!(
            "Home | News | Sport. Latest headlines. {article} Other stories: a cat \
             was rescued from a tree by the fire brigade."
        );
        let al = align(article, &page);
        assert_eq!(al.blocks.len(), 1, "{:?}", al.blocks);
        let block = &al.blocks[0];
        assert_eq!(block.a, 0..al.a.len());
        assert!(block.changes.is_empty());
        assert_eq!(Alignment::text(&page, &al.b, &block.b), article.trim_end_matches('.'));
    }

    #[test]
    fn unrelated_texts_share_no_block_even_with_common_words() {
        let a = "The mayor of the city said that the plan for the harbour is on hold.";
        let b = "In the end a player of the club told the press that he is near a move.";
        assert!(align(a, b).blocks.is_empty());
    }

    #[test]
    fn a_replacement_at_the_edge_of_a_block_is_not_part_of_it() {
        let a = "alpha beta gamma delta epsilon zeta eta";
        let b = "alpha beta gamma delta epsilon zeta omega";
        let al = align(a, b);
        assert_eq!(al.blocks.len(), 1);
        assert_eq!(al.blocks[0].a, 0..6);
        assert!(al.blocks[0].changes.is_empty());
    }

    #[test]
    fn long_rewrites_split_blocks() {
        let a = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";
        let b = "one two three four five six siete ocho nueve diez eleven twelve thirteen fourteen";
        let al = align(a, b);
        assert_eq!(al.blocks.len(), 1, "{:?}", al.blocks);
        assert_eq!(al.blocks[0].a, 0..6);
        let c = "one two three four five six siete eight nine ten eleven twelve thirteen fourteen";
        let al = align(a, c);
        assert_eq!(al.blocks.len(), 1);
        assert_eq!(al.blocks[0].changes, [WordChange { a: 6..7, b: 6..7 }]);
        assert_eq!(al.equal_words(), 13);
    }
}
