//! The whole pipeline over one batch of documents: [`Scanner::scan`].
//!
//! ```text
//! Document ─▶ features (parallel, per batch): content hash, shingle set,
//!             MinHash signature, passage fingerprints
//!   exact-duplicate groups ─▶ one representative per distinct text
//!   boilerplate: document frequency of shingles ─▶ content sets
//!   candidates: LSH bands (signatures) ∪ passages (content fingerprints)
//!   verify (exact, on content sets) ─▶ relate ─▶ expand to group members
//!   evidence (aligned spans) for `contained` pairs
//!   clusters ─▶ attribution ─▶ ScanOutcome
//! ```
//!
//! Documents are pulled from the iterator in batches and featurized in
//! parallel (rayon). Texts are kept in memory for the two steps that need
//! positions (boilerplate runs and evidence spans) and for nothing else.
//!
//! The outcome does not depend on the number of threads: every parallel step
//! either writes to its own slot or is followed by a sort.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::attribute::{Attribution, AttributionReason, attribute, parse_date};
use crate::boilerplate::{BoilerplateConfig, FrequentShingles, boilerplate_shingles, without};
use crate::candidates::{
    BandingStrategy, CandidateConfig, DEFAULT_BUCKET_CAP, LshParams, OversizedReport,
    find_candidates,
};
use crate::cluster::{Cluster, build_clusters};
use crate::duplicates::DuplicateGroups;
use crate::evidence::align;
use crate::features::ShingleSequence;
use crate::features::{DocFeatures, Featurizer};
use crate::ingest::Document;
use crate::normalize::NormalizeOptions;
use crate::passage::{DEFAULT_WINNOW_WINDOW, PassageConfig, find_passage_candidates};
use crate::relate::{Edge, RelateConfig, Relation};
use crate::shingle::{ShingleHasher, ShingleSet};
use crate::sketch::{DEFAULT_NUM_HASHES, DEFAULT_SEED, MinHasher};
use crate::spin::{SPIN_BANDS, SPIN_ROWS, SpinConfig, SpinProfile, rewrite_evidence};
use crate::verify::PairScores;
use crate::{Error, Result};

/// Default shingle size in words (see `ARCHITECTURE.md` for the measurement).
pub const DEFAULT_SHINGLE_SIZE: usize = 5;
/// Documents featurized together.
const BATCH_DOCS: usize = 4096;
/// Bytes of text featurized together (whichever limit comes first).
const BATCH_BYTES: usize = 64 << 20;

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

/// What the scan keeps of each document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocInfo {
    /// The document id.
    pub id: String,
    /// Its date, if the input had one.
    pub date: Option<String>,
    /// Its URL, if the input had one.
    pub url: Option<String>,
    /// Size of the text in bytes.
    pub bytes: u64,
    /// Number of tokens.
    pub tokens: u32,
    /// Number of distinct shingles.
    pub shingles: u32,
    /// Of those, how many are boilerplate.
    pub boilerplate_shingles: u32,
}

/// Wall time spent in each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageTimings {
    /// Reading, normalizing, shingling, sketching and winnowing.
    pub featurize: Duration,
    /// Duplicate grouping, boilerplate, LSH and passage candidates.
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
    /// Bytes of text scanned.
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
    pub docs: Vec<DocInfo>,
    /// Related pairs, sorted by `(a, b)`.
    pub edges: Vec<Edge>,
    /// Clusters of copies, largest first.
    pub clusters: Vec<Cluster>,
    /// Counts and timings.
    pub stats: ScanStats,
}

impl ScanOutcome {
    /// The id of document `index`.
    pub fn id(&self, index: u32) -> &str {
        &self.docs[index as usize].id
    }

    /// Number of edges of each relation, in [`Relation::ALL`] order.
    pub fn relation_counts(&self) -> [(Relation, usize); 4] {
        Relation::ALL.map(|r| (r, self.edges.iter().filter(|e| e.relation == r).count()))
    }
}

/// Runs the pipeline with one configuration.
#[derive(Clone, Debug)]
pub struct Scanner {
    config: ScanConfig,
    featurizer: Featurizer,
    lsh: LshParams,
}

/// Per-document state between the stages of one scan.
struct Corpus {
    texts: Vec<String>,
    features: Vec<DocFeatures>,
    groups: DuplicateGroups,
    /// Content sets of documents that have boilerplate (indexed by document;
    /// `None` where the full set is the content).
    content: Vec<Option<ShingleSet>>,
    /// Shingle sequences, computed once when first needed.
    sequences: Vec<std::sync::OnceLock<ShingleSequence>>,
    /// Rewrite profiles, computed once when first needed.
    profiles: Vec<std::sync::OnceLock<SpinProfile>>,
}

impl Corpus {
    /// The content shingles of a document (those of its representative).
    fn content(&self, doc: u32) -> &ShingleSet {
        let rep = self.groups.representative_of[doc as usize] as usize;
        self.content[rep].as_ref().unwrap_or(&self.features[rep].shingles)
    }

    /// Returns true if and only if `a` and `b` share some shingle that is
    /// boilerplate in one of them (checked only where boilerplate exists).
    /// Returns true if and only if `hash` is a boilerplate shingle of `doc`.
    fn is_boilerplate(&self, doc: u32, hash: u64) -> bool {
        let rep = self.groups.representative_of[doc as usize] as usize;
        self.content[rep].as_ref().is_some_and(|c| !c.contains(hash))
    }

    fn shares_boilerplate(&self, a: u32, b: u32) -> bool {
        let rep = |d: u32| self.groups.representative_of[d as usize] as usize;
        let has_boilerplate = |d: u32| self.content[rep(d)].is_some();
        (has_boilerplate(a) || has_boilerplate(b))
            && self.features[rep(a)].shingles.intersection_len(&self.features[rep(b)].shingles) > 0
    }
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
        Ok(Scanner { featurizer, lsh, config })
    }

    /// The configuration.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// The banding in use.
    pub fn lsh_params(&self) -> LshParams {
        self.lsh
    }

    /// Normalizes, shingles, sketches and winnows one text.
    pub fn featurize(&self, text: &str) -> DocFeatures {
        self.featurizer.featurize(text)
    }

    /// Scans documents: finds every related pair and the clusters they form.
    ///
    /// Document ids must be unique ([`crate::ingest::DocumentReader`]
    /// guarantees it); a repeated id is an error.
    pub fn scan<I>(&self, documents: I) -> Result<ScanOutcome>
    where
        I: IntoIterator<Item = Document>,
    {
        let started = Instant::now();
        let (mut docs, texts, features) = self.featurize_all(documents.into_iter())?;
        let mut stats = ScanStats {
            documents: docs.len() as u64,
            bytes: docs.iter().map(|d| d.bytes).sum(),
            empty_documents: features.iter().filter(|f| f.content_hash.is_none()).count() as u64,
            ..ScanStats::default()
        };
        stats.timings.featurize = started.elapsed();

        let started = Instant::now();
        let groups = DuplicateGroups::find(&features);
        stats.duplicate_groups = groups.groups.len() as u64;
        stats.representatives = groups.representatives.len() as u64;
        let n = texts.len();
        let mut corpus = Corpus {
            content: vec![None; n],
            sequences: (0..n).map(|_| Default::default()).collect(),
            profiles: (0..n).map(|_| Default::default()).collect(),
            texts,
            features,
            groups,
        };
        self.remove_boilerplate(&mut corpus, &mut docs, &mut stats);
        let pairs = self.candidates(&corpus, &mut stats);
        stats.timings.candidates = started.elapsed();

        let started = Instant::now();
        let boilerplate_only = std::sync::atomic::AtomicU64::new(0);
        let rewrite_checks = std::sync::atomic::AtomicU64::new(0);
        let verified: Vec<Edge> = pairs
            .par_iter()
            .filter_map(|&(a, b)| {
                let scores = PairScores::between(corpus.content(a), corpus.content(b));
                if scores.shared == 0 && corpus.shares_boilerplate(a, b) {
                    boilerplate_only.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                match self.config.relate.classify(&scores) {
                    Some(c) if c.swap => Some(Edge::new(b, a, c.relation, scores.swapped())),
                    Some(c) => Some(Edge::new(a, b, c.relation, scores)),
                    None if self.config.spin.enabled => {
                        rewrite_checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        self.verify_rewrite(&corpus, a, b, scores)
                    }
                    None => None,
                }
            })
            .collect();
        stats.verified_pairs = verified.len() as u64;
        stats.boilerplate_only_pairs = boilerplate_only.into_inner();
        stats.rewrite_checks = rewrite_checks.into_inner();
        stats.timings.verify = started.elapsed();

        let started = Instant::now();
        let mut edges = corpus.groups.expand(
            &verified,
            |d| corpus.content(d).len() as u32,
            &mut stats.pairs_not_expanded,
        );
        edges.par_sort_unstable_by_key(|e| (e.a, e.b));
        self.add_evidence(&corpus, &mut edges);
        let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        let mut clusters = build_clusters(&ids, edges.iter().map(|e| (e.a, e.b, e.relation)));
        attribute_clusters(&mut clusters, &docs, &edges, &corpus.groups);
        stats.timings.cluster = started.elapsed();

        Ok(ScanOutcome { docs, edges, clusters, stats })
    }

    /// Pulls documents in batches and featurizes each batch in parallel.
    fn featurize_all(
        &self,
        mut documents: impl Iterator<Item = Document>,
    ) -> Result<(Vec<DocInfo>, Vec<String>, Vec<DocFeatures>)> {
        let mut infos = Vec::new();
        let mut texts = Vec::new();
        let mut features = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut batch: Vec<Document> = Vec::with_capacity(BATCH_DOCS);
        loop {
            batch.clear();
            let mut bytes = 0;
            for doc in documents.by_ref() {
                bytes += doc.text.len();
                batch.push(doc);
                if batch.len() >= BATCH_DOCS || bytes >= BATCH_BYTES {
                    break;
                }
            }
            if batch.is_empty() {
                break;
            }
            if infos.len() + batch.len() >= u32::MAX as usize {
                return Err(Error::TooManyDocuments { limit: u64::from(u32::MAX) - 1 });
            }
            let computed: Vec<DocFeatures> =
                batch.par_iter().map(|d| self.featurizer.featurize(&d.text)).collect();
            for (doc, f) in batch.drain(..).zip(computed) {
                if !seen.insert(doc.id.clone()) {
                    return Err(Error::DuplicateId(doc.id));
                }
                infos.push(DocInfo {
                    bytes: doc.text.len() as u64,
                    tokens: f.tokens,
                    shingles: f.shingles.len() as u32,
                    boilerplate_shingles: 0,
                    id: doc.id,
                    date: doc.date,
                    url: doc.url,
                });
                texts.push(doc.text);
                features.push(f);
            }
        }
        Ok((infos, texts, features))
    }

    /// Finds frequent shingles and removes those in short runs from the
    /// representatives' content sets (and from their fingerprints).
    fn remove_boilerplate(&self, corpus: &mut Corpus, docs: &mut [DocInfo], stats: &mut ScanStats) {
        let reps = &corpus.groups.representatives;
        let sets: Vec<&ShingleSet> =
            reps.iter().map(|&d| &corpus.features[d as usize].shingles).collect();
        let frequent = FrequentShingles::count(&sets, self.config.boilerplate.min_df);
        stats.frequent_shingles = frequent.len() as u64;
        if frequent.is_empty() {
            return;
        }
        let removed: Vec<(u32, Vec<u64>)> = reps
            .par_iter()
            .filter(|&&d| frequent.any_in(&corpus.features[d as usize].shingles))
            .map(|&d| {
                let sequence = self.featurizer.sequence(&corpus.texts[d as usize]);
                let bp = boilerplate_shingles(
                    &sequence.hashes,
                    self.config.shingle_size,
                    &frequent,
                    self.config.boilerplate.max_run_tokens,
                );
                (d, bp)
            })
            .filter(|(_, bp)| !bp.is_empty())
            .collect();
        stats.documents_with_boilerplate = removed.len() as u64;
        for (d, bp) in removed {
            let f = &mut corpus.features[d as usize];
            f.fingerprints.retain(|h| bp.binary_search(h).is_err());
            corpus.content[d as usize] = Some(without(&f.shingles, &bp));
            let count = bp.len() as u32;
            for &m in corpus.groups.group(d).unwrap_or(&[d]) {
                docs[m as usize].boilerplate_shingles = count;
            }
        }
    }

    /// LSH and passage candidates among representatives, as sorted distinct
    /// document pairs.
    fn candidates(&self, corpus: &Corpus, stats: &mut ScanStats) -> Vec<(u32, u32)> {
        let reps = &corpus.groups.representatives;
        let signatures: Vec<_> =
            reps.iter().map(|&d| &corpus.features[d as usize].signature).collect();
        let lsh = find_candidates(
            &signatures,
            &CandidateConfig {
                params: self.lsh,
                bucket_cap: self.config.bucket_cap,
                strategy: self.config.banding,
            },
        );
        let rewrite_view = |signature: fn(&DocFeatures) -> &crate::sketch::Signature| {
            let signatures: Vec<_> =
                reps.iter().map(|&d| signature(&corpus.features[d as usize])).collect();
            find_candidates(
                &signatures,
                &CandidateConfig {
                    params: self.spin_lsh(),
                    bucket_cap: self.config.bucket_cap,
                    strategy: self.config.banding,
                },
            )
        };
        let spin = &self.config.spin;
        let spin_view =
            if spin.enabled { rewrite_view(|f| &f.spin_signature) } else { Default::default() };
        let char_view = if spin.enabled && spin.char_ngram > 0 {
            rewrite_view(|f| &f.char_signature)
        } else {
            Default::default()
        };
        stats.spin_candidates = spin_view.pairs.len() as u64;
        stats.char_candidates = char_view.pairs.len() as u64;
        let fingerprints: Vec<&[u64]> =
            reps.iter().map(|&d| corpus.features[d as usize].fingerprints.as_slice()).collect();
        let sizes: Vec<u32> = reps.iter().map(|&d| corpus.content(d).len() as u32).collect();
        let passages = find_passage_candidates(&fingerprints, &sizes, &self.config.passage);
        stats.lsh_candidates = lsh.pairs.len() as u64;
        stats.passage_candidates = passages.pairs.len() as u64;
        stats.oversized = lsh.oversized;
        stats.oversized_passages = passages.oversized;
        let mut pairs: Vec<(u32, u32)> = lsh
            .pairs
            .into_iter()
            .chain(passages.pairs)
            .chain(spin_view.pairs)
            .chain(char_view.pairs)
            .map(|(i, j)| (reps[i as usize], reps[j as usize]))
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        stats.candidate_pairs = pairs.len() as u64;
        pairs
    }

    /// Banding of the immutable-word signatures: 42 × 3 when the signature
    /// is long enough, else the banding for a Jaccard of 0.5.
    fn spin_lsh(&self) -> LshParams {
        LshParams::new(SPIN_BANDS, SPIN_ROWS, self.config.num_hashes)
            .or_else(|_| LshParams::for_threshold(0.5, self.config.num_hashes))
            .unwrap_or(self.lsh)
    }

    /// The shingle sequence of a document, computed once.
    fn sequence<'c>(&self, corpus: &'c Corpus, doc: u32) -> &'c ShingleSequence {
        corpus.sequences[doc as usize]
            .get_or_init(|| self.featurizer.sequence(&corpus.texts[doc as usize]))
    }

    /// The spun view's verdict on a pair the shingle rules did not explain:
    /// `spun` for a synonym rewrite, `near_duplicate` for OCR-style noise.
    fn verify_rewrite(&self, corpus: &Corpus, a: u32, b: u32, scores: PairScores) -> Option<Edge> {
        let spin = &self.config.spin;
        let n = self.config.shingle_size;
        let profile = |d: u32| {
            corpus.profiles[d as usize].get_or_init(|| {
                SpinProfile::new(
                    &corpus.texts[d as usize],
                    self.sequence(corpus, d),
                    n,
                    self.featurizer.immutables(),
                    spin,
                    |h| corpus.is_boilerplate(d, h),
                )
            })
        };
        let spin_scores = crate::spin::verify(profile(a), profile(b), spin)?;
        let bp_a = |h: u64| corpus.is_boilerplate(a, h);
        let bp_b = |h: u64| corpus.is_boilerplate(b, h);
        let evidence = rewrite_evidence(
            (&corpus.texts[a as usize], self.sequence(corpus, a), &bp_a),
            (&corpus.texts[b as usize], self.sequence(corpus, b), &bp_b),
            n,
            self.featurizer.normalizer(),
            spin_scores,
            spin,
        );
        let relation =
            if evidence.is_noise(spin) { Relation::NearDuplicate } else { Relation::Spun };
        Some(Edge { rewrite: Some(evidence), ..Edge::new(a, b, relation, scores) })
    }

    /// Aligned spans for every `contained` pair.
    fn add_evidence(&self, corpus: &Corpus, edges: &mut [Edge]) {
        let n = self.config.shingle_size;
        edges.par_iter_mut().filter(|e| e.relation == Relation::Contained).for_each(|e| {
            let (a_text, b_text) = (&corpus.texts[e.a as usize], &corpus.texts[e.b as usize]);
            let (a_seq, b_seq) = (self.sequence(corpus, e.a), self.sequence(corpus, e.b));
            let (a_set, b_set) = (corpus.content(e.a), corpus.content(e.b));
            let shared = |h: u64| a_set.contains(h) && b_set.contains(h);
            e.evidence = Some(align(a_text, a_seq, b_text, b_seq, n, shared));
        });
    }
}

/// Names the likely original of every cluster.
fn attribute_clusters(
    clusters: &mut [Cluster],
    docs: &[DocInfo],
    edges: &[Edge],
    groups: &DuplicateGroups,
) {
    let mut carried = vec![0usize; docs.len()];
    // Average containment of each document in the other versions it is
    // linked to: (sum, count). Links between identical copies say nothing
    // about direction and are left out.
    let mut contained = vec![(0.0f64, 0u32); docs.len()];
    for e in edges {
        if e.relation == Relation::Contained {
            carried[e.a as usize] += 1;
        } else if e.relation != Relation::Duplicate {
            contained[e.a as usize].0 += e.scores.containment_a_in_b();
            contained[e.a as usize].1 += 1;
            contained[e.b as usize].0 += e.scores.containment_b_in_a();
            contained[e.b as usize].1 += 1;
        }
    }
    let date = |m: u32| docs[m as usize].date.as_deref().and_then(parse_date);
    for cluster in clusters {
        // One version per group of identical copies; a version has the
        // earliest date and all the carriers of its copies.
        let copies =
            |v: u32| groups.group(v).unwrap_or(std::slice::from_ref(&cluster.members[0])).to_vec();
        let copies_of = |v: u32| if groups.group(v).is_some() { copies(v) } else { vec![v] };
        let versions: Vec<u32> = cluster
            .members
            .iter()
            .copied()
            .filter(|&m| groups.representative_of[m as usize] == m)
            .collect();
        let chosen = attribute(
            &versions,
            |v| copies_of(v).into_iter().filter_map(date).min(),
            |v| copies_of(v).into_iter().map(|m| carried[m as usize]).sum(),
            |v| {
                let (sum, count) = contained[v as usize];
                (count > 0).then(|| sum / f64::from(count))
            },
        );
        // Among identical copies, the earliest dated one (else the first read).
        let version_copies = copies_of(chosen.original);
        let dated = version_copies.iter().filter_map(|&m| date(m).map(|d| (d, m))).min();
        cluster.original = match dated {
            Some((_, m)) if m != chosen.original => {
                Attribution { original: m, reason: AttributionReason::EarliestDate }
            }
            _ => chosen,
        };
    }
}

#[cfg(test)]
mod tests;
