//! The `--pairs` and `--clusters` JSONL files read back, for reports made
//! after a scan (`neardup report`).
//!
//! [`PairRow`] and [`ClusterRow`] are owned mirrors of
//! [`super::PairRecord`] and [`super::ClusterRecord`]: the files are the
//! contract between a scan and whatever reads its output, so the HTML report
//! reads them exactly as a user's script would. A line that cannot be read
//! stops with an error naming the file and the line: a report silently
//! missing pairs would mislead its reader.

use std::io::BufRead;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::evidence::MatchedSpan;
use crate::relate::Relation;
use crate::spin::Substitution;
use crate::{Error, Result};

/// One line of a `--pairs` JSONL file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PairRow {
    /// First document id (for `contained`, the contained one).
    pub a: String,
    /// Second document id.
    pub b: String,
    /// The relation.
    pub relation: Relation,
    /// Exact Jaccard similarity of the content shingles.
    pub jaccard: f64,
    /// Share of `a`'s shingles found in `b`.
    pub containment_a_in_b: f64,
    /// Share of `b`'s shingles found in `a`.
    pub containment_b_in_a: f64,
    /// Shingles in both.
    #[serde(default)]
    pub shared_shingles: u32,
    /// Distinct shingles of `a`.
    #[serde(default)]
    pub shingles_a: u32,
    /// Distinct shingles of `b`.
    #[serde(default)]
    pub shingles_b: u32,
    /// Cluster of both documents.
    #[serde(default)]
    pub cluster: Option<String>,
    /// For `contained`: share of `a`'s text inside the matched spans.
    #[serde(default)]
    pub matched_share: Option<f64>,
    /// For `contained`: matched regions (character offsets).
    #[serde(default)]
    pub spans: Option<Vec<MatchedSpan>>,
    /// For spun pairs: sentences matched in order.
    #[serde(default)]
    pub aligned_sentences: Option<u32>,
    /// For spun pairs: sentences of `a` and of `b`.
    #[serde(default)]
    pub sentences: Option<[u32; 2]>,
    /// For spun pairs: substitutions from `a` to `b`.
    #[serde(default)]
    pub substitutions: Option<Vec<Substitution>>,
}

/// One line of a `--clusters` JSONL file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct ClusterRow {
    /// Stable cluster id.
    pub id: String,
    /// Member ids in input order.
    pub members: Vec<String>,
    /// The likely original.
    pub original: String,
    /// Why it was chosen (`AttributionReason`, as written).
    #[serde(default)]
    pub original_reason: Option<String>,
    /// Documents that contain a member.
    #[serde(default)]
    pub carried_by: Vec<String>,
}

impl PairRow {
    /// The pair as one sentence a reviewer can read.
    ///
    /// ```
    /// # use neardup::report::rows::PairRow;
    /// let row: PairRow = serde_json::from_str(r#"{"a":"x","b":"y","relation":"contained",
    ///     "jaccard":0.17,"containment_a_in_b":0.99,"containment_b_in_a":0.18,"matched_share":0.98}"#).unwrap();
    /// assert_eq!(row.sentence(), "x is carried inside y: 98% of its text is found there, \
    ///     and it makes up 18% of y.");
    /// ```
    pub fn sentence(&self) -> String {
        let pct = |x: f64| format!("{:.0}%", x * 100.0);
        let (a, b) = (&self.a, &self.b);
        match self.relation {
            Relation::Duplicate => format!(
                "{a} and {b} hold the same words in the same order; only case, spacing, \
                 punctuation or typography differ."
            ),
            Relation::NearDuplicate => format!(
                "{a} and {b} are versions of one text: they share {} of their 5-word \
                 shingles (Jaccard), {} of {a} is in {b} and {} of {b} is in {a}.",
                pct(self.jaccard),
                pct(self.containment_a_in_b),
                pct(self.containment_b_in_a)
            ),
            Relation::Contained => format!(
                "{a} is carried inside {b}: {} of its text is found there, and it makes up \
                 {} of {b}.",
                pct(self.matched_share.unwrap_or(self.containment_a_in_b)),
                pct(self.containment_b_in_a)
            ),
            Relation::Spun => {
                let aligned = match (self.aligned_sentences, self.sentences) {
                    (Some(n), Some([sa, sb])) => {
                        format!("{n} of {} sentences align in order", sa.min(sb))
                    }
                    _ => "their sentences align in order".to_string(),
                };
                // Pairs from an index carry scores only, no substitutions.
                let replaced = match self.substitutions.as_deref() {
                    Some(subs) if !subs.is_empty() => {
                        let n: u32 = subs.iter().map(|s| s.count).sum();
                        format!(
                            ", {n} words were replaced (such as \u{201c}{}\u{201d} \u{2192} \u{201c}{}\u{201d})",
                            subs[0].from, subs[0].to
                        )
                    }
                    _ => String::new(),
                };
                format!(
                    "{b} is a synonym-spun rewrite of {a}: {aligned}{replaced}, yet only {} of \
                     their 5-word shingles are shared.",
                    pct(self.jaccard)
                )
            }
        }
    }
}

/// Reads a `--pairs` JSONL file.
pub fn read_pairs(path: &Path) -> Result<Vec<PairRow>> {
    read_jsonl(path)
}

/// Reads a `--clusters` JSONL file.
pub fn read_clusters(path: &Path) -> Result<Vec<ClusterRow>> {
    read_jsonl(path)
}

/// Reads `--pairs` JSONL from `reader`; errors name `path` and the line.
pub fn pairs_from_reader(reader: impl BufRead, path: &Path) -> Result<Vec<PairRow>> {
    jsonl_from_reader(reader, path)
}

fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    jsonl_from_reader(std::io::BufReader::new(file), path)
}

fn jsonl_from_reader<T: DeserializeOwned>(reader: impl BufRead, path: &Path) -> Result<Vec<T>> {
    let mut rows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let row = serde_json::from_str(&line).map_err(|e| {
            Error::io(
                format!("{}:{}", path.display(), i + 1),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            )
        })?;
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pairs.jsonl");
        std::fs::write(
            &path,
            "{\"a\":\"x\",\"b\":\"y\",\"relation\":\"duplicate\",\"jaccard\":1,\
             \"containment_a_in_b\":1,\"containment_b_in_a\":1}\n\nnot json\n",
        )
        .unwrap();
        let err = read_pairs(&path).unwrap_err().to_string();
        assert!(err.contains("pairs.jsonl:3:"), "{err}");
    }

    #[test]
    fn a_spun_sentence_names_the_aligned_sentences_and_a_substitution() {
        let row: PairRow = serde_json::from_str(
            r#"{"a":"x","b":"y","relation":"spun","jaccard":0.2123,"containment_a_in_b":0.2,
            "containment_b_in_a":0.2,"aligned_sentences":18,"sentences":[20,21],
            "substitutions":[{"from":"leader","to":"chief","count":3},{"from":"war","to":"warfare","count":2}]}"#,
        )
        .unwrap();
        assert_eq!(
            row.sentence(),
            "y is a synonym-spun rewrite of x: 18 of 20 sentences align in order, 5 words \
             were replaced (such as “leader” → “chief”), yet only 21% of their 5-word \
             shingles are shared."
        );
    }
}
