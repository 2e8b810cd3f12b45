//! Criterion benchmarks of the pipeline stages and of whole scans, on
//! corpora made by the project's generator (`examples/synth_corpus`: news-like
//! articles with exact copies, edited reprints, spun copies, aggregator pages
//! and teasers), so they run anywhere.
//!
//! `cargo bench --bench pipeline` measures; `cargo bench --bench pipeline --
//! --test` runs each once (CI does this so the benches cannot rot).
//! `NEARDUP_BENCH_DOCS=10000,100000` sets the sizes of the end-to-end scans
//! (default 10,000; `scripts/scale.py` times the binary at 10k, 100k and 1M).
//!
//! The `limit` group is the work no pipeline can skip: validate UTF-8,
//! normalize and tokenize, hash each token and each shingle once. Its
//! throughput is the ceiling end-to-end figures are compared with.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use neardup::candidates::{
    BandingStrategy, CandidateConfig, LshParams, band_keys, find_candidates,
};
use neardup::normalize::{Normalizer, Tokens, for_each_scanned_token};
use neardup::shingle::{ShingleHasher, hash_token};
use neardup::sketch::{DEFAULT_SEED, MinHasher, Signature};
use neardup::verify::PairScores;
use neardup::{Document, ScanConfig, Scanner};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

#[path = "../examples/synth_corpus/generate.rs"]
#[allow(dead_code)]
mod generate;

/// The texts of the first `n` documents of the generated corpus (seed 1,
/// as `synth-corpus` writes by default).
fn corpus(n: usize) -> Vec<String> {
    let generator = generate::Generator::new(1);
    (0..n as u64).into_par_iter().map(|i| generator.document(i).text).collect()
}

fn bytes(docs: &[String]) -> u64 {
    docs.iter().map(|d| d.len() as u64).sum()
}

/// The unavoidable work, one core: UTF-8 validation, normalization and
/// tokenization, one hash per token and one per shingle.
fn limit(c: &mut Criterion) {
    let docs = corpus(2_000);
    let raw: Vec<Vec<u8>> = docs.iter().map(|d| d.clone().into_bytes()).collect();
    let normalizer = Normalizer::default();
    let mut group = c.benchmark_group("limit");
    group.throughput(Throughput::Bytes(bytes(&docs)));
    group.bench_function("validate+normalize+tokenize+hash tokens and shingles", |b| {
        let shingler = ShingleHasher::new(5).unwrap();
        let (mut tokens, mut shingles) = (Vec::new(), Vec::new());
        b.iter(|| {
            let mut acc = 0u64;
            for d in &raw {
                let text = std::str::from_utf8(d).unwrap();
                tokens.clear();
                normalizer.for_each_token(text, |_, w| tokens.push(hash_token(w)));
                // The pipeline's own shingle hashing (in vector lanes where
                // the CPU has them): the limit is the fastest way we know.
                shingles.clear();
                shingler.shingles_into(&tokens, &mut shingles);
                acc ^= shingles.iter().fold(0, |a, &h| a ^ h);
            }
            black_box(acc)
        })
    });
    group.finish();
}

fn stages(c: &mut Criterion) {
    let docs = corpus(2_000);
    let total = bytes(&docs);
    let normalizer = Normalizer::default();
    let shingler = ShingleHasher::new(5).unwrap();
    let hasher = MinHasher::new(128, DEFAULT_SEED).unwrap();
    let tokens: Vec<Vec<u64>> = docs
        .iter()
        .map(|d| {
            let mut t = Vec::new();
            normalizer.for_each_token(d, |_, w| t.push(hash_token(w)));
            t
        })
        .collect();
    let sets: Vec<_> = tokens.iter().map(|t| shingler.shingle_set(t)).collect();
    let scanner = Scanner::new(ScanConfig::default()).unwrap();

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(total));
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &docs {
                for_each_scanned_token(d, |_| n += 1);
            }
            n
        })
    });
    group.bench_function("tokenize (one token at a time)", |b| {
        b.iter(|| docs.iter().map(|d| Tokens::new(d).count()).sum::<usize>())
    });
    group.bench_function("normalize+tokenize+hash", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for d in &docs {
                normalizer.for_each_token(d, |_, w| n ^= hash_token(w));
            }
            black_box(n)
        })
    });
    group.bench_function("shingle", |b| {
        b.iter(|| tokens.iter().map(|t| shingler.shingle_set(t).len()).sum::<usize>())
    });
    group.bench_function("sketch", |b| {
        b.iter(|| sets.iter().map(|s| hasher.sketch(s).as_slice()[0]).fold(0, u32::wrapping_add))
    });
    group.bench_function("featurize (all views, one core)", |b| {
        b.iter(|| docs.iter().map(|d| scanner.featurize(d).tokens).sum::<u32>())
    });
    group.bench_function("verify (1 pair per document)", |b| {
        b.iter(|| sets.windows(2).map(|w| PairScores::between(&w[0], &w[1]).shared).sum::<u32>())
    });
    group.finish();

    // One long text whose tokens all take the non-ASCII path: its cost must
    // grow with its length (filling the character view's text once cost
    // time in the square of it).
    let syllables = ["при", "вет", "мир", "дом", "ска", "зал", "но", "во", "сти", "ра"];
    let cyrillic: String = (0..150_000u64)
        .map(|i| {
            let h = xxh3_64(&i.to_le_bytes()) as usize;
            format!("{}{} ", syllables[h % 10], syllables[(h >> 8) % 10])
        })
        .collect();
    let mut group = c.benchmark_group("stages (non-ASCII)");
    group.throughput(Throughput::Bytes(cyrillic.len() as u64));
    group.bench_function("featurize (one 1.6 MB Cyrillic text, one core)", |b| {
        b.iter(|| scanner.featurize(&cyrillic).tokens)
    });
    group.finish();
}

/// Random signatures, as for a corpus of distinct documents, with 1 % of
/// them duplicated so buckets are not all singletons.
fn signatures(n: usize) -> Vec<Signature> {
    let hasher = MinHasher::new(128, DEFAULT_SEED).unwrap();
    (0..n)
        .map(|i| {
            let base = if i % 100 == 99 { i - 1 } else { i };
            let set = neardup::shingle::ShingleSet::from_hashes(
                (0..64u64).map(|k| xxh3_64(&((base as u64) << 8 | k).to_le_bytes())).collect(),
            );
            hasher.sketch(&set)
        })
        .collect()
}

fn banding(c: &mut Criterion) {
    let mut group = c.benchmark_group("banding");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in [20_000usize, 200_000] {
        let sigs = signatures(n);
        let refs: Vec<&Signature> = sigs.iter().collect();
        let params = LshParams::for_threshold(0.4, 128).unwrap();
        // Band keys are computed once in the scan's first pass; this measures
        // the grouping of (key, document) entries into candidate pairs.
        let keys = band_keys(&refs, &params);
        let keys: Vec<&[u32]> = keys.iter().map(Vec::as_slice).collect();
        group.throughput(Throughput::Elements(n as u64));
        for (name, strategy) in [
            ("dashmap", BandingStrategy::ConcurrentMap),
            ("sort-group", BandingStrategy::SortGroup),
        ] {
            let config = CandidateConfig { params, bucket_cap: 64, strategy };
            group.bench_with_input(BenchmarkId::new(name, n), &keys, |b, keys| {
                b.iter(|| find_candidates(keys, &config).pairs.len())
            });
        }
    }
    group.finish();
}

/// Sizes of the end-to-end scans.
fn scan_sizes() -> Vec<usize> {
    std::env::var("NEARDUP_BENCH_DOCS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000])
}

fn end_to_end(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan");
    group.sample_size(10);
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    for n in scan_sizes() {
        let docs = corpus(n);
        group.throughput(Throughput::Bytes(bytes(&docs)));
        group.bench_with_input(BenchmarkId::new("documents", n), &docs, |b, docs| {
            b.iter(|| {
                let input =
                    docs.iter().enumerate().map(|(i, t)| Document::new(i.to_string(), t.clone()));
                scanner.scan(input).unwrap().edges.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, limit, stages, banding, end_to_end);
criterion_main!(benches);
