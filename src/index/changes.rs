//! The clusters a batch created or changed, as `index add --clusters`
//! reports them.
//!
//! A record holds what `scan --clusters` writes for a cluster (members,
//! likely original and why, pages that carry it) plus what changed: a new
//! cluster, new members of an existing one, or clusters it absorbed (the
//! merged cluster keeps the oldest id). The original is chosen by the same
//! rules as in a scan ([`crate::attribute`]), over the cluster's members
//! and the stored pairs that touch them, so it can change as a story
//! gains copies.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde::Serialize;

use super::Index;
use super::matcher::BatchMatch;
use super::segment::DocRecord;
use super::state::cluster_name;
use crate::attribute::{AttributionReason, attribute_clusters, parse_date};
use crate::cluster::Cluster;
use crate::duplicates::DuplicateGroups;
use crate::relate::{Edge, Relation};
use crate::{Error, Result};

/// What happened to a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterChange {
    /// It did not exist before this batch.
    New,
    /// It gained members.
    Grown,
    /// It absorbed other clusters (and may have gained members).
    Merged,
}

/// One changed cluster, as written to `index add --clusters`.
#[derive(Clone, Debug, Serialize)]
pub struct ClusterChangeRecord {
    /// Stable cluster id (`cN`).
    pub id: String,
    /// What changed.
    pub change: ClusterChange,
    /// Number of members.
    pub size: usize,
    /// Member ids, oldest first.
    pub members: Vec<String>,
    /// The likely original.
    pub original: String,
    /// Why it was chosen.
    pub original_reason: AttributionReason,
    /// Members this batch added (for a new cluster: all).
    pub new_members: Vec<String>,
    /// Clusters merged into this one; their ids are retired.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub absorbed: Vec<String>,
    /// Documents that contain a member (pages carrying the story).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub carried_by: Vec<String>,
}

/// The records of every cluster `matched` created or changed, by id.
pub fn cluster_changes(index: &Index, matched: &BatchMatch) -> Result<Vec<ClusterChangeRecord>> {
    let state = &matched.state;
    let changes = &matched.changes;
    let mut change: HashMap<u64, ClusterChange> = HashMap::new();
    let mut added: HashMap<u64, &[u32]> = HashMap::new();
    let mut absorbed: HashMap<u64, &[u64]> = HashMap::new();
    for &id in &changes.new {
        change.insert(id, ClusterChange::New);
    }
    for (id, members) in &changes.grown {
        change.entry(*id).or_insert(ClusterChange::Grown);
        added.insert(*id, members);
    }
    for (id, old) in &changes.merged {
        change.insert(*id, ClusterChange::Merged);
        absorbed.insert(*id, old);
    }
    let changed: Vec<_> = state.clusters.iter().filter(|c| change.contains_key(&c.id)).collect();
    if changed.is_empty() {
        return Ok(Vec::new());
    }

    // The documents involved: members and the other ends of their pairs.
    let members: HashSet<u32> = changed.iter().flat_map(|c| c.members.iter().copied()).collect();
    let pairs: Vec<_> =
        state.pairs.iter().filter(|p| members.contains(&p.a) || members.contains(&p.b)).collect();
    let mut involved: Vec<u32> =
        members.iter().copied().chain(pairs.iter().flat_map(|p| [p.a, p.b])).collect();
    involved.sort_unstable();
    involved.dedup();
    let records = doc_records(index, matched, &involved)?;
    let local = |d: u32| involved.binary_search(&d).expect("involved") as u32;

    // Identical copies form one version, as in a scan.
    let mut first_of: HashMap<u128, u32> = HashMap::new();
    let representative_of: Vec<u32> = records
        .iter()
        .enumerate()
        .map(|(i, r)| match r.content_hash {
            Some(h) => *first_of.entry(h).or_insert(i as u32),
            None => i as u32,
        })
        .collect();
    let distinct = first_of.len() as u64;
    let groups = DuplicateGroups::from_representatives(representative_of, distinct);
    let edges: Vec<Edge> =
        pairs.iter().map(|p| Edge::new(local(p.a), local(p.b), p.relation(), p.scores())).collect();
    let mut clusters: Vec<Cluster> = changed
        .iter()
        .map(|c| {
            let members: Vec<u32> = c.members.iter().map(|&m| local(m)).collect();
            let original = crate::attribute::Attribution {
                original: members[0],
                reason: AttributionReason::FirstSeen,
            };
            Cluster { id: cluster_name(c.id), members, original }
        })
        .collect();
    let dates: Vec<_> = records.iter().map(|r| r.date.as_deref().and_then(parse_date)).collect();
    attribute_clusters(&mut clusters, |d| dates[d as usize], &edges, &groups);

    let id_of = |l: u32| records[l as usize].id.clone();
    Ok(changed
        .iter()
        .zip(clusters)
        .map(|(stored, cluster)| {
            let in_cluster: HashSet<u32> = cluster.members.iter().copied().collect();
            let mut carriers: Vec<u32> = edges
                .iter()
                .filter(|e| e.relation == Relation::Contained && in_cluster.contains(&e.a))
                .map(|e| e.b)
                .collect();
            carriers.sort_unstable();
            carriers.dedup();
            let new_members: Vec<String> = match change[&stored.id] {
                ClusterChange::New => cluster.members.iter().map(|&m| id_of(m)).collect(),
                _ => added
                    .get(&stored.id)
                    .map_or(Vec::new(), |m| m.iter().map(|&d| id_of(local(d))).collect()),
            };
            ClusterChangeRecord {
                id: cluster.id.clone(),
                change: change[&stored.id],
                size: cluster.members.len(),
                members: cluster.members.iter().map(|&m| id_of(m)).collect(),
                original: id_of(cluster.original.original),
                original_reason: cluster.original.reason,
                new_members,
                absorbed: absorbed
                    .get(&stored.id)
                    .map_or(Vec::new(), |a| a.iter().map(|&c| cluster_name(c)).collect()),
                carried_by: carriers.into_iter().map(id_of).collect(),
            }
        })
        .collect())
}

/// The records of documents `wanted` (sorted): stored ones from the
/// segments' document tables, the batch's from its segment.
fn doc_records(index: &Index, matched: &BatchMatch, wanted: &[u32]) -> Result<Vec<DocRecord>> {
    let mut out = Vec::with_capacity(wanted.len());
    let mut rest = wanted;
    for seg in index.segments() {
        let meta = seg.meta();
        let end = meta.first_doc + meta.docs;
        let n = rest.partition_point(|&d| d < end);
        if n > 0 {
            let docs = seg.docs()?;
            out.extend(rest[..n].iter().map(|&d| docs[(d - meta.first_doc) as usize].clone()));
            rest = &rest[n..];
        }
    }
    let first = matched.segment.first_doc;
    for &d in rest {
        let rec = d.checked_sub(first).and_then(|i| matched.segment.docs.get(i as usize));
        out.push(rec.cloned().ok_or_else(|| {
            Error::Index(format!("document {d} is neither stored nor in the batch"))
        })?);
    }
    Ok(out)
}

/// Writes the records as JSONL.
pub fn write_cluster_changes_jsonl(
    records: &[ClusterChangeRecord],
    mut w: impl Write,
) -> std::io::Result<()> {
    for r in records {
        serde_json::to_writer(&mut w, r)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}
