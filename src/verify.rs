//! Stage 6 of the pipeline: candidate pairs → exact similarity scores.
//!
//! A band collision only says that two signatures agree somewhere. Every
//! candidate is therefore measured on the documents' real shingle sets:
//! the size of their intersection gives the exact Jaccard similarity and
//! the containment of each document in the other. Nothing is ever reported
//! on an estimate.

use serde::Serialize;

use crate::shingle::ShingleSet;

/// Exact overlap of two shingle sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PairScores {
    /// Shingles in both documents.
    pub shared: u32,
    /// Distinct shingles of document `a`.
    pub len_a: u32,
    /// Distinct shingles of document `b`.
    pub len_b: u32,
}

impl PairScores {
    /// Measures `a` against `b`.
    ///
    /// ```
    /// use neardup::shingle::ShingleSet;
    /// use neardup::verify::PairScores;
    /// let a = ShingleSet::from_hashes(vec![1, 2, 3, 4]);
    /// let b = ShingleSet::from_hashes(vec![3, 4, 5, 6, 7, 8]);
    /// let s = PairScores::between(&a, &b);
    /// assert_eq!(s.jaccard(), 0.25);
    /// assert_eq!(s.containment_a_in_b(), 0.5);
    /// ```
    pub fn between(a: &ShingleSet, b: &ShingleSet) -> Self {
        PairScores {
            shared: a.intersection_len(b) as u32,
            len_a: a.len() as u32,
            len_b: b.len() as u32,
        }
    }

    /// `|A ∩ B| / |A ∪ B|`; 0 when both are empty.
    pub fn jaccard(&self) -> f64 {
        let union = self.len_a + self.len_b - self.shared;
        ratio(self.shared, union)
    }

    /// `|A ∩ B| / |A|`: the share of `a` found in `b`.
    pub fn containment_a_in_b(&self) -> f64 {
        ratio(self.shared, self.len_a)
    }

    /// `|A ∩ B| / |B|`: the share of `b` found in `a`.
    pub fn containment_b_in_a(&self) -> f64 {
        ratio(self.shared, self.len_b)
    }

    /// The same scores seen from the other side.
    pub fn swapped(&self) -> Self {
        PairScores { shared: self.shared, len_a: self.len_b, len_b: self.len_a }
    }
}

fn ratio(num: u32, den: u32) -> f64 {
    if den == 0 { 0.0 } else { f64::from(num) / f64::from(den) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_of_disjoint_identical_and_empty_sets() {
        let a = ShingleSet::from_hashes(vec![1, 2, 3]);
        let b = ShingleSet::from_hashes(vec![4, 5]);
        let empty = ShingleSet::default();
        assert_eq!(PairScores::between(&a, &b).jaccard(), 0.0);
        assert_eq!(PairScores::between(&a, &a).jaccard(), 1.0);
        let e = PairScores::between(&empty, &empty);
        assert_eq!((e.jaccard(), e.containment_a_in_b()), (0.0, 0.0));
    }

    #[test]
    fn swapping_swaps_containments() {
        let a = ShingleSet::from_hashes(vec![1, 2]);
        let b = ShingleSet::from_hashes(vec![1, 2, 3, 4]);
        let s = PairScores::between(&a, &b);
        assert_eq!(s.containment_a_in_b(), 1.0);
        assert_eq!(s.swapped().containment_b_in_a(), 1.0);
        assert_eq!(s.swapped().jaccard(), s.jaccard());
    }
}
