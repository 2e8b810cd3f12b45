//! Stage 8 of the pipeline: a [`ScanOutcome`] → the output formats.
//!
//! The formats are a contract that scripts rely on:
//!
//! * **pairs (JSONL)**: one object per related pair,
//!   `{"a", "b", "relation", "jaccard", "containment_a_in_b",
//!   "containment_b_in_a", "shared_shingles", "shingles_a", "shingles_b",
//!   "cluster"}`, plus `"matched_share"` and `"spans"` for `contained`
//!   pairs; scores are rounded to 4 decimals and computed on content
//!   shingles (boilerplate removed); `cluster` is the id of the cluster both
//!   documents belong to (absent for `contained` pairs).
//!   Pairs found by the spun view add `"aligned_windows"`,
//!   `"aligned_jaccard"`, `"immutables_jaccard"`, `"aligned_sentences"`,
//!   `"sentences"`, `"aligned_share"` and `"substitutions"`
//!   (`[{"from", "to", "count"}]`).
//! * **pairs (CSV)**: the same fields as columns, with a header row; spans as
//!   `a0-a1:b0-b1` separated by spaces, substitutions as `from>to` separated
//!   by `|`.
//! * **clusters (JSONL)**: `{"id", "size", "members", "original",
//!   "original_reason", "carried_by"}`, members in input order.
//! * **summary (text)**: counts, the cluster-size distribution, the largest
//!   clusters with their likely original and each member's strongest link,
//!   and the `contained` pairs with the first matched passage.
//!
//! Writers take any [`Write`]; the library never opens the terminal itself.
//! Text meant for a terminal passes through [`terminal_safe`], so a document
//! id cannot smuggle escape sequences into the user's terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::attribute::AttributionReason;
use crate::evidence::MatchedSpan;
use crate::relate::{Edge, PairEvidence, Relation};
use crate::scan::ScanOutcome;
use crate::spin::{RewriteEvidence, Substitution};
use crate::verify::PairScores;

pub mod alignment;
pub mod documents;
pub mod html;
pub mod rows;
mod summary;

pub use summary::SummaryLimits;

/// One related pair, as written to `--pairs`.
#[derive(Clone, Debug, Serialize)]
pub struct PairRecord<'a> {
    /// First document id (for `contained`, the contained one).
    pub a: &'a str,
    /// Second document id.
    pub b: &'a str,
    /// The relation.
    pub relation: Relation,
    /// Exact Jaccard similarity of the shingle sets.
    pub jaccard: f64,
    /// Share of `a`'s shingles found in `b`.
    pub containment_a_in_b: f64,
    /// Share of `b`'s shingles found in `a`.
    pub containment_b_in_a: f64,
    /// Shingles in both.
    pub shared_shingles: u32,
    /// Distinct shingles of `a`.
    pub shingles_a: u32,
    /// Distinct shingles of `b`.
    pub shingles_b: u32,
    /// Cluster of both documents, for equivalence relations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<&'a str>,
    /// For `contained`: share of `a`'s text inside the matched spans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_share: Option<f64>,
    /// For `contained`: matched regions, character offsets in `a` and `b`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spans: Option<&'a [MatchedSpan]>,
    /// For pairs found by the spun view (`spun`, and noisy `near_duplicate`):
    /// the alignment and the substitutions.
    #[serde(flatten)]
    pub rewrite: Option<RewriteRecord<'a>>,
}

impl<'a> PairRecord<'a> {
    /// The record of a pair with its scores and no evidence.
    pub fn scored(
        a: &'a str,
        b: &'a str,
        relation: Relation,
        scores: &PairScores,
        cluster: Option<&'a str>,
    ) -> Self {
        PairRecord {
            a,
            b,
            relation,
            jaccard: round4(scores.jaccard()),
            containment_a_in_b: round4(scores.containment_a_in_b()),
            containment_b_in_a: round4(scores.containment_b_in_a()),
            shared_shingles: scores.shared,
            shingles_a: scores.len_a,
            shingles_b: scores.len_b,
            cluster,
            matched_share: None,
            spans: None,
            rewrite: None,
        }
    }
}

/// The spun view's evidence, as written to `--pairs`.
#[derive(Clone, Debug, Serialize)]
pub struct RewriteRecord<'a> {
    /// Alignment windows (20 words) matched in order.
    pub aligned_windows: u32,
    /// Jaccard similarity of the aligned windows.
    pub aligned_jaccard: f64,
    /// Jaccard similarity of immutable-word 2-grams.
    pub immutables_jaccard: f64,
    /// Sentences matched in order.
    pub aligned_sentences: u32,
    /// Sentences (of five words or more) of `a` and of `b`.
    pub sentences: [u32; 2],
    /// Aligned sentences over the sentences of the shorter document.
    pub aligned_share: f64,
    /// Word substitutions from `a` to `b`, most frequent first.
    pub substitutions: &'a [Substitution],
}

impl<'a> RewriteRecord<'a> {
    fn new(e: &'a RewriteEvidence) -> Self {
        RewriteRecord {
            aligned_windows: e.scores.aligned_windows,
            aligned_jaccard: round4(e.scores.aligned_jaccard),
            immutables_jaccard: round4(e.scores.immutables_jaccard),
            aligned_sentences: e.aligned_sentences,
            sentences: e.sentences,
            aligned_share: round4(e.aligned_share),
            substitutions: &e.substitutions,
        }
    }
}

/// One cluster, as written to `--clusters`.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterRecord<'a> {
    /// Stable cluster id.
    pub id: &'a str,
    /// Number of members.
    pub size: usize,
    /// Member ids in input order.
    pub members: Vec<&'a str>,
    /// The likely original.
    pub original: &'a str,
    /// Why it was chosen.
    pub original_reason: AttributionReason,
    /// Documents that contain a member (pages carrying the story).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub carried_by: Vec<&'a str>,
}

/// Rounds a score for output: 4 decimals are plenty and keep files small.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Builds output records from an outcome.
pub struct Report<'a> {
    outcome: &'a ScanOutcome,
    /// `(document, cluster)` for every clustered document, sorted.
    cluster_of: Vec<(u32, u32)>,
    /// `(contained, container)` of every `contained` pair, sorted.
    containers: Vec<(u32, u32)>,
}

fn to_io(e: crate::Error) -> io::Error {
    io::Error::other(e)
}

impl<'a> Report<'a> {
    /// Prepares records for `outcome`.
    pub fn new(outcome: &'a ScanOutcome) -> Self {
        let mut cluster_of: Vec<(u32, u32)> = outcome
            .clusters
            .iter()
            .enumerate()
            .flat_map(|(c, cluster)| cluster.members.iter().map(move |&m| (m, c as u32)))
            .collect();
        cluster_of.sort_unstable();
        let mut containers: Vec<(u32, u32)> = outcome
            .edges
            .iter()
            .filter(|e| e.relation == Relation::Contained)
            .map(|e| (e.a, e.b))
            .collect();
        containers.sort_unstable();
        Report { outcome, cluster_of, containers }
    }

    /// The cluster of document `doc`, if it is in one.
    fn cluster_of(&self, doc: u32) -> Option<u32> {
        let at = self.cluster_of.binary_search_by_key(&doc, |&(d, _)| d).ok()?;
        Some(self.cluster_of[at].1)
    }

    /// The record of one edge, given its evidence.
    pub fn pair<'b>(&self, edge: &Edge, evidence: &'b PairEvidence) -> PairRecord<'b>
    where
        'a: 'b,
    {
        let cluster = edge
            .relation
            .is_equivalence()
            .then(|| self.cluster_of(edge.a))
            .flatten()
            .map(|c| self.outcome.clusters[c as usize].id.as_str());
        PairRecord {
            matched_share: evidence.matched.as_ref().map(|ev| round4(ev.matched_share)),
            spans: evidence.matched.as_ref().map(|ev| ev.spans.as_slice()),
            rewrite: evidence.rewrite.as_ref().map(RewriteRecord::new),
            ..PairRecord::scored(
                self.outcome.id(edge.a),
                self.outcome.id(edge.b),
                edge.relation,
                &edge.scores,
                cluster,
            )
        }
    }

    /// Calls `f` with every pair record, in edge order; the evidence of each
    /// pair is read back from the scan's scratch storage one at a time.
    pub fn for_each_pair(
        &self,
        mut f: impl FnMut(&PairRecord<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        for (i, edge) in self.outcome.edges.iter().enumerate() {
            let evidence = self.outcome.evidence(i).map_err(to_io)?;
            f(&self.pair(edge, &evidence))?;
        }
        Ok(())
    }

    /// All cluster records, largest first.
    pub fn clusters(&self) -> impl Iterator<Item = ClusterRecord<'a>> + '_ {
        self.outcome.clusters.iter().map(|c| ClusterRecord {
            id: &c.id,
            size: c.members.len(),
            members: c.members.iter().map(|&m| self.outcome.id(m)).collect(),
            original: self.outcome.id(c.original.original),
            original_reason: c.original.reason,
            carried_by: self.carried_by(&c.members).iter().map(|&d| self.outcome.id(d)).collect(),
        })
    }

    /// Documents that contain any of `members`, in input order, excluding
    /// the members themselves.
    pub fn carried_by(&self, members: &[u32]) -> Vec<u32> {
        let mut out: Vec<u32> = members
            .iter()
            .flat_map(|&m| {
                let start = self.containers.partition_point(|&(a, _)| a < m);
                self.containers[start..].iter().take_while(move |&&(a, _)| a == m).map(|&(_, b)| b)
            })
            .filter(|d| !members.contains(d))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Writes the pairs as JSONL.
    pub fn write_pairs_jsonl(&self, mut w: impl Write) -> io::Result<()> {
        self.for_each_pair(|record| {
            serde_json::to_writer(&mut w, record)?;
            w.write_all(b"\n")
        })?;
        w.flush()
    }

    /// Writes the pairs as CSV with a header row.
    pub fn write_pairs_csv(&self, w: impl Write) -> io::Result<()> {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([
            "a",
            "b",
            "relation",
            "jaccard",
            "containment_a_in_b",
            "containment_b_in_a",
            "shared_shingles",
            "shingles_a",
            "shingles_b",
            "cluster",
            "matched_share",
            "spans",
            "aligned_sentences",
            "aligned_share",
            "substitutions",
        ])?;
        self.for_each_pair(|r| {
            csv.write_record([
                r.a,
                r.b,
                r.relation.as_str(),
                &r.jaccard.to_string(),
                &r.containment_a_in_b.to_string(),
                &r.containment_b_in_a.to_string(),
                &r.shared_shingles.to_string(),
                &r.shingles_a.to_string(),
                &r.shingles_b.to_string(),
                r.cluster.unwrap_or(""),
                &r.matched_share.map_or(String::new(), |m| m.to_string()),
                &r.spans.map_or(String::new(), |spans| {
                    let parts: Vec<String> = spans
                        .iter()
                        .map(|s| format!("{}-{}:{}-{}", s.a[0], s.a[1], s.b[0], s.b[1]))
                        .collect();
                    parts.join(" ")
                }),
                &r.rewrite.as_ref().map_or(String::new(), |w| w.aligned_sentences.to_string()),
                &r.rewrite.as_ref().map_or(String::new(), |w| w.aligned_share.to_string()),
                &r.rewrite.as_ref().map_or(String::new(), |w| {
                    let parts: Vec<String> =
                        w.substitutions.iter().map(|s| format!("{}>{}", s.from, s.to)).collect();
                    parts.join("|")
                }),
            ])?;
            Ok(())
        })?;
        csv.flush()
    }

    /// Writes the clusters as JSONL.
    pub fn write_clusters_jsonl(&self, mut w: impl Write) -> io::Result<()> {
        for record in self.clusters() {
            serde_json::to_writer(&mut w, &record)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// Cluster-size distribution: `(label, count)` for sizes 2, 3, 4, 5–9,
    /// 10–99, 100–999 and 1000+, omitting empty bins.
    pub fn cluster_size_histogram(&self) -> Vec<(&'static str, usize)> {
        const BINS: [(&str, usize, usize); 7] = [
            ("2", 2, 2),
            ("3", 3, 3),
            ("4", 4, 4),
            ("5-9", 5, 9),
            ("10-99", 10, 99),
            ("100-999", 100, 999),
            ("1000+", 1000, usize::MAX),
        ];
        BINS.iter()
            .map(|&(label, lo, hi)| {
                let n = self
                    .outcome
                    .clusters
                    .iter()
                    .filter(|c| (lo..=hi).contains(&c.members.len()))
                    .count();
                (label, n)
            })
            .filter(|&(_, n)| n > 0)
            .collect()
    }
}

/// Replaces control characters (escape sequences included) by their
/// `\u{…}` escapes so text from documents cannot drive the terminal.
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() })
            .collect(),
    )
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Bytes in B, kB, MB or GB (powers of 1000).
pub fn human_bytes(n: u64) -> String {
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.1} kB", n as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        _ => format!("{:.2} GB", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Document;
    use crate::scan::{ScanConfig, Scanner};

    fn outcome() -> ScanOutcome {
        let text = "the quick brown fox jumps over the lazy dog near the river bank today";
        let docs = vec![
            Document::new("one", text),
            Document::new("two", text.to_uppercase()),
            Document::new("bad\u{1b}[31mid", "something else entirely different words here"),
        ];
        Scanner::new(ScanConfig::default()).unwrap().scan(docs).unwrap()
    }

    #[test]
    fn pairs_jsonl_has_the_contract_fields() {
        let o = outcome();
        let mut buf = Vec::new();
        Report::new(&o).write_pairs_jsonl(&mut buf).unwrap();
        let line: serde_json::Value =
            serde_json::from_slice(buf.split(|&b| b == b'\n').next().unwrap()).unwrap();
        assert_eq!(line["a"], "one");
        assert_eq!(line["b"], "two");
        assert_eq!(line["relation"], "duplicate");
        assert_eq!(line["jaccard"], 1.0);
        assert_eq!(line["containment_a_in_b"], 1.0);
        assert_eq!(line["cluster"], o.clusters[0].id.as_str());
    }

    #[test]
    fn csv_has_a_header_and_one_row_per_pair() {
        let o = outcome();
        let mut buf = Vec::new();
        Report::new(&o).write_pairs_csv(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("a,b,relation,jaccard"));
        assert!(lines[1].starts_with("one,two,duplicate,1,"));
    }

    #[test]
    fn summary_lists_clusters_and_escapes_control_characters() {
        let o = outcome();
        let mut buf = Vec::new();
        Report::new(&o).write_summary(&mut buf, SummaryLimits::default()).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("1 related pairs: duplicate 1"), "{text}");
        assert!(text.contains("original: one (read first)"), "{text}");
        assert!(text.contains("sizes 2: 1"), "{text}");
        assert!(text.contains("two") && text.contains("with one"), "{text}");
        assert!(!text.contains('\u{1b}'));
        assert_eq!(terminal_safe("a\u{1b}[31m"), "a\\u{1b}[31m");
    }

    #[test]
    fn number_formatting() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(13_100_000), "13.1 MB");
    }
}
