//! Stage 8 of the pipeline: a [`ScanOutcome`] → the output formats.
//!
//! The formats are a contract that scripts rely on:
//!
//! * **pairs (JSONL)**: one object per related pair,
//!   `{"a", "b", "relation", "jaccard", "containment_a_in_b",
//!   "containment_b_in_a", "shared_shingles", "shingles_a", "shingles_b",
//!   "cluster"}`; scores are rounded to 4 decimals; `cluster` is the id of the
//!   cluster both documents belong to (absent for `contained` pairs).
//! * **pairs (CSV)**: the same fields as columns, with a header row.
//! * **clusters (JSONL)**: `{"id", "size", "members"}`, members in input order.
//! * **summary (text)**: counts, the cluster-size distribution and the largest
//!   clusters with each member's strongest link.
//!
//! Writers take any [`Write`]; the library never opens the terminal itself.
//! Text meant for a terminal passes through [`terminal_safe`], so a document
//! id cannot smuggle escape sequences into the user's terminal.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;

use crate::relate::{Edge, Relation};
use crate::scan::ScanOutcome;

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
}

/// Rounds a score for output: 4 decimals are plenty and keep files small.
fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Builds output records from an outcome.
pub struct Report<'a> {
    outcome: &'a ScanOutcome,
    cluster_of: Vec<Option<u32>>,
}

impl<'a> Report<'a> {
    /// Prepares records for `outcome`.
    pub fn new(outcome: &'a ScanOutcome) -> Self {
        let mut cluster_of = vec![None; outcome.docs.len()];
        for (c, cluster) in outcome.clusters.iter().enumerate() {
            for &m in &cluster.members {
                cluster_of[m as usize] = Some(c as u32);
            }
        }
        Report { outcome, cluster_of }
    }

    /// The record of one edge.
    pub fn pair(&self, edge: &Edge) -> PairRecord<'a> {
        let s = &edge.scores;
        let cluster = edge
            .relation
            .is_equivalence()
            .then(|| self.cluster_of[edge.a as usize])
            .flatten()
            .map(|c| self.outcome.clusters[c as usize].id.as_str());
        PairRecord {
            a: self.outcome.id(edge.a),
            b: self.outcome.id(edge.b),
            relation: edge.relation,
            jaccard: round4(s.jaccard()),
            containment_a_in_b: round4(s.containment_a_in_b()),
            containment_b_in_a: round4(s.containment_b_in_a()),
            shared_shingles: s.shared,
            shingles_a: s.len_a,
            shingles_b: s.len_b,
            cluster,
        }
    }

    /// All pair records, in edge order.
    pub fn pairs(&self) -> impl Iterator<Item = PairRecord<'a>> + '_ {
        self.outcome.edges.iter().map(|e| self.pair(e))
    }

    /// All cluster records, largest first.
    pub fn clusters(&self) -> impl Iterator<Item = ClusterRecord<'a>> + '_ {
        self.outcome.clusters.iter().map(|c| ClusterRecord {
            id: &c.id,
            size: c.members.len(),
            members: c.members.iter().map(|&m| self.outcome.id(m)).collect(),
        })
    }

    /// Writes the pairs as JSONL.
    pub fn write_pairs_jsonl(&self, mut w: impl Write) -> io::Result<()> {
        for record in self.pairs() {
            serde_json::to_writer(&mut w, &record)?;
            w.write_all(b"\n")?;
        }
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
        ])?;
        for r in self.pairs() {
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
            ])?;
        }
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

    /// Writes the human-readable summary, showing at most `max_clusters`
    /// clusters (0: all).
    pub fn write_summary(&self, mut w: impl Write, max_clusters: usize) -> io::Result<()> {
        let o = self.outcome;
        let s = &o.stats;
        writeln!(
            w,
            "{} documents ({}) · {} empty · {} groups of identical documents · {} candidate pairs verified",
            thousands(s.documents),
            human_bytes(s.bytes),
            thousands(s.empty_documents),
            thousands(s.duplicate_groups),
            thousands(s.candidate_pairs),
        )?;
        let counts: Vec<String> = o
            .relation_counts()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{r} {}", thousands(*n as u64)))
            .collect();
        writeln!(
            w,
            "{} related pairs{}{}",
            thousands(o.edges.len() as u64),
            if counts.is_empty() { "" } else { ": " },
            counts.join(", ")
        )?;
        if s.pairs_not_expanded > 0 {
            writeln!(
                w,
                "  ({} more pairs inside very large groups are implied by the clusters, not listed)",
                thousands(s.pairs_not_expanded)
            )?;
        }
        let histogram: Vec<String> = self
            .cluster_size_histogram()
            .iter()
            .map(|(label, n)| format!("{label}: {}", thousands(*n as u64)))
            .collect();
        writeln!(
            w,
            "{} clusters{}{}",
            thousands(o.clusters.len() as u64),
            if histogram.is_empty() { "" } else { " · sizes " },
            histogram.join(", ")
        )?;
        if s.oversized.count > 0 {
            writeln!(
                w,
                "{} oversized buckets (largest {} documents, likely shared boilerplate) were paired through a hub instead of all pairs",
                thousands(s.oversized.count as u64),
                thousands(s.oversized.largest as u64),
            )?;
        }
        let shown =
            if max_clusters == 0 { o.clusters.len() } else { max_clusters.min(o.clusters.len()) };
        // Links of the members of the shown clusters, built once.
        let mut links: std::collections::HashMap<u32, Vec<&Edge>> = Default::default();
        let shown_members: std::collections::HashSet<u32> =
            o.clusters[..shown].iter().flat_map(|c| c.members.iter().copied()).collect();
        for e in o.edges.iter().filter(|e| e.relation.is_equivalence()) {
            for end in [e.a, e.b] {
                if shown_members.contains(&end) {
                    links.entry(end).or_default().push(e);
                }
            }
        }
        for cluster in &o.clusters[..shown] {
            self.write_cluster(&mut w, cluster, &links)?;
        }
        if shown < o.clusters.len() {
            writeln!(
                w,
                "\n… {} more clusters (write all of them with --clusters FILE, or show more with --max-clusters)",
                thousands((o.clusters.len() - shown) as u64)
            )?;
        }
        Ok(())
    }

    fn write_cluster(
        &self,
        w: &mut impl Write,
        cluster: &crate::cluster::Cluster,
        links: &std::collections::HashMap<u32, Vec<&Edge>>,
    ) -> io::Result<()> {
        let o = self.outcome;
        writeln!(w, "\ncluster {} · {} documents", cluster.id, cluster.members.len())?;
        let width =
            cluster.members.iter().map(|&m| o.id(m).chars().count()).max().unwrap_or(0).min(60);
        for (i, &m) in cluster.members.iter().enumerate() {
            let id = terminal_safe(o.id(m));
            // The first member anchors the list; every other member shows its
            // strongest link to an earlier member (so the list reads as a
            // tree), or to any member when it has no earlier one.
            let candidates = || {
                links.get(&m).into_iter().flatten().map(|e| (if e.a == m { e.b } else { e.a }, *e))
            };
            let strongest = |earlier_only: bool| {
                candidates()
                    .filter(|(other, _)| !earlier_only || cluster.members[..i].contains(other))
                    .max_by(|x, y| {
                        x.1.scores
                            .jaccard()
                            .total_cmp(&y.1.scores.jaccard())
                            .then_with(|| y.0.cmp(&x.0))
                    })
            };
            let link = if i == 0 { None } else { strongest(true).or_else(|| strongest(false)) };
            match link {
                None => writeln!(w, "  {id}")?,
                Some((other, e)) => writeln!(
                    w,
                    "  {id:<width$}  {:<14}  jaccard {:.3}  with {}",
                    e.relation.as_str(),
                    e.scores.jaccard(),
                    terminal_safe(o.id(other)),
                )?,
            }
        }
        Ok(())
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
        Report::new(&o).write_summary(&mut buf, 10).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("1 related pairs: duplicate 1"), "{text}");
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
