//! Integration tests: they run the real `neardup` binary.
//!
//! One test binary holds every module (as in ripgrep), so the binary and its
//! helpers are built once.

// Helpers shared by every module: temp folders, running the binary, corpora.
mod util;

// Hostile, broken and extreme inputs and outputs (the README's matrix).
mod bad_input;
// The HTML report in headless Chromium (skipped without chromedriver).
mod browser;
// The distributed scan (feature `cluster`): same output as `scan`.
#[cfg(feature = "cluster")]
mod cluster;
// `neardup scan`: inputs, ids, output formats, exit codes, bad input. New CLI
// behaviour gets its test here.
mod cli;
// Crawl inputs: WARC/WET, compressed JSONL, HTML, stdin, bad records.
mod crawl;
// `neardup dedup`: kept records, removed records, keep rules.
mod dedup;
// The demo corpus: reproducible from its generator, and fully detected.
mod demo;
// Same output whatever the number of threads.
mod determinism;
// Quality on the labelled dev sets in ../shared/devset (skipped when absent).
mod devset;
// `neardup index`: batches against a persistent index.
mod index;
// `neardup eval`.
mod eval;
// `neardup report`, `scan --html`, `neardup explain`.
mod report;
// Spun and noisy copies: the spun view, its evidence, OCR noise.
mod spun;
// Articles inside bigger pages: contained pairs, spans, boilerplate,
// cluster hygiene, attribution.
mod syndication;
