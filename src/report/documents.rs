//! The documents a report shows, read again from the scan's inputs.
//!
//! Pairs files hold ids and scores, not texts, so a report reads the inputs
//! once more. Every document's shingles are counted, as in a scan, so that
//! boilerplate is found by the scan's own rule ([`crate::boilerplate`]) and
//! can be dimmed; only the texts of the documents the report shows are kept.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::html::ReportDocument;
use crate::Document;
use crate::boilerplate::{FrequentShingles, boilerplate_byte_ranges, boilerplate_shingles};
use crate::scan::Scanner;
use crate::shingle::ShingleSet;

/// Documents read per parallel batch.
const BATCH: usize = 1024;

/// Reads `documents`, keeping the texts of the `wanted` ids with their
/// boilerplate ranges.
pub fn report_documents(
    scanner: &Scanner,
    documents: impl Iterator<Item = Document>,
    wanted: &HashSet<&str>,
) -> HashMap<String, ReportDocument> {
    let mut distinct: HashMap<u128, ShingleSet> = HashMap::new();
    let mut kept: HashMap<String, String> = HashMap::new();
    let mut documents = documents.fuse();
    loop {
        let batch: Vec<Document> = documents.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            break;
        }
        let featured: Vec<(String, String, Option<u128>, ShingleSet)> = batch
            .into_par_iter()
            .map(|doc| {
                let text = doc.body.into_text(doc.url.as_deref());
                let features = scanner.featurize(&text);
                (doc.id, text, features.content_hash, features.shingles)
            })
            .collect();
        for (id, text, hash, shingles) in featured {
            if let Some(hash) = hash {
                distinct.entry(hash).or_insert(shingles);
            }
            if wanted.contains(id.as_str()) {
                kept.insert(id, text);
            }
        }
    }
    let config = &scanner.config().boilerplate;
    let sets: Vec<&ShingleSet> = distinct.values().collect();
    let frequent = FrequentShingles::count(&sets, config.min_df);
    let featurizer = scanner.featurizer();
    let k = scanner.config().shingle_size;
    kept.into_par_iter()
        .map(|(id, text)| {
            let sequence = featurizer.sequence(&text);
            let mut bp =
                boilerplate_shingles(&sequence.hashes, k, &frequent, config.max_run_tokens);
            bp.sort_unstable();
            let boilerplate = boilerplate_byte_ranges(&sequence, k, &bp);
            (id, ReportDocument { text: Some(text), boilerplate })
        })
        .collect()
}
