//! Pass 4 of a scan: every candidate pair measured on the stored shingle
//! sets, and the rewrite verifier for pairs the shingle rules do not
//! explain. Its evidence goes to scratch storage round by round.
//!
//! Pairs are sorted by their first document, so each slice of pairs with
//! the same first document reads that document once; the second document
//! is read per pair. Texts are read and tokenized again only for the
//! rewrite verifier and for evidence, the few pairs that need positions.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::Result;
use crate::progress::{Progress, Stage};
use crate::relate::{Edge, Relation};
use crate::spill::{BlobRef, BlobStore};
use crate::spin::{RewriteEvidence, SpinProfile, rewrite_evidence};
use crate::verify::PairScores;

use super::corpus::{Corpus, DocSets, DocText};
use super::evidence_pass::store_rewrite;
use super::{ScanStats, Scanner};

/// Most pairs verified in one slice (bounds the imbalance a hub document
/// with thousands of pairs would cause).
const PAIRS_PER_SLICE: usize = 256;

/// A document loaded for the rewrite verifier.
struct RewriteSide {
    text: DocText,
    profile: SpinProfile,
}

#[derive(Default)]
struct Counters {
    boilerplate_only: AtomicU64,
    rewrite_checks: AtomicU64,
}

/// Slices verified between two writes of rewrite evidence to scratch
/// storage (bounds the evidence held in memory).
const SLICES_PER_ROUND: usize = 1024;

/// A related pair as verification found it.
pub(super) struct VerifiedPair {
    pub edge: Edge,
    /// The rewrite verifier's evidence, for pairs it decided.
    pub rewrite: Option<RewriteEvidence>,
}

impl Scanner {
    /// Verifies candidate pairs; returns the related ones and, for those
    /// the rewrite verifier decided, where its evidence went in `rewrites`
    /// (see [`super::evidence_pass`]).
    pub(super) fn verify_pairs(
        &self,
        corpus: &Corpus,
        pairs: &[(u32, u32)],
        rewrites: &mut BlobStore,
        progress: &dyn Progress,
        stats: &mut ScanStats,
    ) -> Result<(Vec<Edge>, Vec<Option<BlobRef>>)> {
        progress.start(Stage::Verifying, Some(pairs.len() as u64));
        let slices: Vec<&[(u32, u32)]> =
            pairs.chunk_by(|x, y| x.0 == y.0).flat_map(|c| c.chunks(PAIRS_PER_SLICE)).collect();
        let counters = Counters::default();
        let mut edges = Vec::new();
        let mut rewrite_at = Vec::new();
        for round in slices.chunks(SLICES_PER_ROUND) {
            let verified: Vec<Vec<VerifiedPair>> = round
                .par_iter()
                .map(|slice| {
                    let edges = self.verify_slice(corpus, slice, &counters);
                    progress.advance(slice.len() as u64);
                    edges
                })
                .collect::<Result<_>>()?;
            for pair in verified.into_iter().flatten() {
                edges.push(pair.edge);
                rewrite_at.push(match pair.rewrite {
                    Some(evidence) => Some(store_rewrite(rewrites, &evidence)?),
                    None => None,
                });
            }
        }
        rewrites.seal()?;
        stats.boilerplate_only_pairs = counters.boilerplate_only.into_inner();
        stats.rewrite_checks = counters.rewrite_checks.into_inner();
        progress.finish();
        Ok((edges, rewrite_at))
    }

    /// Verifies pairs that share their first document.
    fn verify_slice(
        &self,
        corpus: &Corpus,
        slice: &[(u32, u32)],
        counters: &Counters,
    ) -> Result<Vec<VerifiedPair>> {
        let a = slice[0].0;
        let a_sets = corpus.load_sets(a)?;
        let mut a_side: Option<RewriteSide> = None;
        let mut edges = Vec::new();
        for &(_, b) in slice {
            let b_sets = corpus.load_sets(b)?;
            let scores = PairScores::between(&a_sets.content, &b_sets.content);
            if scores.shared == 0 && a_sets.share_boilerplate(&b_sets) {
                counters.boilerplate_only.fetch_add(1, Ordering::Relaxed);
            }
            let plain = |edge| VerifiedPair { edge, rewrite: None };
            match self.config.relate.classify(&scores) {
                Some(c) if c.swap => {
                    edges.push(plain(Edge::new(b, a, c.relation, scores.swapped())))
                }
                Some(c) => edges.push(plain(Edge::new(a, b, c.relation, scores))),
                None if self.config.spin.enabled => {
                    counters.rewrite_checks.fetch_add(1, Ordering::Relaxed);
                    if a_side.is_none() {
                        a_side = Some(self.rewrite_side(corpus, a, &a_sets)?);
                    }
                    let a_side = a_side.as_ref().expect("loaded above");
                    let b_side = self.rewrite_side(corpus, b, &b_sets)?;
                    edges.extend(self.verify_rewrite(
                        (a, a_side, &a_sets),
                        (b, &b_side, &b_sets),
                        scores,
                    ));
                }
                None => {}
            }
        }
        Ok(edges)
    }

    fn rewrite_side(&self, corpus: &Corpus, doc: u32, sets: &DocSets) -> Result<RewriteSide> {
        let text = corpus.load_text(doc, &self.featurizer)?;
        let profile = SpinProfile::new(
            &text.text,
            &text.sequence,
            self.config.shingle_size,
            self.featurizer.immutables(),
            &self.config.spin,
            |h| sets.is_boilerplate(h),
        );
        Ok(RewriteSide { text, profile })
    }

    /// The spun view's verdict on a pair the shingle rules did not explain:
    /// `spun` for a synonym rewrite, `near_duplicate` for OCR-style noise.
    fn verify_rewrite(
        &self,
        (a, a_side, a_sets): (u32, &RewriteSide, &DocSets),
        (b, b_side, b_sets): (u32, &RewriteSide, &DocSets),
        scores: PairScores,
    ) -> Option<VerifiedPair> {
        let spin = &self.config.spin;
        let spin_scores = crate::spin::verify(&a_side.profile, &b_side.profile, spin)?;
        let bp_a = |h: u64| a_sets.is_boilerplate(h);
        let bp_b = |h: u64| b_sets.is_boilerplate(h);
        let evidence = rewrite_evidence(
            (&a_side.text.text, &a_side.text.sequence, &bp_a),
            (&b_side.text.text, &b_side.text.sequence, &bp_b),
            self.config.shingle_size,
            self.featurizer.normalizer(),
            spin_scores,
            spin,
        );
        let relation =
            if evidence.is_noise(spin) { Relation::NearDuplicate } else { Relation::Spun };
        Some(VerifiedPair { edge: Edge::new(a, b, relation, scores), rewrite: Some(evidence) })
    }
}
