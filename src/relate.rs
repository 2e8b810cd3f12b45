//! Stage 7a of the pipeline: verified scores → a named relation.
//!
//! | relation | meaning | rule (on content shingles, boilerplate removed) |
//! |---|---|---|
//! | `duplicate` | the same sequence of normalized words: only case, whitespace, line ends, punctuation or typography differ | equal content hashes |
//! | `near_duplicate` | the same article with editorial changes | Jaccard ≥ `near_threshold` **and** each document is at least `near_min_containment` inside the other |
//! | `contained` | the smaller document found inside a larger one (a page carrying an article, an article carrying its teaser) | the smaller is at least `contained_threshold` inside the larger and has at least `min_contained_shingles` content shingles |
//! | `spun` | a synonym-rewritten copy | no shingle rule applies, the spun view verifies a rewrite, and its substitutions are synonyms rather than spelling noise (see [`crate::spin`]) |
//!
//! The two-sided condition on `near_duplicate` is what keeps stories apart.
//! A page made of articles A and B can reach a Jaccard of 0.4 with each of
//! them, but only a fraction of the page is inside either article. So it is
//! `contained`-linked to both, and never joins (or chains) their clusters.
//! With `near_min_containment` above one half, a document can never be the
//! near-duplicate of two documents that share nothing: more than half of it
//! would have to lie in each. The default, 0.55, still admits two
//! equal-sized texts at the Jaccard threshold of 0.4 (containment
//! `2J/(1+J)` = 0.57).
//!
//! `duplicate` is decided by equal content hashes before any pair is
//! verified (see [`crate::duplicates`]); this module classifies the other
//! pairs from their [`PairScores`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::spin::RewriteEvidence;
use crate::verify::PairScores;

/// Default Jaccard similarity of word 5-shingles for `near_duplicate`.
pub const DEFAULT_NEAR_THRESHOLD: f64 = 0.4;
/// Default share of each document that must be inside the other for
/// `near_duplicate`.
pub const DEFAULT_NEAR_MIN_CONTAINMENT: f64 = 0.55;
/// Default share of the smaller document that must be inside the larger for
/// `contained`.
pub const DEFAULT_CONTAINED_THRESHOLD: f64 = 0.6;
/// Default minimum size, in content shingles, of a contained document.
pub const DEFAULT_MIN_CONTAINED_SHINGLES: u32 = 20;

/// How two documents are related.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The same normalized text.
    Duplicate,
    /// The same article with editorial changes.
    NearDuplicate,
    /// Document `a` is found inside the larger document `b`.
    Contained,
    /// A synonym-spun rewrite of the same article.
    Spun,
}

impl Relation {
    /// All relations, in output order.
    pub const ALL: [Relation; 4] =
        [Relation::Duplicate, Relation::NearDuplicate, Relation::Contained, Relation::Spun];

    /// The name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Duplicate => "duplicate",
            Relation::NearDuplicate => "near_duplicate",
            Relation::Contained => "contained",
            Relation::Spun => "spun",
        }
    }

    /// Returns true if and only if the relation makes both documents copies
    /// of one story, so that they belong in one cluster. `contained` does
    /// not: a page carrying two articles must not merge them.
    pub fn is_equivalence(self) -> bool {
        !matches!(self, Relation::Contained)
    }
}

impl fmt::Display for Relation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Relation {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Relation::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            format!(
                "unknown relation {s:?} (expected duplicate, near_duplicate, contained or spun)"
            )
        })
    }
}

/// A verified relation between two documents (indices into the scan's
/// documents). For symmetric relations `a < b`; for `contained`, `a` is the
/// document found inside `b`.
///
/// The evidence that explains it (aligned spans, substitutions) is a
/// [`PairEvidence`], kept apart: it is large, and read only for output.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Edge {
    /// First document.
    pub a: u32,
    /// Second document.
    pub b: u32,
    /// How they are related.
    pub relation: Relation,
    /// Exact overlap of their content shingle sets.
    pub scores: PairScores,
}

impl Edge {
    /// A pair with its scores.
    pub fn new(a: u32, b: u32, relation: Relation, scores: PairScores) -> Self {
        Edge { a, b, relation, scores }
    }

    /// The same edge seen from the other side.
    pub fn swapped(&self) -> Self {
        Edge { a: self.b, b: self.a, relation: self.relation, scores: self.scores.swapped() }
    }
}

/// Why two documents are related, beyond their scores.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PairEvidence {
    /// Where they match (computed for `contained` pairs).
    pub matched: Option<Evidence>,
    /// Why they are rewrites of one text (pairs found by the spun view).
    pub rewrite: Option<RewriteEvidence>,
}

/// Thresholds that turn scores into relations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelateConfig {
    /// Minimum word-shingle Jaccard similarity for `near_duplicate`.
    pub near_threshold: f64,
    /// Minimum containment, in both directions, for `near_duplicate`.
    pub near_min_containment: f64,
    /// Minimum containment of the smaller document for `contained`.
    pub contained_threshold: f64,
    /// Minimum number of content shingles of a contained document.
    pub min_contained_shingles: u32,
}

impl Default for RelateConfig {
    fn default() -> Self {
        RelateConfig {
            near_threshold: DEFAULT_NEAR_THRESHOLD,
            near_min_containment: DEFAULT_NEAR_MIN_CONTAINMENT,
            contained_threshold: DEFAULT_CONTAINED_THRESHOLD,
            min_contained_shingles: DEFAULT_MIN_CONTAINED_SHINGLES,
        }
    }
}

/// A classified pair: its relation, and whether `b` is the contained
/// document (so the edge must be written `b → a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Classified {
    /// The relation.
    pub relation: Relation,
    /// For `contained`: true if and only if `b` is inside `a`.
    pub swap: bool,
}

impl RelateConfig {
    /// The relation of a verified pair that is not an exact duplicate, if any.
    pub fn classify(&self, scores: &PairScores) -> Option<Classified> {
        let (a_in_b, b_in_a) = (scores.containment_a_in_b(), scores.containment_b_in_a());
        if scores.jaccard() >= self.near_threshold
            && a_in_b.min(b_in_a) >= self.near_min_containment
        {
            return Some(Classified { relation: Relation::NearDuplicate, swap: false });
        }
        let (share, len, swap) = if scores.len_a <= scores.len_b {
            (a_in_b, scores.len_a, false)
        } else {
            (b_in_a, scores.len_b, true)
        };
        (share >= self.contained_threshold && len >= self.min_contained_shingles)
            .then_some(Classified { relation: Relation::Contained, swap })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Relation::ALL {
            assert_eq!(r.as_str().parse::<Relation>().unwrap(), r);
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert!("copy".parse::<Relation>().is_err());
    }

    fn relation(
        cfg: &RelateConfig,
        shared: u32,
        len_a: u32,
        len_b: u32,
    ) -> Option<(Relation, bool)> {
        cfg.classify(&PairScores { shared, len_a, len_b }).map(|c| (c.relation, c.swap))
    }

    #[test]
    fn near_duplicate_needs_the_threshold() {
        let cfg = RelateConfig::default();
        assert_eq!(relation(&cfg, 40, 70, 70), Some((Relation::NearDuplicate, false))); // J = 0.4
        assert_eq!(relation(&cfg, 39, 70, 70), None);
    }

    #[test]
    fn an_article_inside_a_page_is_contained_not_near() {
        let cfg = RelateConfig::default();
        // A 300-shingle article fully inside a 700-shingle page: J = 0.43,
        // but only 43 % of the page is in the article.
        assert_eq!(relation(&cfg, 300, 300, 700), Some((Relation::Contained, false)));
        // The same seen from the page's side: the article is `b`.
        assert_eq!(relation(&cfg, 300, 700, 300), Some((Relation::Contained, true)));
        // A page that is mostly the article is a near-duplicate.
        assert_eq!(relation(&cfg, 300, 300, 340), Some((Relation::NearDuplicate, false)));
        // Too little of the smaller one inside (half of it): nothing.
        assert_eq!(relation(&cfg, 150, 300, 700), None);
        // Tiny documents are not "contained".
        assert_eq!(relation(&cfg, 10, 10, 700), None);
    }
}
