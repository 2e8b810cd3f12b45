//! The whole pipeline over one batch of documents: [`Scanner::scan`].
//!
//! ```text
//! Document ─┬─ normalize ── shingle ── sketch ─┐   (parallel, per batch)
//!           └─ content hash ───────────────────┤
//!    exact-duplicate groups (equal content hash) ─ representatives only:
//!    candidates (LSH bands) ── verify (exact sets) ── relate ── expand to
//!    members ── cluster ──▶ ScanOutcome
//! ```
//!
//! Documents are pulled from the iterator in batches and featurized in
//! parallel (rayon); only the features are kept (distinct shingle hashes and
//! the signature), never the text. Exact duplicates (equal sequences of
//! normalized tokens) are grouped first, and only one representative per
//! group goes through banding and verification: a thousand identical pages
//! cost one signature's worth of buckets, and cannot overflow a bucket by
//! themselves. Edges found between representatives are then expanded to the
//! members of their groups.
//!
//! The outcome does not depend on the number of threads: every parallel step
//! either writes to its own slot or is followed by a sort.

use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::candidates::{
    BandingStrategy, CandidateConfig, DEFAULT_BUCKET_CAP, LshParams, OversizedReport,
    find_candidates,
};
use crate::cluster::{Cluster, build_clusters};
use crate::ingest::Document;
use crate::normalize::{NormalizeOptions, Normalizer};
use crate::relate::{Edge, RelateConfig, Relation};
use crate::shingle::{ShingleHasher, ShingleSet, hash_token};
use crate::sketch::{DEFAULT_NUM_HASHES, DEFAULT_SEED, MinHasher, Signature};
use crate::verify::PairScores;
use crate::{Error, Result};

/// Default shingle size in words (see `ARCHITECTURE.md` for the measurement).
pub const DEFAULT_SHINGLE_SIZE: usize = 5;
/// Groups of copies larger than this are not expanded into every pair: their
/// members are paired with the group's representative only.
pub const MAX_EXPANDED_PAIRS: usize = 4096;
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
}

/// Wall time spent in each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageTimings {
    /// Reading, normalizing, shingling and sketching (streamed together).
    pub featurize: Duration,
    /// Exact-duplicate grouping and LSH banding.
    pub candidates: Duration,
    /// Exact verification and classification.
    pub verify: Duration,
    /// Expansion to group members and clustering.
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
    /// Distinct documents that went through banding.
    pub representatives: u64,
    /// Candidate pairs verified.
    pub candidate_pairs: u64,
    /// Candidates that verified as related.
    pub verified_pairs: u64,
    /// Related pairs not listed because their group was too large to expand
    /// (the clusters still hold every member).
    pub pairs_not_expanded: u64,
    /// Buckets paired through a hub.
    pub oversized: OversizedReport,
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

/// The features of one document.
#[derive(Clone, Debug)]
pub struct DocFeatures {
    /// Hash of the sequence of normalized tokens; `None` when there is none.
    pub content_hash: Option<u128>,
    /// Number of tokens.
    pub tokens: u32,
    /// Distinct word shingles.
    pub shingles: ShingleSet,
    /// MinHash signature of the shingles.
    pub signature: Signature,
}

/// Runs the pipeline with one configuration.
#[derive(Clone, Debug)]
pub struct Scanner {
    config: ScanConfig,
    normalizer: Normalizer,
    shingler: ShingleHasher,
    minhasher: MinHasher,
    lsh: LshParams,
}

impl Scanner {
    /// Checks the configuration and prepares the stages.
    pub fn new(config: ScanConfig) -> Result<Self> {
        let threshold = config.relate.near_threshold;
        if !(threshold > 0.0 && threshold <= 1.0) {
            return Err(Error::Config(format!(
                "the near-duplicate threshold must be in (0, 1], got {threshold}"
            )));
        }
        if config.bucket_cap < 2 {
            return Err(Error::Config("the bucket cap must be at least 2".into()));
        }
        let minhasher = MinHasher::new(config.num_hashes, config.seed)?;
        let lsh = match config.lsh {
            Some(p) => LshParams::new(p.bands, p.rows, config.num_hashes)?,
            None => LshParams::for_threshold(threshold, config.num_hashes)?,
        };
        Ok(Scanner {
            normalizer: Normalizer::new(config.normalize),
            shingler: ShingleHasher::new(config.shingle_size)?,
            minhasher,
            lsh,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ScanConfig {
        &self.config
    }

    /// The banding in use.
    pub fn lsh_params(&self) -> LshParams {
        self.lsh
    }

    /// Normalizes, shingles and sketches one text.
    pub fn featurize(&self, text: &str) -> DocFeatures {
        let mut tokens = Vec::new();
        self.normalizer.for_each_token(text, |_, t| tokens.push(hash_token(t)));
        let content_hash = (!tokens.is_empty()).then(|| {
            let bytes: Vec<u8> = tokens.iter().flat_map(|h| h.to_le_bytes()).collect();
            xxhash_rust::xxh3::xxh3_128(&bytes)
        });
        let shingles = self.shingler.shingle_set(&tokens);
        let signature = self.minhasher.sketch(&shingles);
        DocFeatures { content_hash, tokens: tokens.len() as u32, shingles, signature }
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
        let (docs, mut features) = self.featurize_all(documents.into_iter())?;
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
        // Members' sets equal their representative's: free them.
        for group in &groups.groups {
            for &m in &group[1..] {
                features[m as usize].shingles = ShingleSet::default();
            }
        }
        let signatures: Vec<&Signature> =
            groups.representatives.iter().map(|&d| &features[d as usize].signature).collect();
        let candidates = find_candidates(
            &signatures,
            &CandidateConfig {
                params: self.lsh,
                bucket_cap: self.config.bucket_cap,
                strategy: self.config.banding,
            },
        );
        stats.candidate_pairs = candidates.pairs.len() as u64;
        stats.oversized = candidates.oversized;
        stats.timings.candidates = started.elapsed();

        let started = Instant::now();
        let verified: Vec<Edge> = candidates
            .pairs
            .par_iter()
            .filter_map(|&(i, j)| {
                let (a, b) =
                    (groups.representatives[i as usize], groups.representatives[j as usize]);
                let scores = PairScores::between(
                    &features[a as usize].shingles,
                    &features[b as usize].shingles,
                );
                let relation = self.config.relate.classify(&scores)?;
                Some(Edge { a, b, relation, scores })
            })
            .collect();
        stats.verified_pairs = verified.len() as u64;
        stats.timings.verify = started.elapsed();

        let started = Instant::now();
        let mut edges = groups.expand(&verified, &features, &mut stats.pairs_not_expanded);
        edges.par_sort_unstable_by_key(|e| (e.a, e.b));
        let ids: Vec<String> = docs.iter().map(|d| d.id.clone()).collect();
        let clusters = build_clusters(&ids, edges.iter().map(|e| (e.a, e.b, e.relation)));
        stats.timings.cluster = started.elapsed();

        Ok(ScanOutcome { docs, edges, clusters, stats })
    }

    /// Pulls documents in batches and featurizes each batch in parallel.
    fn featurize_all(
        &self,
        mut documents: impl Iterator<Item = Document>,
    ) -> Result<(Vec<DocInfo>, Vec<DocFeatures>)> {
        let mut infos = Vec::new();
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
                batch.par_iter().map(|d| self.featurize(&d.text)).collect();
            for (doc, f) in batch.drain(..).zip(computed) {
                if !seen.insert(doc.id.clone()) {
                    return Err(Error::DuplicateId(doc.id));
                }
                infos.push(DocInfo {
                    bytes: doc.text.len() as u64,
                    tokens: f.tokens,
                    shingles: f.shingles.len() as u32,
                    id: doc.id,
                    date: doc.date,
                    url: doc.url,
                });
                features.push(f);
            }
        }
        Ok((infos, features))
    }
}

/// Documents with equal content hashes.
struct DuplicateGroups {
    /// Groups of two or more, each in input order; the first is the
    /// representative.
    groups: Vec<Vec<u32>>,
    /// One document per distinct non-empty content, in input order.
    representatives: Vec<u32>,
    /// For each document, the index of its group in `groups`, if any.
    group_of: Vec<Option<u32>>,
}

impl DuplicateGroups {
    fn find(features: &[DocFeatures]) -> Self {
        let mut keyed: Vec<(u128, u32)> = features
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.content_hash.map(|h| (h, i as u32)))
            .collect();
        keyed.par_sort_unstable();
        let mut groups = Vec::new();
        let mut representatives = Vec::new();
        let mut group_of = vec![None; features.len()];
        for run in keyed.chunk_by(|x, y| x.0 == y.0) {
            representatives.push(run[0].1);
            if run.len() > 1 {
                for &(_, d) in run {
                    group_of[d as usize] = Some(groups.len() as u32);
                }
                groups.push(run.iter().map(|&(_, d)| d).collect());
            }
        }
        representatives.sort_unstable();
        DuplicateGroups { groups, representatives, group_of }
    }

    /// The group of `doc`, if it has copies.
    fn group(&self, doc: u32) -> Option<&[u32]> {
        self.group_of[doc as usize].map(|g| self.groups[g as usize].as_slice())
    }

    /// Duplicate edges inside groups plus verified edges expanded to all
    /// member pairs; groups too large to expand keep a star around the
    /// representative.
    fn expand(
        &self,
        verified: &[Edge],
        features: &[DocFeatures],
        not_expanded: &mut u64,
    ) -> Vec<Edge> {
        let mut edges = Vec::new();
        for group in &self.groups {
            let n = group.len();
            let scores = {
                let len = features[group[0] as usize].shingles.len() as u32;
                PairScores { shared: len, len_a: len, len_b: len }
            };
            let dup = |a: u32, b: u32| Edge {
                a: a.min(b),
                b: a.max(b),
                relation: Relation::Duplicate,
                scores,
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
        for edge in verified {
            let left = self.group(edge.a).unwrap_or(std::slice::from_ref(&edge.a));
            let right = self.group(edge.b).unwrap_or(std::slice::from_ref(&edge.b));
            if left.len() * right.len() > MAX_EXPANDED_PAIRS {
                *not_expanded += (left.len() * right.len() - 1) as u64;
                edges.push(edge.clone());
                continue;
            }
            for &a in left {
                for &b in right {
                    let (a, b, scores) =
                        if a < b { (a, b, edge.scores) } else { (b, a, edge.scores.swapped()) };
                    edges.push(Edge { a, b, relation: edge.relation, scores });
                }
            }
        }
        edges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(seed: usize, words: usize) -> String {
        // Deterministic pseudo-text: distinct vocabularies per seed.
        (0..words)
            .map(|i| format!("w{}x{}", (i * 7919 + seed * 104_729) % 5003, seed % 3))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn scan(texts: &[(&str, String)]) -> ScanOutcome {
        let scanner = Scanner::new(ScanConfig::default()).unwrap();
        scanner.scan(texts.iter().map(|(id, t)| Document::new(*id, t.clone()))).unwrap()
    }

    #[test]
    fn finds_duplicates_near_duplicates_and_nothing_else() {
        let base = article(1, 300);
        let upper = base.to_uppercase().replace(' ', "\n  ");
        let edited = format!("{} extra closing words here", &base[..base.len() * 9 / 10]);
        let other = article(2, 300);
        let out = scan(&[("base", base), ("other", other), ("upper", upper), ("edited", edited)]);
        let pairs: Vec<(&str, &str, Relation)> =
            out.edges.iter().map(|e| (out.id(e.a), out.id(e.b), e.relation)).collect();
        assert_eq!(
            pairs,
            [
                ("base", "upper", Relation::Duplicate),
                ("base", "edited", Relation::NearDuplicate),
                ("upper", "edited", Relation::NearDuplicate),
            ]
        );
        assert_eq!(out.clusters.len(), 1);
        assert_eq!(out.clusters[0].members, [0, 2, 3]);
        assert_eq!(out.stats.duplicate_groups, 1);
        assert_eq!(out.stats.representatives, 3);
    }

    #[test]
    fn empty_documents_are_never_paired() {
        let out = scan(&[("a", String::new()), ("b", "  ...  ".into()), ("c", article(3, 50))]);
        assert!(out.edges.is_empty());
        assert_eq!(out.stats.empty_documents, 2);
    }

    #[test]
    fn repeated_ids_are_rejected() {
        let scanner = Scanner::new(ScanConfig::default()).unwrap();
        let docs = vec![Document::new("x", "a b c"), Document::new("x", "d e f")];
        assert!(matches!(scanner.scan(docs), Err(Error::DuplicateId(id)) if id == "x"));
    }

    #[test]
    fn large_duplicate_groups_keep_a_star() {
        let text = article(4, 40);
        let docs: Vec<(String, String)> =
            (0..100).map(|i| (format!("d{i:03}"), text.clone())).collect();
        let scanner = Scanner::new(ScanConfig::default()).unwrap();
        let out =
            scanner.scan(docs.iter().map(|(id, t)| Document::new(id.clone(), t.clone()))).unwrap();
        // 100·99/2 = 4950 > 4096: a star of 99 edges.
        assert_eq!(out.edges.len(), 99);
        assert!(out.edges.iter().all(|e| e.a == 0));
        assert_eq!(out.stats.pairs_not_expanded, 4950 - 99);
        assert_eq!(out.clusters[0].members.len(), 100);
    }

    #[test]
    fn invalid_configurations_are_refused() {
        for config in [
            ScanConfig { shingle_size: 0, ..ScanConfig::default() },
            ScanConfig { num_hashes: 0, ..ScanConfig::default() },
            ScanConfig { bucket_cap: 1, ..ScanConfig::default() },
            ScanConfig { relate: RelateConfig { near_threshold: 0.0 }, ..ScanConfig::default() },
            ScanConfig { lsh: Some(LshParams { bands: 100, rows: 2 }), ..ScanConfig::default() },
        ] {
            assert!(matches!(Scanner::new(config), Err(Error::Config(_))));
        }
    }
}
