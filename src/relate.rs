//! Stage 7a of the pipeline: verified scores → a named relation.
//!
//! | relation | meaning |
//! |---|---|
//! | `duplicate` | the same sequence of normalized words: only case, whitespace, line ends, punctuation or typography differ |
//! | `near_duplicate` | the same article with editorial changes: word-shingle Jaccard at least the threshold |
//! | `contained` | reserved: one document found inside a larger one |
//! | `spun` | reserved: a synonym-rewritten copy |
//!
//! `duplicate` is decided by equal content hashes before any pair is
//! verified (see [`crate::scan`]); this module classifies the other pairs from
//! their [`PairScores`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::verify::PairScores;

/// Default Jaccard similarity of word 5-shingles for `near_duplicate`.
pub const DEFAULT_NEAR_THRESHOLD: f64 = 0.4;

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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Edge {
    /// First document.
    pub a: u32,
    /// Second document.
    pub b: u32,
    /// How they are related.
    pub relation: Relation,
    /// Exact overlap of their shingle sets.
    pub scores: PairScores,
}

/// Thresholds that turn scores into relations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelateConfig {
    /// Minimum word-shingle Jaccard similarity for `near_duplicate`.
    pub near_threshold: f64,
}

impl Default for RelateConfig {
    fn default() -> Self {
        RelateConfig { near_threshold: DEFAULT_NEAR_THRESHOLD }
    }
}

impl RelateConfig {
    /// The relation of a verified pair that is not an exact duplicate, if any.
    pub fn classify(&self, scores: &PairScores) -> Option<Relation> {
        (scores.jaccard() >= self.near_threshold).then_some(Relation::NearDuplicate)
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

    #[test]
    fn near_duplicate_needs_the_threshold() {
        let cfg = RelateConfig::default();
        let at = PairScores { shared: 40, len_a: 70, len_b: 70 }; // J = 0.4
        let below = PairScores { shared: 39, len_a: 70, len_b: 70 };
        assert_eq!(cfg.classify(&at), Some(Relation::NearDuplicate));
        assert_eq!(cfg.classify(&below), None);
    }
}
