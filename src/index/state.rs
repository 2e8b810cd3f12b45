//! The index's state after a commit: every live pair, the stable cluster
//! ids, and the shingles frequent in the whole collection.
//!
//! Unlike segments, this changes with every batch (a new batch can make a
//! shingle frequent, which changes the boilerplate, and so the pairs, of
//! documents already stored), so each commit writes a new state file and the
//! manifest names it. It is small: 20 bytes a pair, 8 a frequent shingle,
//! 12 a clustered document.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::format::{self, FileKind};
use super::sections::SectionReader;
use crate::relate::Relation;
use crate::verify::PairScores;
use crate::{Error, Result};

/// A live pair between global document numbers, with its scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPair {
    /// First document (for `contained`, the contained one).
    pub a: u32,
    /// Second document.
    pub b: u32,
    /// The relation, as [`relation_code`] numbers it.
    pub relation: u8,
    /// Shingles in both.
    pub shared: u32,
    /// Distinct shingles of `a`.
    pub len_a: u32,
    /// Distinct shingles of `b`.
    pub len_b: u32,
}

impl StoredPair {
    /// The relation.
    pub fn relation(&self) -> Relation {
        relation_of_code(self.relation)
    }

    /// The scores.
    pub fn scores(&self) -> PairScores {
        PairScores { shared: self.shared, len_a: self.len_a, len_b: self.len_b }
    }

    /// `(a, b, relation)`: what tells two findings apart.
    pub fn key(&self) -> (u32, u32, u8) {
        (self.a, self.b, self.relation)
    }
}

/// The number a relation is stored as.
pub fn relation_code(relation: Relation) -> u8 {
    match relation {
        Relation::Duplicate => 0,
        Relation::NearDuplicate => 1,
        Relation::Contained => 2,
        Relation::Spun => 3,
    }
}

fn relation_of_code(code: u8) -> Relation {
    match code {
        0 => Relation::Duplicate,
        1 => Relation::NearDuplicate,
        2 => Relation::Contained,
        _ => Relation::Spun,
    }
}

/// A cluster with its stable id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCluster {
    /// Its id: given when it first formed, kept while it grows, and kept by
    /// the merged cluster when it is the older of two that merge.
    pub id: u64,
    /// Member documents, ascending.
    pub members: Vec<u32>,
}

/// Everything a commit decides about the whole collection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    /// Every live pair, sorted by `(a, b)`.
    pub pairs: Vec<StoredPair>,
    /// Clusters of the equivalence pairs, by id.
    pub clusters: Vec<StoredCluster>,
    /// The id the next new cluster gets.
    pub next_cluster: u64,
    /// Shingles held by at least `min_df` distinct live contents, sorted.
    pub frequent: Vec<u64>,
}

impl IndexState {
    /// Encodes the state as a file for an index with `fingerprint`.
    pub fn encode(&self, fingerprint: u64) -> Result<Vec<u8>> {
        let body = postcard::to_stdvec(self)
            .map_err(|e| Error::Index(format!("cannot encode the index state: {e}")))?;
        Ok(format::encode(FileKind::Clusters, fingerprint, &[&body]))
    }

    /// Reads and checks a state file of an index with `fingerprint`.
    pub fn read(path: &Path, fingerprint: u64) -> Result<IndexState> {
        Self::read_from(&SectionReader::open(path, FileKind::Clusters)?, fingerprint)
    }

    /// Reads and checks an open state file of an index with `fingerprint`.
    pub fn read_from(file: &SectionReader, fingerprint: u64) -> Result<IndexState> {
        let path = file.path();
        if file.fingerprint() != fingerprint || file.sections() != 1 {
            return Err(Error::Index(format!(
                "{}: not the state file of this index",
                path.display()
            )));
        }
        postcard::from_bytes(&file.read(0)?)
            .map_err(|e| Error::Index(format!("{}: damaged state: {e}", path.display())))
    }

    /// The cluster id of each clustered document.
    pub fn cluster_of(&self) -> HashMap<u32, u64> {
        self.clusters.iter().flat_map(|c| c.members.iter().map(move |&m| (m, c.id))).collect()
    }
}

/// The printed form of a cluster id.
pub fn cluster_name(id: u64) -> String {
    format!("c{id}")
}

/// How the clusters changed in one commit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClusterChanges {
    /// Clusters that did not exist before.
    pub new: Vec<u64>,
    /// Clusters that gained members: `(id, new members)`.
    pub grown: Vec<(u64, Vec<u32>)>,
    /// Merges: `(kept id, absorbed ids)`.
    pub merged: Vec<(u64, Vec<u64>)>,
}

/// Gives the clusters of `pairs` their ids: a cluster keeps the oldest id
/// found among its members' previous clusters (the smallest number; a
/// cluster split by a withdrawn pair keeps it in the part that holds the
/// smallest document), others get new ids.
pub fn assign_cluster_ids(
    previous: &IndexState,
    pairs: &[StoredPair],
) -> (Vec<StoredCluster>, u64, ClusterChanges) {
    let components = crate::cluster::components(
        pairs.iter().filter(|p| p.relation().is_equivalence()).map(|p| (p.a, p.b)),
    );
    let before = previous.cluster_of();
    let mut taken = std::collections::HashSet::new();
    let mut next = previous.next_cluster;
    let mut clusters = Vec::with_capacity(components.len());
    let mut changes = ClusterChanges::default();
    for members in components {
        let mut old: Vec<u64> = members.iter().filter_map(|m| before.get(m).copied()).collect();
        old.sort_unstable();
        old.dedup();
        let id = match old.iter().find(|id| !taken.contains(*id)) {
            Some(&id) => id,
            None => {
                next += 1;
                changes.new.push(next - 1);
                next - 1
            }
        };
        taken.insert(id);
        if old.contains(&id) {
            let added: Vec<u32> =
                members.iter().copied().filter(|m| before.get(m) != Some(&id)).collect();
            if !added.is_empty() {
                changes.grown.push((id, added));
            }
            let absorbed: Vec<u64> = old.iter().copied().filter(|&o| o != id).collect();
            if !absorbed.is_empty() {
                changes.merged.push((id, absorbed));
            }
        }
        clusters.push(StoredCluster { id, members });
    }
    clusters.sort_unstable_by_key(|c| c.id);
    (clusters, next, changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(a: u32, b: u32) -> StoredPair {
        StoredPair { a, b, relation: 0, shared: 1, len_a: 1, len_b: 1 }
    }

    #[test]
    fn clusters_keep_their_ids_when_they_grow_and_the_oldest_when_they_merge() {
        let empty = IndexState::default();
        let (clusters, next, changes) = assign_cluster_ids(&empty, &[pair(0, 1), pair(5, 6)]);
        assert_eq!(changes.new, vec![0, 1]);
        let first = IndexState {
            pairs: vec![pair(0, 1), pair(5, 6)],
            clusters,
            next_cluster: next,
            ..empty
        };
        let id_of =
            |s: &[StoredCluster], d: u32| s.iter().find(|c| c.members.contains(&d)).unwrap().id;
        let (id01, id56) = (id_of(&first.clusters, 0), id_of(&first.clusters, 5));
        assert_ne!(id01, id56);

        // 9 joins the cluster of 5; then 1 and 6 are linked.
        let (grown, _, changes) = assign_cluster_ids(&first, &[pair(0, 1), pair(5, 6), pair(6, 9)]);
        assert_eq!(id_of(&grown, 9), id56);
        assert_eq!(changes.grown, vec![(id56, vec![9])]);
        let (merged, next, changes) =
            assign_cluster_ids(&first, &[pair(0, 1), pair(5, 6), pair(1, 6)]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].id, id01.min(id56));
        assert_eq!(changes.merged, vec![(id01.min(id56), vec![id01.max(id56)])]);
        assert!(changes.new.is_empty());
        assert_eq!(next, first.next_cluster);
    }

    #[test]
    fn the_state_round_trips_and_refuses_another_index() {
        let dir = tempfile::tempdir().unwrap();
        let state = IndexState {
            pairs: vec![pair(1, 2)],
            clusters: vec![StoredCluster { id: 3, members: vec![1, 2] }],
            next_cluster: 4,
            frequent: vec![7, 9],
        };
        let path = dir.path().join("state");
        std::fs::write(&path, state.encode(11).unwrap()).unwrap();
        assert_eq!(IndexState::read(&path, 11).unwrap(), state);
        assert!(IndexState::read(&path, 12).is_err());
    }
}
