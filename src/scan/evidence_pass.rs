//! After verification and expansion to copies: the evidence of every
//! related pair (aligned spans for `contained` pairs, the rewrite verifier's
//! substitutions for pairs it decided), written to an [`EvidenceStore`].
//!
//! Evidence is what makes a pair's output large (spans, substitutions as
//! strings: about a kilobyte), and it is needed only when the pairs are
//! written out. Keeping it in scratch storage, one record per edge, leaves
//! an edge in memory at its fixed size, so a scan's memory does not grow
//! with the evidence of a crawl's hundreds of thousands of pairs.
//!
//! Records are [`PairEvidence`] encoded with `postcard` (already the
//! index's format): compact, and decoded by the same process that wrote it.

use std::sync::Arc;

use rayon::prelude::*;

use crate::duplicates::ExpandedEdge;
use crate::evidence::align;
use crate::progress::{Progress, Stage};
use crate::relate::{Edge, PairEvidence, Relation};
use crate::spill::{BlobRef, BlobStore, Spill};
use crate::spin::RewriteEvidence;
use crate::{Error, Result};

use super::corpus::Corpus;
use super::{Scanner, scratch_error};

/// Edges whose evidence is computed together (bounds the evidence held in
/// memory at once).
const EDGES_PER_ROUND: usize = 4096;

/// A record that does not encode or decode: a scratch storage error.
fn codec_error(e: postcard::Error) -> Error {
    scratch_error(std::io::Error::other(e))
}

/// Stores one rewrite verifier's evidence; returns where it is.
pub(super) fn store_rewrite(store: &mut BlobStore, evidence: &RewriteEvidence) -> Result<BlobRef> {
    let bytes = postcard::to_allocvec(evidence).map_err(codec_error)?;
    store.append(&bytes)
}

fn load_rewrite(store: &BlobStore, at: BlobRef) -> Result<RewriteEvidence> {
    let bytes = store.read(at).map_err(scratch_error)?;
    postcard::from_bytes(&bytes).map_err(codec_error)
}

/// The evidence of each edge of a scan, by edge index.
#[derive(Clone, Debug, Default)]
pub struct EvidenceStore {
    store: Arc<BlobStore>,
    /// Where each edge's record ends; a record starts where the one before
    /// it ends, and an empty record means no evidence.
    ends: Arc<Vec<u64>>,
}

impl EvidenceStore {
    /// The evidence of edge `edge` (empty when it has none).
    pub fn get(&self, edge: usize) -> Result<PairEvidence> {
        let end = *self.ends.get(edge).ok_or_else(|| {
            Error::Config(format!("no edge {edge}: the scan has {}", self.ends.len()))
        })?;
        let start = if edge == 0 { 0 } else { self.ends[edge - 1] };
        if start == end {
            return Ok(PairEvidence::default());
        }
        let bytes =
            self.store.read(BlobRef::new(start, (end - start) as u32)).map_err(scratch_error)?;
        postcard::from_bytes(&bytes).map_err(codec_error)
    }

    /// Number of edges.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Returns true if and only if there is no edge.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl Scanner {
    /// The evidence of every edge (`expanded` sorted by `(a, b)`), written
    /// round by round; returns the edges and their evidence.
    pub(super) fn gather_evidence(
        &self,
        corpus: &Corpus,
        expanded: &[ExpandedEdge],
        rewrites: &BlobStore,
        rewrite_at: &[Option<BlobRef>],
        spill: &Spill,
        progress: &dyn Progress,
    ) -> Result<(Vec<Edge>, EvidenceStore)> {
        progress.start(Stage::Evidence, Some(expanded.len() as u64));
        let mut store = BlobStore::new(spill)?;
        let mut ends = Vec::with_capacity(expanded.len());
        for round in expanded.chunks(EDGES_PER_ROUND) {
            let encoded: Vec<Vec<Vec<u8>>> = round
                .par_chunk_by(|x, y| x.edge.a == y.edge.a)
                .map(|chunk| self.evidence_of(corpus, chunk, rewrites, rewrite_at))
                .collect::<Result<_>>()?;
            for bytes in encoded.iter().flatten() {
                store.append(bytes)?;
                ends.push(store.len());
            }
            progress.advance(round.len() as u64);
        }
        store.seal()?;
        progress.finish();
        let edges = expanded.iter().map(|e| e.edge).collect();
        Ok((edges, EvidenceStore { store: Arc::new(store), ends: Arc::new(ends) }))
    }

    /// Encoded evidence of edges that share their first document.
    fn evidence_of(
        &self,
        corpus: &Corpus,
        chunk: &[ExpandedEdge],
        rewrites: &BlobStore,
        rewrite_at: &[Option<BlobRef>],
    ) -> Result<Vec<Vec<u8>>> {
        let mut a_side = None;
        let mut out = Vec::with_capacity(chunk.len());
        for e in chunk {
            let mut evidence = PairEvidence::default();
            if let Some((index, swapped)) = e.from
                && let Some(at) = rewrite_at[index as usize]
            {
                let rewrite = load_rewrite(rewrites, at)?;
                evidence.rewrite = Some(if swapped { rewrite.swapped() } else { rewrite });
            }
            if e.edge.relation == Relation::Contained {
                if a_side.is_none() {
                    let a = e.edge.a;
                    a_side = Some((corpus.load_text(a, &self.featurizer)?, corpus.load_sets(a)?));
                }
                let (a_text, a_sets) = a_side.as_ref().expect("loaded above");
                let b_text = corpus.load_text(e.edge.b, &self.featurizer)?;
                let b_sets = corpus.load_sets(e.edge.b)?;
                // `align` asks only about shingles of the two sequences, and
                // a shingle of both is in both full sets: it is shared unless
                // it is boilerplate in one of them. (Two binary searches in
                // the content sets for each of `b`'s shingles were 13 % of
                // this stage's CPU samples, 100k scan.)
                let shared = |h: u64| !a_sets.is_boilerplate(h) && !b_sets.is_boilerplate(h);
                evidence.matched = Some(align(
                    &a_text.text,
                    &a_text.sequence,
                    &b_text.text,
                    &b_text.sequence,
                    self.config.shingle_size,
                    shared,
                ));
            }
            out.push(if evidence == PairEvidence::default() {
                Vec::new()
            } else {
                postcard::to_allocvec(&evidence).map_err(codec_error)?
            });
        }
        Ok(out)
    }
}
