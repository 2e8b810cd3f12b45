//! The human-readable summary printed by `neardup scan`.
//!
//! It has three parts:
//! * the counts, the cluster-size distribution and the oversized groups;
//! * the largest clusters, each with its likely original, every member's
//!   strongest link and the pages that carry the story;
//! * the `contained` pairs, each with the share matched and the beginning of
//!   its first matched passage;
//! * the `spun` pairs, each with its aligned sentences and a few of its word
//!   substitutions.
//!
//! All text taken from documents passes through [`terminal_safe`].

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};

use super::{Report, human_bytes, terminal_safe, thousands};
use crate::cluster::Cluster;
use crate::relate::{Edge, Relation};

/// How much of the outcome the summary lists (0: all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryLimits {
    /// Clusters shown.
    pub clusters: usize,
    /// `contained` pairs shown.
    pub contained: usize,
    /// `spun` pairs shown.
    pub spun: usize,
}

impl Default for SummaryLimits {
    fn default() -> Self {
        SummaryLimits { clusters: 20, contained: 20, spun: 20 }
    }
}

/// Substitutions shown per `spun` pair in the summary.
const SUBSTITUTIONS_SHOWN: usize = 6;

fn limit(max: usize, len: usize) -> usize {
    if max == 0 { len } else { max.min(len) }
}

impl Report<'_> {
    /// Writes the human-readable summary.
    pub fn write_summary(&self, mut w: impl Write, limits: SummaryLimits) -> io::Result<()> {
        self.write_counts(&mut w)?;
        let o = self.outcome;
        let shown = limit(limits.clusters, o.clusters.len());
        // Links of the members of the shown clusters, built once.
        let shown_members: HashSet<u32> =
            o.clusters[..shown].iter().flat_map(|c| c.members.iter().copied()).collect();
        let mut links: HashMap<u32, Vec<&Edge>> = HashMap::new();
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
        self.write_contained(&mut w, limits.contained)?;
        self.write_spun(&mut w, limits.spun)
    }

    fn write_counts(&self, w: &mut impl Write) -> io::Result<()> {
        let o = self.outcome;
        let s = &o.stats;
        writeln!(
            w,
            "{} documents ({}) · {} empty · {} groups of identical documents · {} with boilerplate removed · {} candidate pairs verified",
            thousands(s.documents),
            human_bytes(s.bytes),
            thousands(s.empty_documents),
            thousands(s.duplicate_groups),
            thousands(s.documents_with_boilerplate),
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
        if s.boilerplate_only_pairs > 0 {
            writeln!(
                w,
                "{} candidate pairs shared only boilerplate and were not linked",
                thousands(s.boilerplate_only_pairs)
            )?;
        }
        for (what, report) in
            [("LSH buckets", &s.oversized), ("passage groups", &s.oversized_passages)]
        {
            if report.count > 0 {
                writeln!(
                    w,
                    "{} oversized {what} (largest {} documents) were paired through a hub instead of all pairs",
                    thousands(report.count as u64),
                    thousands(report.largest as u64),
                )?;
            }
        }
        Ok(())
    }

    fn write_cluster(
        &self,
        w: &mut impl Write,
        cluster: &Cluster,
        links: &HashMap<u32, Vec<&Edge>>,
    ) -> io::Result<()> {
        let o = self.outcome;
        writeln!(
            w,
            "\ncluster {} · {} documents · original: {} ({})",
            cluster.id,
            cluster.members.len(),
            terminal_safe(o.id(cluster.original.original)),
            cluster.original.reason.describe(),
        )?;
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
        let carriers = self.carried_by(&cluster.members);
        if !carriers.is_empty() {
            let names: Vec<String> =
                carriers.iter().take(5).map(|&d| terminal_safe(o.id(d)).into_owned()).collect();
            writeln!(
                w,
                "  carried by {} other documents: {}{}",
                carriers.len(),
                names.join(", "),
                if carriers.len() > 5 { ", …" } else { "" }
            )?;
        }
        Ok(())
    }

    fn write_contained(&self, w: &mut impl Write, max: usize) -> io::Result<()> {
        let o = self.outcome;
        let contained: Vec<(usize, &Edge)> =
            o.edges.iter().enumerate().filter(|(_, e)| e.relation == Relation::Contained).collect();
        if contained.is_empty() {
            return Ok(());
        }
        let shown = limit(max, contained.len());
        writeln!(
            w,
            "\ncontained: {} pairs (a document found inside a larger one)",
            contained.len()
        )?;
        for &(i, e) in &contained[..shown] {
            let evidence = o.evidence(i).map_err(io::Error::other)?;
            let (share, excerpt) =
                evidence.matched.as_ref().map_or((e.scores.containment_a_in_b(), ""), |ev| {
                    (ev.matched_share, ev.excerpt.as_str())
                });
            writeln!(w, "  {}", terminal_safe(o.id(e.a)))?;
            writeln!(
                w,
                "    inside {} · {:.0}% of it matched · \u{201c}{}\u{201d}",
                terminal_safe(o.id(e.b)),
                share * 100.0,
                terminal_safe(excerpt),
            )?;
        }
        if shown < contained.len() {
            writeln!(
                w,
                "\n… {} more contained pairs (all of them are in --pairs FILE; show more with --max-contained)",
                thousands((contained.len() - shown) as u64)
            )?;
        }
        Ok(())
    }

    fn write_spun(&self, w: &mut impl Write, max: usize) -> io::Result<()> {
        let o = self.outcome;
        let spun: Vec<(usize, &Edge)> =
            o.edges.iter().enumerate().filter(|(_, e)| e.relation == Relation::Spun).collect();
        if spun.is_empty() {
            return Ok(());
        }
        let shown = limit(max, spun.len());
        writeln!(w, "\nspun: {} pairs (synonym-rewritten copies)", spun.len())?;
        for &(i, e) in &spun[..shown] {
            writeln!(w, "  {}", terminal_safe(o.id(e.a)))?;
            let evidence = o.evidence(i).map_err(io::Error::other)?;
            let Some(r) = &evidence.rewrite else {
                writeln!(w, "    ~ {}", terminal_safe(o.id(e.b)))?;
                continue;
            };
            let subs: Vec<String> = r
                .substitutions
                .iter()
                .take(SUBSTITUTIONS_SHOWN)
                .map(|s| format!("{} \u{2192} {}", terminal_safe(&s.from), terminal_safe(&s.to)))
                .collect();
            let more = r.substitutions.len().saturating_sub(SUBSTITUTIONS_SHOWN);
            writeln!(
                w,
                "    ~ {} · {}/{} sentences aligned · {}{}",
                terminal_safe(o.id(e.b)),
                r.aligned_sentences,
                r.sentences[0].min(r.sentences[1]),
                subs.join(", "),
                if more > 0 { format!(" (+{more} more)") } else { String::new() },
            )?;
        }
        if shown < spun.len() {
            writeln!(
                w,
                "\n… {} more spun pairs (all of them are in --pairs FILE; show more with --max-spun)",
                thousands((spun.len() - shown) as u64)
            )?;
        }
        Ok(())
    }
}
