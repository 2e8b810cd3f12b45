//! Stage 7b of the pipeline: verified edges → clusters of copies.
//!
//! A cluster is a story: the documents joined by *equivalence* edges
//! (`duplicate`, `near_duplicate`, `spun`), found with union-find. `contained`
//! edges never join clusters: a page that carries articles A and B does not
//! make A and B copies of each other.
//!
//! Cluster ids are derived from the content of the cluster, not from the order
//! in which work finished: the id is the xxh3 hash of the smallest member id
//! (by byte order), in hex. The same input gives the same ids on any number of
//! threads.

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::attribute::{Attribution, AttributionReason};
use crate::relate::Relation;

/// Seed of cluster ids.
const CLUSTER_ID_SEED: u64 = 0x636c_7573_7465_7231; // "cluster1"

/// Disjoint sets over `0..n` with path halving and union by size.
#[derive(Clone, Debug)]
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singleton sets.
    pub fn new(n: usize) -> Self {
        UnionFind { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    /// The representative of `x`'s set.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Joins the sets of `a` and `b`; returns true if they were apart.
    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (big, small) =
            if self.size[ra as usize] >= self.size[rb as usize] { (ra, rb) } else { (rb, ra) };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }
}

/// A group of documents that are copies of one story.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cluster {
    /// Stable id: hex xxh3 of the smallest member id.
    pub id: String,
    /// Member document indices, in input order.
    pub members: Vec<u32>,
    /// The likely original (see [`crate::attribute`]); until attribution
    /// runs, the first member.
    pub original: Attribution,
}

/// The stable id of a cluster whose smallest member id is `smallest_id`.
pub fn cluster_id(smallest_id: &str) -> String {
    format!("{:016x}", xxh3_64_with_seed(smallest_id.as_bytes(), CLUSTER_ID_SEED))
}

/// The connected components of `links` (pairs of documents), each of two or
/// more documents, members ascending, ordered by their smallest member.
///
/// Union-find runs over the linked documents only, so memory follows the
/// number of links, not the number of documents.
pub fn components(links: impl IntoIterator<Item = (u32, u32)>) -> Vec<Vec<u32>> {
    let links: Vec<(u32, u32)> = links.into_iter().filter(|&(a, b)| a != b).collect();
    let mut linked: Vec<u32> = links.iter().flat_map(|&(a, b)| [a, b]).collect();
    linked.sort_unstable();
    linked.dedup();
    let node = |d: u32| linked.binary_search(&d).expect("an endpoint of a link") as u32;
    let mut sets = UnionFind::new(linked.len());
    for &(a, b) in &links {
        sets.union(node(a), node(b));
    }
    drop(links);
    let mut by_root: Vec<(u32, u32)> =
        (0..linked.len() as u32).map(|i| (sets.find(i), linked[i as usize])).collect();
    by_root.sort_unstable();
    let mut out: Vec<Vec<u32>> =
        by_root.chunk_by(|x, y| x.0 == y.0).map(|g| g.iter().map(|&(_, d)| d).collect()).collect();
    out.sort_unstable_by_key(|members| members[0]);
    out
}

/// Builds clusters of two or more documents from edges `(a, b, relation)`,
/// where `id` gives a document's id. Clusters come largest first, ties by id.
///
/// See [`components`] for the memory it needs.
pub fn build_clusters<'a, I>(id: impl Fn(u32) -> &'a str, edges: I) -> Vec<Cluster>
where
    I: IntoIterator<Item = (u32, u32, Relation)>,
{
    let components = components(
        edges
            .into_iter()
            .filter(|&(a, b, relation)| relation.is_equivalence() && a != b)
            .map(|(a, b, _)| (a, b)),
    );
    let mut clusters: Vec<Cluster> = components
        .into_iter()
        .map(|members| {
            let smallest = members.iter().map(|&d| id(d)).min().unwrap_or_default();
            Cluster {
                id: cluster_id(smallest),
                original: Attribution {
                    original: members[0],
                    reason: AttributionReason::FirstSeen,
                },
                members,
            }
        })
        .collect();
    clusters.sort_by(|a, b| b.members.len().cmp(&a.members.len()).then_with(|| a.id.cmp(&b.id)));
    clusters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("doc{i}")).collect()
    }

    fn build(
        ids: &[String],
        edges: impl IntoIterator<Item = (u32, u32, Relation)>,
    ) -> Vec<Cluster> {
        build_clusters(|d| ids[d as usize].as_str(), edges)
    }

    #[test]
    fn equivalence_edges_form_clusters() {
        let edges =
            [(0, 1, Relation::NearDuplicate), (1, 2, Relation::Duplicate), (4, 5, Relation::Spun)];
        let clusters = build(&ids(6), edges);
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0].members, [0, 1, 2]);
        assert_eq!(clusters[0].id, cluster_id("doc0"));
        assert_eq!(clusters[1].members, [4, 5]);
    }

    #[test]
    fn contained_edges_do_not_merge_stories() {
        // Page 2 carries articles 0 and 1.
        let edges = [(0, 2, Relation::Contained), (1, 2, Relation::Contained)];
        assert!(build(&ids(3), edges).is_empty());
    }

    #[test]
    fn ids_do_not_depend_on_edge_order() {
        let mut edges = vec![
            (3, 1, Relation::NearDuplicate),
            (2, 3, Relation::NearDuplicate),
            (0, 4, Relation::Duplicate),
        ];
        let first = build(&ids(5), edges.clone());
        edges.reverse();
        assert_eq!(first, build(&ids(5), edges));
    }
}
