//! Stage 8b of the pipeline: which documents to keep, which to drop, and why.
//!
//! A scan finds stories (clusters of copies) and pages that carry other
//! documents (`contained` pairs). [`DedupPlan::new`] turns that into a
//! decision per document:
//!
//! 1. **copies**: in every cluster one member is kept, chosen by a
//!    [`KeepRule`]; the others are dropped as copies of it;
//! 2. **aggregators** (only with [`DedupOptions::drop_aggregators`]): a kept
//!    page whose content shingles are mostly (at least
//!    [`DedupOptions::aggregator_share`]) found in documents it contains is
//!    dropped: everything it says is kept elsewhere;
//! 3. **contained** (only with [`DedupOptions::drop_contained`]): a kept
//!    document contained in another kept document (a teaser inside its
//!    article) is dropped in favour of the container.
//!
//! Every dropped document points to the kept document that holds its text,
//! with exact scores between the two (computed from the stored shingle sets
//! when the two were only linked through other copies).
//!
//! [`DedupPlan::write_kept`] writes the kept records: a record read from
//! JSONL is written back exactly as read (all its fields), any other record
//! as a JSON object with `id`, `url`, `date` and `text`.

use std::collections::{HashMap, VecDeque};
use std::io::Write;

use serde::Serialize;

use crate::relate::Relation;
use crate::scan::ScanOutcome;
use crate::verify::PairScores;
use crate::{Error, Result};

/// Default share of a page's content found in the documents it carries
/// from which it is an aggregator.
pub const DEFAULT_AGGREGATOR_SHARE: f64 = 0.8;

/// Which member of a cluster is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepRule {
    /// The likely original named by attribution (see [`crate::attribute`]).
    #[default]
    Original,
    /// The member with the earliest date (undated members last; ties: first
    /// read).
    Earliest,
    /// The member with the longest text (ties: first read).
    Longest,
    /// The member read first.
    First,
}

/// How duplicates are removed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DedupOptions {
    /// Which member of each cluster is kept.
    pub keep: KeepRule,
    /// Drop pages made mostly of documents they contain.
    pub drop_aggregators: bool,
    /// Share of content shingles that makes a page an aggregator.
    pub aggregator_share: f64,
    /// Drop documents contained in a kept document.
    pub drop_contained: bool,
}

impl Default for DedupOptions {
    fn default() -> Self {
        DedupOptions {
            keep: KeepRule::default(),
            drop_aggregators: false,
            aggregator_share: DEFAULT_AGGREGATOR_SHARE,
            drop_contained: false,
        }
    }
}

/// Why a document was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// A copy of the kept member of its cluster.
    Copy,
    /// A page made of documents it contains.
    Aggregator,
    /// Contained in a kept document.
    Contained,
}

/// One dropped document.
#[derive(Clone, Debug, PartialEq)]
pub struct Removal {
    /// The dropped document.
    pub doc: u32,
    /// Why.
    pub reason: DropReason,
    /// The kept document that holds its text (none for an aggregator whose
    /// stories are kept separately).
    pub kept: Option<u32>,
    /// The relation that links it to `kept` (for a copy linked only through
    /// other copies, the relation of its first link towards `kept`).
    pub relation: Option<Relation>,
    /// The copy through which it is linked to `kept`, if not directly.
    pub via: Option<u32>,
    /// Exact scores between the dropped and the kept document.
    pub scores: Option<PairScores>,
    /// For an aggregator: the documents it carries, and the share of its
    /// content shingles they cover.
    pub carries: Vec<u32>,
    /// For an aggregator: share of its content found in what it carries.
    pub coverage: Option<f64>,
    /// The cluster of a dropped copy.
    pub cluster: Option<usize>,
}

/// Counts of a plan.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DedupCounts {
    /// Documents kept.
    pub kept: u64,
    /// Copies dropped.
    pub copies: u64,
    /// Aggregator pages dropped.
    pub aggregators: u64,
    /// Contained documents dropped.
    pub contained: u64,
}

/// What to keep and what to drop.
#[derive(Clone, Debug, Default)]
pub struct DedupPlan {
    keep: Vec<bool>,
    /// Dropped documents, in input order.
    pub removals: Vec<Removal>,
    /// Counts.
    pub counts: DedupCounts,
}

impl DedupPlan {
    /// Decides for every document of `outcome`.
    pub fn new(outcome: &ScanOutcome, options: &DedupOptions) -> Result<Self> {
        if !(options.aggregator_share > 0.0 && options.aggregator_share <= 1.0) {
            return Err(Error::Config(format!(
                "the aggregator share must be in (0, 1], got {}",
                options.aggregator_share
            )));
        }
        let n = outcome.docs.len();
        let mut keep = vec![true; n];
        let mut removals: Vec<Removal> = Vec::new();
        let mut copies = 0;
        let mut neighbours: HashMap<u32, Vec<u32>> = HashMap::new();
        for e in outcome.edges.iter().filter(|e| e.relation.is_equivalence()) {
            neighbours.entry(e.a).or_default().push(e.b);
            neighbours.entry(e.b).or_default().push(e.a);
        }
        for (c, cluster) in outcome.clusters.iter().enumerate() {
            let kept = choose(outcome, cluster, options.keep)?;
            for (doc, parent) in paths_to(&neighbours, kept) {
                keep[doc as usize] = false;
                copies += 1;
                let relation = edge_between(outcome, doc, parent).map(|e| e.relation);
                removals.push(Removal {
                    doc,
                    reason: DropReason::Copy,
                    kept: Some(kept),
                    relation,
                    via: (parent != kept).then_some(parent),
                    scores: Some(exact_scores(outcome, doc, kept)?),
                    carries: Vec::new(),
                    coverage: None,
                    cluster: Some(c),
                });
            }
        }

        // Containers of each document, and documents carried by each page.
        let mut carried: HashMap<u32, Vec<u32>> = HashMap::new();
        for e in outcome.edges.iter().filter(|e| e.relation == Relation::Contained) {
            carried.entry(e.b).or_default().push(e.a);
        }
        let mut aggregators = 0;
        if options.drop_aggregators {
            let mut pages: Vec<(&u32, &Vec<u32>)> = carried.iter().collect();
            pages.sort_unstable();
            for (&page, stories) in pages {
                if !keep[page as usize] {
                    continue;
                }
                let coverage = coverage(outcome, page, stories)?;
                if coverage >= options.aggregator_share {
                    keep[page as usize] = false;
                    aggregators += 1;
                    removals.push(Removal {
                        doc: page,
                        reason: DropReason::Aggregator,
                        kept: None,
                        relation: None,
                        via: None,
                        scores: None,
                        carries: stories.clone(),
                        coverage: Some(coverage),
                        cluster: None,
                    });
                }
            }
        }
        let mut contained = 0;
        if options.drop_contained {
            for e in outcome.edges.iter().filter(|e| e.relation == Relation::Contained) {
                if keep[e.a as usize] && keep[e.b as usize] {
                    keep[e.a as usize] = false;
                    contained += 1;
                    removals.push(Removal {
                        doc: e.a,
                        reason: DropReason::Contained,
                        kept: Some(e.b),
                        relation: Some(Relation::Contained),
                        via: None,
                        scores: Some(e.scores),
                        carries: Vec::new(),
                        coverage: None,
                        cluster: None,
                    });
                }
            }
        }
        for i in resolve_kept(&mut removals, &keep) {
            let r = &mut removals[i];
            r.scores = r.kept.map(|k| exact_scores(outcome, r.doc, k)).transpose()?;
        }
        removals.sort_by_key(|r| r.doc);
        let kept = keep.iter().filter(|&&k| k).count() as u64;
        let counts = DedupCounts { kept, copies, aggregators, contained };
        Ok(DedupPlan { keep, removals, counts })
    }

    /// Returns true if and only if document `doc` is kept.
    pub fn is_kept(&self, doc: u32) -> bool {
        self.keep[doc as usize]
    }

    /// Writes the kept documents, in input order, as JSONL.
    pub fn write_kept(&self, outcome: &ScanOutcome, out: &mut dyn Write) -> Result<()> {
        let fail = |e: std::io::Error| Error::Stream { what: "the output", source: e };
        for doc in (0..self.keep.len() as u32).filter(|&d| self.is_kept(d)) {
            let stored = outcome.docs.stored_for_output(doc)?;
            let record = KeptRecord {
                id: outcome.id(doc),
                url: stored.url.as_deref(),
                date: stored.date.as_deref(),
                text: &stored.text,
            };
            write_kept_record(out, &record, stored.raw.as_deref()).map_err(fail)?;
        }
        Ok(())
    }

    /// Writes one JSON line per dropped document.
    pub fn write_removed(&self, outcome: &ScanOutcome, out: &mut dyn Write) -> Result<()> {
        let fail =
            |e: std::io::Error| Error::Stream { what: "the removed-records file", source: e };
        let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
        for r in &self.removals {
            let record = RemovedRecord {
                id: outcome.id(r.doc),
                reason: r.reason,
                kept: r.kept.map(|k| outcome.id(k)),
                relation: r.relation,
                via: r.via.map(|v| outcome.id(v)),
                cluster: r.cluster.map(|c| outcome.clusters[c].id.as_str()),
                jaccard: r.scores.map(|s| round(s.jaccard())),
                containment_in_kept: r.scores.map(|s| round(s.containment_a_in_b())),
                containment_of_kept: r.scores.map(|s| round(s.containment_b_in_a())),
                carries: r.carries.iter().map(|&d| outcome.id(d)).collect(),
                coverage: r.coverage.map(round),
            };
            serde_json::to_writer(&mut *out, &record).map_err(|e| fail(e.into()))?;
            out.write_all(b"\n").map_err(fail)?;
        }
        Ok(())
    }
}

/// Writes one kept record as a JSONL line: `raw` (a record read from
/// JSONL) exactly as read, or else `record`.
pub fn write_kept_record(
    out: &mut dyn Write,
    record: &KeptRecord<'_>,
    raw: Option<&[u8]>,
) -> std::io::Result<()> {
    match raw {
        Some(raw) => {
            let line = raw.strip_suffix(b"\n").unwrap_or(raw);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            out.write_all(line)?;
        }
        None => serde_json::to_writer(&mut *out, record)?,
    }
    out.write_all(b"\n")
}

/// A kept record that was not read from JSONL, as it is written.
#[derive(Serialize)]
pub struct KeptRecord<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    /// Its date, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<&'a str>,
    /// Its text.
    pub text: &'a str,
}

#[derive(Serialize)]
struct RemovedRecord<'a> {
    id: &'a str,
    reason: DropReason,
    kept: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relation: Option<Relation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jaccard: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    containment_in_kept: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    containment_of_kept: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    carries: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coverage: Option<f64>,
}

/// The member of `cluster` to keep under `rule`.
fn choose(
    outcome: &ScanOutcome,
    cluster: &crate::cluster::Cluster,
    rule: KeepRule,
) -> crate::Result<u32> {
    let docs = &outcome.docs;
    let members = &cluster.members;
    let chosen = match rule {
        KeepRule::Original => Some(cluster.original.original),
        KeepRule::First => members.iter().copied().min(),
        KeepRule::Earliest => {
            let dated = members.iter().map(|&m| Ok((docs.date(m)?, m)));
            let dated = dated.collect::<crate::Result<Vec<_>>>()?;
            dated.into_iter().min_by_key(|&(date, m)| (date.is_none(), date, m)).map(|(_, m)| m)
        }
        KeepRule::Longest => {
            let sized = members.iter().map(|&m| Ok((docs.bytes(m)?, m)));
            let sized = sized.collect::<crate::Result<Vec<_>>>()?;
            sized
                .into_iter()
                .min_by_key(|&(bytes, m)| (std::cmp::Reverse(bytes), m))
                .map(|(_, m)| m)
        }
    };
    Ok(chosen.unwrap_or(members[0]))
}

/// Every document linked to `root` (its cluster), with its neighbour one
/// step closer to `root` (breadth first, so the path is shortest).
fn paths_to(neighbours: &HashMap<u32, Vec<u32>>, root: u32) -> Vec<(u32, u32)> {
    let mut parent: HashMap<u32, u32> = HashMap::from([(root, root)]);
    let mut queue = VecDeque::from([root]);
    while let Some(d) = queue.pop_front() {
        for &next in neighbours.get(&d).map(Vec::as_slice).unwrap_or_default() {
            if let std::collections::hash_map::Entry::Vacant(slot) = parent.entry(next) {
                slot.insert(d);
                queue.push_back(next);
            }
        }
    }
    let mut out: Vec<(u32, u32)> = parent.into_iter().filter(|&(d, _)| d != root).collect();
    out.sort_unstable();
    out
}

/// The equivalence edge between two documents, if any (such edges have the
/// earlier document first, and edges are sorted).
fn edge_between(outcome: &ScanOutcome, a: u32, b: u32) -> Option<&crate::relate::Edge> {
    let (lo, hi) = (a.min(b), a.max(b));
    let start = outcome.edges.partition_point(|e| e.a < lo);
    outcome.edges[start..]
        .iter()
        .take_while(|e| e.a == lo)
        .find(|e| e.b == hi && e.relation.is_equivalence())
}

/// Exact scores between `a` and `b` from the stored content sets.
fn exact_scores(outcome: &ScanOutcome, a: u32, b: u32) -> Result<PairScores> {
    Ok(PairScores::between(&outcome.content.content(a)?, &outcome.content.content(b)?))
}

/// Share of `page`'s content shingles found in the documents it carries.
fn coverage(outcome: &ScanOutcome, page: u32, stories: &[u32]) -> Result<f64> {
    let content = outcome.content.content(page)?;
    if content.is_empty() {
        return Ok(0.0);
    }
    let mut covered = vec![false; content.len()];
    for &story in stories {
        for h in outcome.content.content(story)?.as_slice() {
            if let Ok(i) = content.as_slice().binary_search(h) {
                covered[i] = true;
            }
        }
    }
    Ok(covered.iter().filter(|&&c| c).count() as f64 / content.len() as f64)
}

/// Points every removal at a kept document: a copy whose kept member was
/// later dropped (as contained, or as an aggregator) follows that member's
/// own removal. Returns the removals that changed.
fn resolve_kept(removals: &mut [Removal], keep: &[bool]) -> Vec<usize> {
    let target: HashMap<u32, Option<u32>> = removals.iter().map(|r| (r.doc, r.kept)).collect();
    let mut changed = Vec::new();
    for (i, r) in removals.iter_mut().enumerate() {
        let mut steps = 0;
        while let Some(k) = r.kept {
            if keep[k as usize] || steps > target.len() {
                break;
            }
            r.kept = target.get(&k).copied().flatten();
            r.via = Some(k);
            steps += 1;
        }
        if steps > 0 {
            changed.push(i);
        }
    }
    changed
}
