//! What a scan returns: the documents, the related pairs, the clusters and
//! counts that describe the run.

use std::time::Duration;

use serde::Serialize;

use crate::candidates::OversizedReport;
use crate::cluster::Cluster;
use crate::relate::{Edge, PairEvidence, Relation};

use super::docs::{ContentSets, DocTable};
use super::evidence_pass::EvidenceStore;

/// Wall time spent in each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageTimings {
    /// Reading, extracting, normalizing, shingling, sketching, winnowing
    /// and writing scratch data.
    pub featurize: Duration,
    /// Document frequencies and boilerplate.
    pub boilerplate: Duration,
    /// LSH and passage candidates.
    pub candidates: Duration,
    /// Exact verification and classification.
    pub verify: Duration,
    /// Expansion, evidence, clustering and attribution.
    pub cluster: Duration,
}

/// Counts describing a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScanStats {
    /// Documents scanned.
    pub documents: u64,
    /// Bytes of content as read (HTML before extraction).
    pub input_bytes: u64,
    /// Bytes of text compared (after extraction).
    pub bytes: u64,
    /// Documents without a single token (never paired).
    pub empty_documents: u64,
    /// Groups of two or more identical documents.
    pub duplicate_groups: u64,
    /// Distinct documents that went through candidate search.
    pub representatives: u64,
    /// Shingles frequent enough to be boilerplate where they occur in short runs.
    pub frequent_shingles: u64,
    /// Distinct documents with some boilerplate removed.
    pub documents_with_boilerplate: u64,
    /// Candidate pairs from LSH bands.
    pub lsh_candidates: u64,
    /// Candidate pairs from shared passages.
    pub passage_candidates: u64,
    /// Candidate pairs from immutable-word signatures (the spun view).
    pub spin_candidates: u64,
    /// Candidate pairs from character n-gram signatures (noisy copies).
    pub char_candidates: u64,
    /// Pairs the shingle rules did not explain that the rewrite verifier
    /// examined.
    pub rewrite_checks: u64,
    /// Pairs emitted by all groups (band buckets and passage groups) before
    /// they were counted: the work of candidate search. Pairs from the
    /// character view count only when their band tags allow a second
    /// shared band (see [`crate::candidates::BandTags`]).
    pub candidate_entries: u64,
    /// Distinct candidate pairs verified.
    pub candidate_pairs: u64,
    /// Candidates that verified as related.
    pub verified_pairs: u64,
    /// Candidates whose shared text was all boilerplate: dropped.
    pub boilerplate_only_pairs: u64,
    /// Related pairs not listed because their group was too large to expand
    /// (the clusters still hold every member).
    pub pairs_not_expanded: u64,
    /// LSH buckets paired through a hub.
    pub oversized: OversizedReport,
    /// Passage groups paired through a hub.
    pub oversized_passages: OversizedReport,
    /// Time per stage.
    pub timings: StageTimings,
}

/// The result of a scan.
#[derive(Clone, Debug, Default)]
pub struct ScanOutcome {
    /// Documents in input order; edges and clusters refer to them by index.
    pub docs: DocTable,
    /// Their content shingles, for exact comparisons after the scan.
    pub content: ContentSets,
    /// Related pairs, sorted by `(a, b)`.
    pub edges: Vec<Edge>,
    /// The evidence of each pair, by index in `edges` (see
    /// [`ScanOutcome::evidence`]).
    pub evidence: EvidenceStore,
    /// Clusters of copies, largest first.
    pub clusters: Vec<Cluster>,
    /// Counts and timings.
    pub stats: ScanStats,
}

impl ScanOutcome {
    /// The id of document `index`.
    pub fn id(&self, index: u32) -> &str {
        self.docs.id(index)
    }

    /// The evidence of `edges[edge]`, read back from scratch storage.
    pub fn evidence(&self, edge: usize) -> crate::Result<PairEvidence> {
        self.evidence.get(edge)
    }

    /// Number of edges of each relation, in [`Relation::ALL`] order.
    pub fn relation_counts(&self) -> [(Relation, usize); 4] {
        Relation::ALL.map(|r| (r, self.edges.iter().filter(|e| e.relation == r).count()))
    }
}
