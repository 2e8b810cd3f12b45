//! Generates large news-like corpora with copies of every kind, for
//! benchmarks and memory measurements.
//!
//! ```sh
//! cargo run --release --example synth-corpus -- --docs 100000 --out /tmp/c.jsonl.gz
//! cargo run --release --example synth-corpus -- --docs 20000 --format warc --out /tmp/c.warc.gz
//! ```
//!
//! Text: words drawn by Zipf's law from a vocabulary of 60,000: the words of
//! the project's own demo articles (`corpora/demo/articles`), most frequent
//! first, then made-up words, in sentences of 8–24 words with names and numbers, 8–14 paragraphs and a
//! headline per article: about 4 KB, like a news story. Documents, by a hash
//! of their number:
//!
//! | share | document |
//! |---|---|
//! | 4% | an exact copy of an earlier article |
//! | 4% | an edited reprint: a paragraph dropped, a new closing line (`near_duplicate`) |
//! | 2% | a spun copy: 35% of content words replaced by fixed synonyms (`spun`) |
//! | 2% | an aggregator page: site chrome around two or three articles (`contained`) |
//! | 1% | a teaser: headline and first two paragraphs (`contained`) |
//! | 87% | a new article |
//!
//! Every choice comes from an xxh3 hash of `(seed, label)`, so a corpus is
//! the same on every machine. `.gz` and `.zst` names compress the output
//! (gzip in independent members, built in parallel); `--format warc` writes
//! each document as an HTML page in a WARC `response` record, one gzip
//! member per record, as crawlers do.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use rayon::prelude::*;

mod generate;

use generate::{Generator, warc_record};

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Jsonl,
    Warc,
}

#[derive(Clone, Copy, PartialEq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

fn compress(data: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => data.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(5));
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(data, 3).unwrap(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut docs, mut out, mut format, mut seed) = (10_000u64, None, Format::Jsonl, 1u64);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--docs" => docs = value().parse().expect("--docs N"),
            "--out" => out = Some(PathBuf::from(value())),
            "--seed" => seed = value().parse().expect("--seed N"),
            "--format" => {
                format = match value().as_str() {
                    "jsonl" => Format::Jsonl,
                    "warc" => Format::Warc,
                    other => panic!("unknown format {other}: jsonl or warc"),
                }
            }
            other => panic!("unknown argument {other}; see the doc comment of this example"),
        }
    }
    let out = out.expect("--out FILE");
    let name = out.to_string_lossy().to_ascii_lowercase();
    let compression = if name.ends_with(".gz") {
        Compression::Gzip
    } else if name.ends_with(".zst") {
        Compression::Zstd
    } else {
        Compression::None
    };
    let generator = Generator::new(seed);
    let mut writer =
        BufWriter::with_capacity(1 << 20, fs::File::create(&out).expect("output file"));
    // zstd frames and gzip members can be concatenated: chunks are built
    // and compressed in parallel, written in order.
    const CHUNK: u64 = 2_000;
    let chunks: Vec<u64> = (0..docs.div_ceil(CHUNK)).collect();
    let (mut bytes, mut written) = (0u64, 0u64);
    for group in chunks.chunks(rayon::current_num_threads() * 4) {
        let parts: Vec<(Vec<u8>, u64)> = group
            .par_iter()
            .map(|&c| {
                let mut raw = Vec::new();
                let mut members = Vec::new();
                for n in c * CHUNK..((c + 1) * CHUNK).min(docs) {
                    let doc = generator.document(n);
                    match format {
                        Format::Jsonl => {
                            let line = serde_json::json!({
                                "id": doc.id, "url": doc.url, "date": doc.date, "text": doc.text
                            });
                            raw.extend_from_slice(line.to_string().as_bytes());
                            raw.push(b'\n');
                        }
                        Format::Warc => {
                            let record = warc_record(&doc);
                            if compression == Compression::Gzip {
                                members.extend(compress(&record, Compression::Gzip));
                            } else {
                                raw.extend(record);
                            }
                        }
                    }
                }
                let len = raw.len() as u64;
                if format == Format::Warc && compression == Compression::Gzip {
                    (members, len)
                } else {
                    (compress(&raw, compression), len)
                }
            })
            .collect();
        for (part, len) in parts {
            writer.write_all(&part).unwrap();
            bytes += len;
            written += part.len() as u64;
        }
    }
    writer.flush().unwrap();
    eprintln!(
        "{docs} documents, {bytes} bytes of content, {written} bytes written to {}",
        out.display()
    );
}
