//! What the fuzz targets share: reading a record stream and scanning what
//! it yields, with bounds that keep one run short.

use neardup::ingest::{ReadOptions, RecordFormat, records_from_bytes};
use neardup::{ScanConfig, Scanner};

/// Records read from one input, at most (a run stays short).
const MAX_RECORDS: usize = 64;

/// Reads `data` as a `format` stream (compressed or not), renders every
/// record error, and scans the documents read.
pub fn read_and_scan(data: &[u8], format: RecordFormat) {
    let options = ReadOptions { max_doc_bytes: 1 << 20, ..ReadOptions::default() };
    let Ok(records) = records_from_bytes(data.to_vec(), format, "fuzz-input", options) else {
        return;
    };
    let mut documents = Vec::new();
    for record in records.take(MAX_RECORDS) {
        match record {
            Ok(document) => documents.push(document),
            Err(error) => assert!(error.to_string().contains("fuzz-input")),
        }
    }
    if !documents.is_empty() {
        let scanner = Scanner::new(ScanConfig::default()).expect("the default configuration");
        // An error is fine (and reported to users); a panic is not.
        let _ = scanner.scan(documents);
    }
}
