//! The whole pipeline over one corpus: [`Scanner::scan`].
//!
//! ```text
//! pass 1  sketch_pass      stream documents; in parallel batches: extract
//!                          text, featurize, band keys; exact copies found by
//!                          content hash; texts and sets to the stores,
//!                          (key, doc) entries and shingle keys to spills
//! pass 2  boilerplate_pass shingle document frequencies (frequencies: from
//!                          keys, checked on the stored sets); each
//!                          document's short frequent runs → content /
//!                          boilerplate sets
//! pass 3  candidate_pass   band keys and passage fingerprints grouped →
//!                          distinct candidate pairs
//! pass 4  verify_pass      exact scores on the stored sets, rewrite
//!                          verifier, relations
//!         then             expansion to copies, evidence (aligned spans,
//!                          substitutions) to scratch storage, clusters,
//!                          attribution
//! ```
//!
//! Memory: each document costs its id and 12 bytes in memory (where its
//! id ends, its representative, its content size: see [`DocTable`]), and
//! while it is read, about 40 bytes of hash tables that spot repeated ids
//! and identical texts. Everything else (records, texts, shingle sets,
//! grouping entries, the evidence of related pairs) goes to scratch storage
//! chosen by [`Resources`] and is processed one bounded batch at a time.
//! The candidate pairs (8 bytes each) and the related pairs (24 bytes
//! each, without their evidence) are held whole.
//!
//! The outcome does not depend on the number of threads or on where
//! scratch data is kept: every parallel step either writes to its own slot
//! or is followed by a sort.

mod boilerplate_pass;
mod candidate_pass;
mod corpus;
mod docs;
mod evidence_pass;
mod frequencies;
mod outcome;
mod sketch_pass;
mod text_sources;
mod verify_pass;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::attribute::attribute_clusters;
use crate::boilerplate::{BoilerplateConfig, FrequentShingles};
use crate::candidates::{BandingStrategy, DEFAULT_BUCKET_CAP, LshParams};
use crate::cluster::build_clusters;
use crate::features::{DocFeatures, Featurizer};
use crate::ingest::Document;
use crate::normalize::NormalizeOptions;
use crate::passage::{DEFAULT_WINNOW_WINDOW, PassageConfig};
use crate::progress::{Progress, Silent};
use crate::relate::RelateConfig;
use crate::shingle::ShingleHasher;
use crate::sketch::{DEFAULT_NUM_HASHES, DEFAULT_SEED, MinHasher};
use crate::spill::{BlobStore, Resources};
use crate::spin::{CHAR_BANDS, CHAR_ROWS, SPIN_BANDS, SPIN_ROWS, SpinConfig};
use crate::{Error, Result};

#[cfg(feature = "cluster")]
pub(crate) use candidate_pass::{PASSAGE_TAG, candidate_views};
pub use docs::{ContentSets, DocInfo, DocTable, StoredDoc};
pub use evidence_pass::EvidenceStore;
pub use outcome::{ScanOutcome, ScanStats, StageTimings};
pub use sketch_pass::DocSketch;
#[cfg(feature = "cluster")]
pub(crate) use sketch_pass::MAX_DOCS;

/// An error of the scan's scratch storage (a failed read or write, or data
/// that does not decode).
fn scratch_error(e: std::io::Error) -> Error {
    Error::io("<scan scratch store>", e)
}

/// Default shingle size in words (see `ARCHITECTURE.md` for the measurement).
pub const DEFAULT_SHINGLE_SIZE: usize = 5;

/// Everything that decides what a scan finds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanConfig {
    /// Text normalization.
    pub normalize: NormalizeOptions,
    /// Shingle size in words.
    pub shingle_size: usize,
    /// Hash functions per MinHash signature.
    pub num_hashes: usize,
    /// Seed of the MinHash family.
    pub seed: u64,
    /// Relation thresholds.
    pub relate: RelateConfig,
    /// Banding; `None` derives it from the near-duplicate threshold.
    pub lsh: Option<LshParams>,
    /// Buckets larger than this are paired through a hub.
    pub bucket_cap: usize,
    /// Bucketing implementation.
    pub banding: BandingStrategy,
    /// Passage fingerprint window, in shingles.
    pub winnow_window: usize,
    /// Passage candidate settings.
    pub passage: PassageConfig,
    /// What counts as boilerplate.
    pub boilerplate: BoilerplateConfig,
    /// The spun view (spin-robust candidates and the rewrite verifier).
    pub spin: SpinConfig,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            normalize: NormalizeOptions::default(),
            shingle_size: DEFAULT_SHINGLE_SIZE,
            num_hashes: DEFAULT_NUM_HASHES,
            seed: DEFAULT_SEED,
            relate: RelateConfig::default(),
            lsh: None,
            bucket_cap: DEFAULT_BUCKET_CAP,
            banding: BandingStrategy::default(),
            winnow_window: DEFAULT_WINNOW_WINDOW,
            passage: PassageConfig::default(),
            boilerplate: BoilerplateConfig::default(),
            spin: SpinConfig::default(),
        }
    }
}

/// Runs the pipeline with one configuration.
#[derive(Clone, Debug)]
pub struct Scanner {
    config: ScanConfig,
    featurizer: Featurizer,
    lsh: LshParams,
    /// Shingles frequent in a larger collection than the one scanned (an
    /// index's): when set, they and only they are boilerplate candidates.
    known_frequent: Option<std::sync::Arc<FrequentShingles>>,
}

impl Scanner {
    /// Checks the configuration and prepares the stages.
    pub fn new(config: ScanConfig) -> Result<Self> {
        let relate = &config.relate;
        for (name, value) in [
            ("near-duplicate threshold", relate.near_threshold),
            ("contained threshold", relate.contained_threshold),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(Error::Config(format!("the {name} must be in (0, 1], got {value}")));
            }
        }
        if !(0.0..=1.0).contains(&relate.near_min_containment) {
            return Err(Error::Config(format!(
                "the near-duplicate minimum containment must be in [0, 1], got {}",
                relate.near_min_containment
            )));
        }
        for (name, value, least) in [
            ("bucket cap", config.bucket_cap, 2),
            ("passage group cap", config.passage.group_cap, 2),
            ("winnowing window", config.winnow_window, 1),
            ("number of shared passages", config.passage.min_shared as usize, 1),
        ] {
            if value < least {
                return Err(Error::Config(format!(
                    "the {name} must be at least {least}, got {value}"
                )));
            }
        }
        let minhasher = MinHasher::new(config.num_hashes, config.seed)?;
        let lsh = match config.lsh {
            Some(p) => LshParams::new(p.bands, p.rows, config.num_hashes)?,
            None => LshParams::for_threshold(relate.near_threshold, config.num_hashes)?,
        };
        let char_ngram = if config.spin.enabled { config.spin.char_ngram } else { 0 };
        let featurizer = Featurizer::with_char_ngrams(
            config.normalize,
            ShingleHasher::new(config.shingle_size)?,
            minhasher,
            config.winnow_window,
            char_ngram,
        );
        Ok(Scanner { featurizer, lsh, config, known_frequent: None })
    }

    /// This scanner, for documents that belong to a larger collection whose
    /// frequent shingles are `frequent` (at least `min_df` distinct
    /// documents of the whole collection hold each). Boilerplate is then
    /// found as a scan of the whole collection would find it, whatever the
    /// share of it being scanned: the index uses this to scan a batch with
    /// its neighbourhood only.
    pub fn with_known_frequent(mut self, frequent: FrequentShingles) -> Self {
        self.known_frequent = Some(std::sync::Arc::new(frequent));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// The banding in use.
    pub fn lsh_params(&self) -> LshParams {
        self.lsh
    }

    /// The featurizer of this configuration (normalization, shingles, and
    /// the shingles in order with positions, for evidence and reports).
    pub fn featurizer(&self) -> &Featurizer {
        &self.featurizer
    }

    /// Normalizes, shingles, sketches and winnows one text.
    pub fn featurize(&self, text: &str) -> DocFeatures {
        self.featurizer.featurize(text)
    }

    /// Scans documents: finds every related pair and the clusters they form,
    /// with scratch data in memory and no progress reports.
    ///
    /// Document ids must be unique ([`crate::ingest::DocumentReader`]
    /// guarantees it); a repeated id is an error.
    pub fn scan<I>(&self, documents: I) -> Result<ScanOutcome>
    where
        I: IntoIterator<Item = Document>,
        I::IntoIter: Send,
    {
        self.scan_with(documents, &Resources::default(), &Silent)
    }

    /// Scans documents with scratch data where `resources` says, reporting
    /// progress to `progress`.
    pub fn scan_with<I>(
        &self,
        documents: I,
        resources: &Resources,
        progress: &dyn Progress,
    ) -> Result<ScanOutcome>
    where
        I: IntoIterator<Item = Document>,
        I::IntoIter: Send,
    {
        let documents = documents.into_iter();
        self.scan_inputs(documents, |d| d.body.len(), |d| self.sketch(d), None, resources, progress)
    }

    /// Scans documents sketched earlier by [`Scanner::sketch`] with this
    /// scanner's configuration (so that a caller that needed the sketches
    /// first does not pay for them twice).
    pub fn scan_sketches_with<I>(
        &self,
        sketches: I,
        resources: &Resources,
        progress: &dyn Progress,
    ) -> Result<ScanOutcome>
    where
        I: IntoIterator<Item = DocSketch>,
        I::IntoIter: Send,
    {
        let sketches = sketches.into_iter();
        self.scan_inputs(sketches, |s| s.text.len(), |s| s, None, resources, progress)
    }

    /// Scans sketches whose candidate pairs were found elsewhere (a
    /// distributed scan finds them across workers): `candidates` are
    /// `(a, b)`, `a < b`, numbered by the order of `sketches`, and take the
    /// place of this scan's own candidate search. Everything else (exact
    /// copies, boilerplate, verification, evidence, clusters) is as in
    /// [`Scanner::scan_sketches_with`].
    pub fn scan_candidates_with<I>(
        &self,
        sketches: I,
        candidates: Vec<(u32, u32)>,
        resources: &Resources,
        progress: &dyn Progress,
    ) -> Result<ScanOutcome>
    where
        I: IntoIterator<Item = DocSketch>,
        I::IntoIter: Send,
    {
        let sketches = sketches.into_iter();
        self.scan_inputs(sketches, |s| s.text.len(), |s| s, Some(candidates), resources, progress)
    }

    /// A scan of inputs that `sketch` turns into sketches; `candidates`,
    /// when given, replace the candidate search.
    fn scan_inputs<T, I>(
        &self,
        inputs: I,
        size: impl Fn(&T) -> usize + Send,
        sketch: impl Fn(T) -> DocSketch + Sync,
        candidates: Option<Vec<(u32, u32)>>,
        resources: &Resources,
        progress: &dyn Progress,
    ) -> Result<ScanOutcome>
    where
        T: Send,
        I: Iterator<Item = T> + Send,
    {
        let started = Instant::now();
        let (mut corpus, spills, counts) =
            self.sketch_all(inputs, size, sketch, resources, progress)?;
        let n = corpus.docs.len();
        let mut stats = ScanStats {
            documents: n as u64,
            input_bytes: counts.input_bytes,
            bytes: counts.text_bytes,
            empty_documents: counts.empty_documents,
            duplicate_groups: corpus.groups.groups.len() as u64,
            representatives: corpus.groups.distinct,
            ..ScanStats::default()
        };
        stats.timings.featurize = started.elapsed();

        let started = Instant::now();
        let mut passages = spills.passages;
        self.find_boilerplate(
            &mut corpus,
            spills.shingle_keys,
            &mut passages,
            resources,
            progress,
            &mut stats,
        )?;
        stats.timings.boilerplate = started.elapsed();

        let started = Instant::now();
        let pairs = match candidates {
            Some(mut pairs) => {
                if pairs.iter().any(|&(a, b)| a >= b || b as usize >= n) {
                    return Err(Error::Config("a given candidate pair is out of range".into()));
                }
                pairs.sort_unstable();
                pairs.dedup();
                stats.candidate_pairs = pairs.len() as u64;
                pairs
            }
            None => self.find_candidate_pairs(
                &corpus,
                spills.bands,
                passages,
                resources,
                progress,
                &mut stats,
            )?,
        };
        stats.timings.candidates = started.elapsed();

        let started = Instant::now();
        let mut rewrites = BlobStore::new(&resources.spill)?;
        let (verified, rewrite_at) =
            self.verify_pairs(&corpus, &pairs, &mut rewrites, progress, &mut stats)?;
        drop(pairs);
        stats.verified_pairs = verified.len() as u64;
        stats.timings.verify = started.elapsed();

        let started = Instant::now();
        let mut expanded = corpus.groups.expand(
            &verified,
            |d| corpus.content_len(d),
            &mut stats.pairs_not_expanded,
        );
        drop(verified);
        rayon::slice::ParallelSliceMut::par_sort_unstable_by_key(&mut expanded[..], |e| {
            (e.edge.a, e.edge.b)
        });
        let (edges, evidence) = self.gather_evidence(
            &corpus,
            &expanded,
            &rewrites,
            &rewrite_at,
            &resources.spill,
            progress,
        )?;
        drop((expanded, rewrites, rewrite_at));
        let docs = &corpus.docs;
        let mut clusters =
            build_clusters(|d| docs.id(d), edges.iter().map(|e| (e.a, e.b, e.relation)));
        // Dates of cluster members only: attribution never looks at others.
        let mut dates = std::collections::HashMap::new();
        for &m in clusters.iter().flat_map(|c| &c.members) {
            dates.insert(m, docs.date(m)?);
        }
        attribute_clusters(
            &mut clusters,
            |d| dates.get(&d).copied().flatten(),
            &edges,
            &corpus.groups,
        );
        stats.timings.cluster = started.elapsed();

        let content = ContentSets::new(
            corpus.set_store,
            corpus.docs.records(),
            std::mem::take(&mut corpus.groups.representative_of),
        );
        Ok(ScanOutcome { docs: corpus.docs, content, edges, evidence, clusters, stats })
    }

    /// Banding of the character signatures: 42 × 3 when the signature is
    /// long enough, else the banding for a Jaccard of 0.5.
    fn char_lsh(&self) -> LshParams {
        LshParams::new(CHAR_BANDS, CHAR_ROWS, self.config.num_hashes)
            .or_else(|_| LshParams::for_threshold(0.5, self.config.num_hashes))
            .unwrap_or(self.lsh)
    }

    /// Banding of the immutable-word signatures: 42 × 3 when the signature
    /// is long enough, else the banding for a Jaccard of 0.5.
    fn spin_lsh(&self) -> LshParams {
        LshParams::new(SPIN_BANDS, SPIN_ROWS, self.config.num_hashes)
            .or_else(|_| LshParams::for_threshold(0.5, self.config.num_hashes))
            .unwrap_or(self.lsh)
    }
}

#[cfg(test)]
mod tests;
