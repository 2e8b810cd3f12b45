//! Criterion benchmarks of the pipeline stages, on text generated from the
//! demo corpus (`corpora/demo/articles`), so they run anywhere.
//!
//! `cargo bench --bench pipeline` measures; `cargo bench --bench pipeline --
//! --test` runs each once (CI does this so the benches cannot rot).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use neardup::candidates::{
    BandingStrategy, CandidateConfig, LshParams, band_keys, find_candidates,
};
use neardup::normalize::Normalizer;
use neardup::shingle::{ShingleHasher, hash_token};
use neardup::sketch::{DEFAULT_SEED, MinHasher, Signature};
use neardup::verify::PairScores;
use neardup::{Document, ScanConfig, Scanner};
use xxhash_rust::xxh3::xxh3_64;

/// Documents of 15–30 sentences drawn from the demo articles (about 1,000
/// sentences), so unrelated documents share little; every 10th document is
/// an edited copy of an earlier one.
fn corpus(n: usize) -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/demo/articles");
    let mut sentences = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for name in names {
        let text = std::fs::read_to_string(name).unwrap();
        sentences.extend(text.split(". ").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
    }
    let pick = |label: String, n: usize| (xxh3_64(label.as_bytes()) % n as u64) as usize;
    let mut docs: Vec<String> = Vec::with_capacity(n);
    for i in 0..n {
        if i % 10 == 9 {
            let source = docs[pick(format!("src{i}"), docs.len())].clone();
            docs.push(source.replacen("the", "a", 3));
            continue;
        }
        let count = 15 + pick(format!("len{i}"), 16);
        let doc: Vec<&str> = (0..count)
            .map(|k| sentences[pick(format!("s{i}/{k}"), sentences.len())].as_str())
            .collect();
        docs.push(doc.join(". "));
    }
    docs
}

fn bytes(docs: &[String]) -> u64 {
    docs.iter().map(|d| d.len() as u64).sum()
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

    let mut group = c.benchmark_group("stages");
    group.throughput(Throughput::Bytes(total));
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
    group.bench_function("verify (1 pair per document)", |b| {
        b.iter(|| sets.windows(2).map(|w| PairScores::between(&w[0], &w[1]).shared).sum::<u32>())
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

fn end_to_end(c: &mut Criterion) {
    let docs = corpus(5_000);
    let mut group = c.benchmark_group("scan");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(bytes(&docs)));
    let scanner = Scanner::new(ScanConfig::default()).unwrap();
    group.bench_function("5k documents", |b| {
        b.iter(|| {
            let input =
                docs.iter().enumerate().map(|(i, t)| Document::new(i.to_string(), t.clone()));
            scanner.scan(input).unwrap().edges.len()
        })
    });
    group.finish();
}

criterion_group!(benches, stages, banding, end_to_end);
criterion_main!(benches);
