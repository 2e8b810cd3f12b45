//! WARC and WET records (plain, gzip or zstd), read and scanned: HTML
//! payloads go through charset decoding and extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::ingest::RecordFormat;

fuzz_target!(|data: &[u8]| neardup_fuzz::read_and_scan(data, RecordFormat::Warc));
