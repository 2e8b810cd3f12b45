//! The documents a report shows, read again from the scan's inputs.
//!
//! Pairs files hold ids and scores, not texts, so a report reads the inputs
//! once more. Every document's shingles are counted, as in a scan, so that
//! boilerplate is found by the scan's own rule ([`crate::boilerplate`]) and
//! can be dimmed; only the texts of the documents the report shows are kept.
//! A report of an index ([`index_report`]) reads its pairs, clusters and
//! texts from the index instead, and its index-wide frequent shingles.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use rayon::prelude::*;

use super::html::ReportDocument;
use super::rows::{ClusterRow, PairRow, pairs_from_reader};
use crate::boilerplate::{FrequentShingles, boilerplate_byte_ranges, boilerplate_shingles};
use crate::index::Index;
use crate::index::state::cluster_name;
use crate::scan::Scanner;
use crate::shingle::ShingleSet;
use crate::{Document, Result};

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
    let sets: Vec<&ShingleSet> = distinct.values().collect();
    let frequent = FrequentShingles::count(&sets, scanner.config().boilerplate.min_df);
    kept.into_par_iter()
        .map(|(id, text)| {
            let boilerplate = boilerplate_of(scanner, &text, &frequent);
            (id, ReportDocument { text: Some(text), boilerplate })
        })
        .collect()
}

/// What a report of an index shows: its pairs and clusters (the first
/// `max_pairs` pairs), the documents they name with their boilerplate, and
/// the number of pairs in all.
#[derive(Clone, Debug, Default)]
pub struct IndexReport {
    /// Pairs, as `index pairs` writes them (scores, no evidence).
    pub pairs: Vec<PairRow>,
    /// Clusters; the earliest-indexed member is named the original.
    pub clusters: Vec<ClusterRow>,
    /// Documents by id.
    pub documents: HashMap<String, ReportDocument>,
    /// Pairs the index holds.
    pub total_pairs: usize,
    /// Live documents in the index.
    pub indexed_documents: u64,
}

/// Reads what a report of `index` shows. Texts come from the index itself,
/// and boilerplate is its index-wide frequent shingles, as `index add` uses.
pub fn index_report(index: &Index, max_pairs: usize) -> Result<IndexReport> {
    let mut jsonl = Vec::new();
    index.write_pairs_jsonl(&mut jsonl)?;
    let mut pairs = pairs_from_reader(&jsonl[..], &index.dir().join("<pairs>"))?;
    let total_pairs = pairs.len();
    pairs.truncate(max_pairs);
    let state = index.state()?;
    // Texts for the pairs shown (written in the state's order); ids only
    // for cluster members.
    let shown: Vec<u32> = state.pairs.iter().take(max_pairs).flat_map(|p| [p.a, p.b]).collect();
    let members: Vec<u32> = state.clusters.iter().flat_map(|c| c.members.clone()).collect();
    let ids = index.ids(&members)?;
    let clusters = state
        .clusters
        .iter()
        .filter_map(|c| {
            let members: Vec<String> =
                c.members.iter().filter_map(|m| ids.get(m).cloned()).collect();
            Some(ClusterRow {
                id: cluster_name(c.id),
                original: members.first()?.clone(),
                original_reason: Some("first_indexed".to_string()),
                members,
                carried_by: Vec::new(),
            })
        })
        .collect::<Vec<_>>();
    let scanner = Scanner::new(index.manifest().config.clone())?;
    let frequent = FrequentShingles::from_sorted(state.frequent.clone());
    let documents = index
        .documents(&shown)?
        .into_par_iter()
        .map(|(_, d)| {
            let boilerplate = boilerplate_of(&scanner, &d.text, &frequent);
            (d.id, ReportDocument { text: Some(d.text), boilerplate })
        })
        .collect();
    Ok(IndexReport {
        pairs,
        clusters,
        documents,
        total_pairs,
        indexed_documents: index.stats()?.documents,
    })
}

/// Byte ranges of the boilerplate of `text`, given the frequent shingles.
fn boilerplate_of(scanner: &Scanner, text: &str, frequent: &FrequentShingles) -> Vec<Range<usize>> {
    let config = &scanner.config().boilerplate;
    let k = scanner.config().shingle_size;
    let sequence = scanner.featurizer().sequence(text);
    let mut bp = boilerplate_shingles(&sequence.hashes, k, frequent, config.max_run_tokens);
    bp.sort_unstable();
    boilerplate_byte_ranges(&sequence, k, &bp)
}
