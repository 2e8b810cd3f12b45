//! Exact duplicates: documents whose normalized word sequences are equal.
//!
//! They are grouped by a 128-bit hash of the token sequence before any
//! candidate search. Only one representative per group goes through banding,
//! passage grouping and verification, so a thousand mirrored copies cost as
//! much as one and cannot overflow a bucket by themselves. Relations found
//! for a representative are then expanded to every member of its group.

use crate::relate::{Edge, Relation};
use crate::verify::PairScores;

/// Groups larger than this are not expanded into every pair: their members
/// are paired with the group's representative only.
pub const MAX_EXPANDED_PAIRS: usize = 4096;

/// Documents with equal content hashes.
#[derive(Clone, Debug, Default)]
pub struct DuplicateGroups {
    /// Groups of two or more, each in input order; the first is the
    /// representative.
    pub groups: Vec<Vec<u32>>,
    /// Number of distinct non-empty contents (one representative each).
    pub distinct: u64,
    /// For each document, its representative (itself for singletons and
    /// empty documents).
    pub representative_of: Vec<u32>,
    /// `(member, group)` for the members of groups, sorted: most documents
    /// have no copy, so this is kept apart from the per-document table.
    group_of: Vec<(u32, u32)>,
}

impl DuplicateGroups {
    /// Groups documents given the representative of each (itself for a
    /// document seen first and for an empty one) and the number of distinct
    /// non-empty contents.
    pub fn from_representatives(representative_of: Vec<u32>, distinct: u64) -> Self {
        let mut members: Vec<(u32, u32)> = representative_of
            .iter()
            .enumerate()
            .filter(|&(d, &r)| r != d as u32)
            .map(|(d, &r)| (r, d as u32))
            .collect();
        members.sort_unstable();
        let mut groups = Vec::new();
        let mut group_of = Vec::new();
        for run in members.chunk_by(|x, y| x.0 == y.0) {
            let g = groups.len() as u32;
            let group: Vec<u32> =
                std::iter::once(run[0].0).chain(run.iter().map(|&(_, d)| d)).collect();
            group_of.extend(group.iter().map(|&d| (d, g)));
            groups.push(group);
        }
        group_of.sort_unstable();
        DuplicateGroups { groups, distinct, representative_of, group_of }
    }

    /// The group of `doc`, if it has copies.
    pub fn group(&self, doc: u32) -> Option<&[u32]> {
        let at = self.group_of.binary_search_by_key(&doc, |&(d, _)| d).ok()?;
        Some(self.groups[self.group_of[at].1 as usize].as_slice())
    }

    /// `duplicate` edges inside groups plus `verified` edges (between
    /// representatives) expanded to all member pairs. Groups too large to
    /// expand keep a star around the representative; the pairs left out are
    /// added to `not_expanded`.
    pub fn expand(
        &self,
        verified: &[Edge],
        content_len: impl Fn(u32) -> u32,
        not_expanded: &mut u64,
    ) -> Vec<ExpandedEdge> {
        let mut edges = Vec::with_capacity(verified.len());
        for group in &self.groups {
            let n = group.len();
            let len = content_len(group[0]);
            let scores = PairScores { shared: len, len_a: len, len_b: len };
            let dup = |a: u32, b: u32| ExpandedEdge {
                edge: Edge::new(a.min(b), a.max(b), Relation::Duplicate, scores),
                from: None,
            };
            if n * (n - 1) / 2 <= MAX_EXPANDED_PAIRS {
                for (i, &a) in group.iter().enumerate() {
                    edges.extend(group[i + 1..].iter().map(|&b| dup(a, b)));
                }
            } else {
                edges.extend(group[1..].iter().map(|&b| dup(group[0], b)));
                *not_expanded += (n * (n - 1) / 2 - (n - 1)) as u64;
            }
        }
        for (index, edge) in verified.iter().enumerate() {
            let index = index as u32;
            let left = self.group(edge.a).unwrap_or(std::slice::from_ref(&edge.a));
            let right = self.group(edge.b).unwrap_or(std::slice::from_ref(&edge.b));
            let members = left.len() * right.len();
            if members > MAX_EXPANDED_PAIRS {
                *not_expanded += (members - 1) as u64;
            }
            if members == 1 || members > MAX_EXPANDED_PAIRS {
                edges.push(ExpandedEdge { edge: *edge, from: Some((index, false)) });
                continue;
            }
            for &a in left {
                for &b in right {
                    // Symmetric relations put the earlier document first;
                    // `contained` keeps the contained document first.
                    let member = Edge { a, b, ..*edge };
                    let keep = edge.relation == Relation::Contained || a < b;
                    edges.push(if keep {
                        ExpandedEdge { edge: member, from: Some((index, false)) }
                    } else {
                        ExpandedEdge { edge: member.swapped(), from: Some((index, true)) }
                    });
                }
            }
        }
        edges
    }
}

/// An edge after expansion to copies, with the verified pair it stands for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExpandedEdge {
    /// The edge.
    pub edge: Edge,
    /// The index of the verified pair it was expanded from, and whether it
    /// is seen from that pair's other side; `None` for a pair of identical
    /// copies.
    pub from: Option<(u32, bool)>,
}
