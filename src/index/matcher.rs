//! Matching a batch against the index: what `index add` and `index query`
//! compute before anything is written.
//!
//! ```text
//! batch ──sketch──▶ band keys, fingerprints, shingles, content hashes
//! segments ──pass A (document tables, shingle postings)──▶ registry (ids,
//!     contents, replaced) + stored holders of the batch's rare shingles
//! shingles whose document frequency reaches min_df with this batch
//!     ──▶ stored documents whose boilerplate changes (C), read and sketched
//! focus F = batch ∪ C, with the keys a scan keeps for them
//! segments ──pass B (band and passage postings)──▶ stored holders of F's
//!     keys ──▶ neighbours N: those sharing enough with a document of F to
//!     be its candidate ([`super::neighbours`])
//! segments ──pass D──▶ texts of N and their exact copies
//! scan of N ∪ F, with the index-wide frequent shingles
//!     ──▶ pairs touching F replace the stored ones
//! ```
//!
//! Each pass streams only the sections it joins against (checked section
//! by section), and texts are fetched one by one, so the cost of an add is
//! the batch's scan plus a sequential read of the postings, not a scan of
//! the collection.
//!
//! A pair can only involve a focus document if a scan makes it a candidate:
//! a band key of the word view shared, two of a spin view, or
//! `passage.min_shared` fingerprints, counted as the scan counts them
//! (crowded keys through their hub; boilerplate fingerprints dropped). So
//! the neighbourhood holds every stored document a full scan could pair
//! with the batch. Boilerplate depends on document frequencies over the
//! whole collection: the scan is told which shingles are frequent
//! index-wide ([`Scanner::with_known_frequent`]), and stored documents
//! holding a shingle that becomes frequent with this batch are scanned
//! again, with their neighbours, so that their pairs are what a full scan
//! would now find. Exact copies are scanned together, as a scan groups
//! them.
//!
//! Known differences from one scan of everything, all at crowded keys
//! (shared by more documents than the bucket or group cap): the scan of
//! the neighbourhood sees fewer holders of such a key, so it may pair them
//! all instead of through a hub (more candidates, each still verified); the
//! hub of a crowded fingerprint is chosen by token count, where a scan uses
//! the content size after boilerplate removal; and a stored holder counts
//! toward the cap even where the key is boilerplate for it.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use rayon::prelude::*;
use serde::Serialize;

use super::Index;
use super::format::{ENTRY_LEN, decode_entry};
use super::neighbours::{FocusKeys, KeyKind};
use super::segment::{DocRecord, Section, Segment, SegmentData, StoredLink};
use super::state::{
    ClusterChanges, IndexState, StoredPair, assign_cluster_ids, cluster_name, relation_code,
};
use crate::boilerplate::FrequentShingles;
use crate::ingest::Document;
use crate::progress::Progress;
use crate::report::Report;
use crate::scan::{DocSketch, ScanOutcome, Scanner};
use crate::spill::Resources;
use crate::spin::{CHAR_MIN_BANDS, SPIN_MIN_BANDS};
use crate::{Error, Result};

/// Counts of one batch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BatchCounts {
    /// Documents read.
    pub read: u64,
    /// Documents already indexed with the same content, skipped.
    pub unchanged: u64,
    /// Documents that replace an indexed one with the same id.
    pub replaced: u64,
    /// Documents added.
    pub added: u64,
    /// Stored documents whose boilerplate changed with this batch.
    pub rechecked: u64,
    /// Stored documents scanned with the batch.
    pub neighbours: u64,
    /// Pairs not known before.
    pub new_pairs: u64,
    /// Stored pairs no longer found.
    pub withdrawn_pairs: u64,
}

/// A batch matched against the index, ready to be committed or reported.
pub struct BatchMatch {
    /// The scan of the batch with its neighbourhood.
    pub scan: ScanOutcome,
    /// Global document number of each scanned document.
    pub global: Vec<u32>,
    /// Indices in `scan.edges` of the pairs not known before.
    pub new_edges: Vec<usize>,
    /// Stored pairs no longer found (their documents were replaced, or
    /// their boilerplate changed).
    pub withdrawn: Vec<StoredPair>,
    /// The state after this batch.
    pub state: IndexState,
    /// How the clusters changed.
    pub changes: ClusterChanges,
    /// The batch as a segment.
    pub segment: SegmentData,
    /// Counts.
    pub counts: BatchCounts,
}

/// What the first pass over the segments finds. Flat tables, not maps of
/// every stored document: an index of millions is read on every add.
struct Registry {
    /// The latest stored version of each id of the batch: (doc, content).
    batch_ids: HashMap<String, Option<(u32, Option<u128>)>>,
    /// `(content, doc)` of every stored document with tokens, sorted by
    /// [`Registry::seal`].
    contents: Vec<(u128, u32)>,
    /// The content of every stored document, by number.
    content_of: Vec<Option<u128>>,
    /// Replaced documents.
    dead: HashSet<u32>,
    /// Tokens of every stored document, by number.
    tokens: Vec<u32>,
}

impl Registry {
    fn new<'a>(batch_ids: impl Iterator<Item = &'a str>) -> Self {
        Registry {
            batch_ids: batch_ids.map(|id| (id.to_owned(), None)).collect(),
            contents: Vec::new(),
            content_of: Vec::new(),
            dead: HashSet::new(),
            tokens: Vec::new(),
        }
    }

    /// Adds the next segment's documents (segments in order).
    fn add_segment(&mut self, first_doc: u32, docs: &[DocRecord], replaced: &[u32]) {
        self.dead.extend(replaced.iter().copied());
        for (i, rec) in docs.iter().enumerate() {
            let doc = first_doc + i as u32;
            self.tokens.push(rec.tokens);
            self.content_of.push(rec.content_hash);
            if let Some(h) = rec.content_hash {
                self.contents.push((h, doc));
            }
            if let Some(latest) = self.batch_ids.get_mut(&rec.id) {
                *latest = Some((doc, rec.content_hash));
            }
        }
    }

    /// Sorts the content table once every segment is added.
    fn seal(&mut self) {
        self.contents.par_sort_unstable();
    }

    fn live(&self, doc: u32) -> bool {
        !self.dead.contains(&doc)
    }

    /// The live stored documents with content `h`.
    fn copies(&self, h: u128) -> impl Iterator<Item = u32> + '_ {
        let start = self.contents.partition_point(|e| e.0 < h);
        self.contents[start..]
            .iter()
            .take_while(move |e| e.0 == h)
            .map(|e| e.1)
            .filter(|&d| self.live(d))
    }

    /// `docs` and every live document with the same content as one of them.
    fn with_copies(&self, docs: &HashSet<u32>) -> Vec<u32> {
        let mut out: HashSet<u32> = docs.clone();
        for &d in docs {
            if let Some(Some(h)) = self.content_of.get(d as usize) {
                out.extend(self.copies(*h));
            }
        }
        let mut out: Vec<u32> = out.into_iter().collect();
        out.sort_unstable();
        out
    }
}

/// Pieces of a posting section joined in parallel at a time (about
/// 24 MiB): the section is read and checked in order, the joins run on
/// every core.
const JOIN_PIECES: usize = 8;

/// The postings of `section` of `seg` whose key is in `keys` (sorted,
/// distinct), in key order, streaming the section.
fn join(seg: &Segment, section: Section, keys: &[u64]) -> Result<Vec<(u64, u32)>> {
    let mut out = Vec::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let mut pieces: Vec<Vec<u8>> = Vec::with_capacity(JOIN_PIECES);
    let flush = |pieces: &mut Vec<Vec<u8>>, out: &mut Vec<(u64, u32)>| {
        let found: Vec<Vec<(u64, u32)>> =
            pieces.par_iter().map(|piece| join_piece(piece, keys)).collect();
        out.extend(found.into_iter().flatten());
        pieces.clear();
    };
    seg.for_each_posting_chunk(section, |chunk| {
        pieces.push(chunk.to_vec());
        if pieces.len() == JOIN_PIECES {
            flush(&mut pieces, &mut out);
        }
        Ok(())
    })?;
    flush(&mut pieces, &mut out);
    Ok(out)
}

/// The postings of one piece of a section (whole 12-byte records) whose
/// key is in `keys`.
fn join_piece(piece: &[u8], keys: &[u64]) -> Vec<(u64, u32)> {
    let mut out = Vec::new();
    let Some(first) = piece.get(..ENTRY_LEN).map(decode_entry) else { return out };
    let mut j = keys.partition_point(|&k| k < first.0);
    for c in piece.chunks_exact(ENTRY_LEN) {
        let (k, d) = decode_entry(c);
        while j < keys.len() && keys[j] < k {
            j += 1;
        }
        if j == keys.len() {
            break;
        }
        if keys[j] == k {
            out.push((k, d));
        }
    }
    out
}

fn sorted_distinct(mut v: Vec<u64>) -> Vec<u64> {
    v.par_sort_unstable();
    v.dedup();
    v
}

/// `f` applied to every segment of `index` (in parallel), results in
/// segment order.
fn map_segments<T: Send>(
    index: &Index,
    f: impl Fn(&Segment) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    index.segments().par_iter().map(|seg| f(seg)).collect()
}

/// What pass A finds in one segment.
struct SegmentHits {
    first_doc: u32,
    docs: Vec<DocRecord>,
    replaced: Vec<u32>,
    /// `(shingle, holder)` of the batch's rare shingles.
    holders: Vec<(u64, u32)>,
}

/// The texts of stored documents `wanted` (sorted), as documents.
/// `doc_tables` are the segments' document tables, read by pass A.
fn stored_documents(
    index: &Index,
    doc_tables: &[Vec<DocRecord>],
    wanted: &[u32],
) -> Result<Vec<(u32, Document)>> {
    let found: Vec<Vec<(u32, Document)>> = index
        .segments()
        .par_iter()
        .zip(doc_tables)
        .map(|(seg, docs)| -> Result<_> {
            let meta = seg.meta();
            let (start, end) = (meta.first_doc, meta.first_doc + meta.docs);
            let from = wanted.partition_point(|&d| d < start);
            let mine: Vec<u32> = wanted[from..].iter().copied().take_while(|&d| d < end).collect();
            if mine.is_empty() {
                return Ok(Vec::new());
            }
            let locals: Vec<u32> = mine.iter().map(|&d| d - start).collect();
            let texts = seg.texts(&locals)?;
            Ok(mine
                .iter()
                .zip(texts)
                .map(|(&d, text)| (d, stored_document(&docs[(d - start) as usize], &text)))
                .collect())
        })
        .collect::<Result<_>>()?;
    Ok(found.into_iter().flatten().collect())
}

/// Matches `documents` against `index`; nothing is written.
pub fn match_batch(
    index: &Index,
    documents: impl Iterator<Item = Document>,
    resources: &Resources,
    progress: &dyn Progress,
) -> Result<BatchMatch> {
    let config = index.manifest().config.clone();
    let scanner = Scanner::new(config.clone())?;
    let state = index.state()?;
    let min_df = config.boilerplate.min_df.max(2);
    let next_doc = index.manifest().next_doc;

    let documents: Vec<Document> = documents.collect();
    let read = documents.len() as u64;
    // Each sketch with its band keys as grouping keys (computed once).
    let sketches: Vec<(DocSketch, Vec<u64>)> = documents
        .into_par_iter()
        .map(|d| {
            let s = scanner.sketch(d);
            let bands = s.band_entries();
            (s, bands)
        })
        .collect();
    let known = FrequentShingles::from_sorted(state.frequent.clone());
    let rare: Vec<u64> = sorted_distinct(
        sketches
            .iter()
            .flat_map(|(s, _)| s.shingles.as_slice().iter().copied())
            .filter(|&h| !known.contains(h))
            .collect(),
    );

    // Pass A: the registry and the stored holders of the batch's rare
    // shingles.
    let hits = map_segments(index, |seg| {
        let mut hits = SegmentHits {
            first_doc: seg.meta().first_doc,
            docs: seg.docs()?,
            replaced: seg.replaced()?,
            holders: Vec::new(),
        };
        hits.holders = join(seg, Section::Postings, &rare)?;
        Ok(hits)
    })?;
    let mut registry = Registry::new(sketches.iter().map(|(s, _)| s.id.as_str()));
    let mut holders: Vec<(u64, u32)> = Vec::new();
    // Kept for the texts read later: decoding them again costs a pass.
    let mut doc_tables: Vec<Vec<DocRecord>> = Vec::with_capacity(hits.len());
    for hit in hits {
        registry.add_segment(hit.first_doc, &hit.docs, &hit.replaced);
        holders.extend(hit.holders);
        doc_tables.push(hit.docs);
    }
    registry.seal();

    // Which batch documents are new, changed or already indexed.
    let mut counts = BatchCounts { read, ..BatchCounts::default() };
    let mut added: Vec<(DocSketch, Vec<u64>)> = Vec::new();
    let mut replaced: Vec<u32> = Vec::new();
    for (s, bands) in sketches {
        match registry.batch_ids.get(&s.id).copied().flatten() {
            Some((old, hash)) if registry.live(old) => {
                if hash == s.content_hash {
                    counts.unchanged += 1;
                    continue;
                }
                replaced.push(old);
                counts.replaced += 1;
            }
            _ => {}
        }
        added.push((s, bands));
    }
    for &d in &replaced {
        registry.dead.insert(d);
    }
    counts.added = added.len() as u64;
    let first = next_doc;

    // The batch's holders: its first document of each content new to the
    // index. Document frequencies count distinct contents.
    let mut postings: Vec<(u64, u32)> = Vec::new();
    let mut seen_content = HashSet::new();
    for (i, (s, _)) in added.iter().enumerate() {
        let Some(h) = s.content_hash else { continue };
        let stored = registry.copies(h).next().is_some();
        if !stored && seen_content.insert(h) {
            let doc = first + i as u32;
            postings.extend(s.shingles.as_slice().iter().map(|&sh| (sh, doc)));
        }
    }
    postings.par_sort_unstable();

    // Shingles that become frequent with this batch, and the stored
    // documents whose boilerplate that changes.
    holders.retain(|&(_, d)| registry.live(d));
    holders.sort_unstable();
    let mut frequent = state.frequent.clone();
    let mut rechecked: HashSet<u32> = HashSet::new();
    let mut p = 0;
    for run in postings.chunk_by(|a, b| a.0 == b.0) {
        let h = run[0].0;
        if known.contains(h) {
            continue;
        }
        while p < holders.len() && holders[p].0 < h {
            p += 1;
        }
        let stored = holders[p..].iter().take_while(|e| e.0 == h).count();
        if stored + run.len() >= min_df as usize {
            frequent.push(h);
            rechecked.extend(holders[p..p + stored].iter().map(|e| e.1));
        }
    }
    frequent.par_sort_unstable();
    let rechecked = registry.with_copies(&rechecked);
    counts.rechecked = rechecked.len() as u64;

    // The focus documents (added and rechecked) with the keys a scan would
    // group them by: boilerplate fingerprints are dropped, as a scan with
    // this batch's frequent shingles drops them.
    let all_frequent = FrequentShingles::from_sorted(frequent.clone());
    let rechecked_sketches: Vec<DocSketch> = stored_documents(index, &doc_tables, &rechecked)?
        .into_par_iter()
        .map(|(_, d)| scanner.sketch(d))
        .collect();
    let kept_fingerprints = |s: &DocSketch| -> Vec<u64> {
        // Without a frequent shingle there is no boilerplate.
        if !s.shingles.as_slice().iter().any(|&h| all_frequent.contains(h)) {
            return s.fingerprints.clone();
        }
        let dropped = scanner.boilerplate_fingerprints(&s.text, &all_frequent);
        s.fingerprints.iter().copied().filter(|f| dropped.binary_search(f).is_err()).collect()
    };
    let keyed: Vec<(u32, bool, Vec<u64>, Vec<u64>)> = added
        .par_iter()
        .enumerate()
        .map(|(i, (s, bands))| (first + i as u32, false, bands.clone(), kept_fingerprints(s)))
        .chain(
            rechecked_sketches
                .par_iter()
                .zip(&rechecked)
                .map(|(s, &d)| (d, true, s.band_entries(), kept_fingerprints(s))),
        )
        .collect();
    let mut focus = FocusKeys::new();
    for (doc, stored, bands, passages) in &keyed {
        focus.add(*doc, *stored, bands, passages);
    }
    drop(keyed);

    // Pass B: the live stored holders of those keys, and among them the
    // neighbours a scan could pair with a focus document.
    let (band_keys, passage_keys) = (focus.keys(KeyKind::Band), focus.keys(KeyKind::Passage));
    let near = map_segments(index, |seg| {
        let mut near = Vec::new();
        let bands = join(seg, Section::Bands, &band_keys)?;
        near.extend(bands.into_iter().map(|(k, d)| (KeyKind::Band, k, d)));
        let passages = join(seg, Section::Passages, &passage_keys)?;
        near.extend(passages.into_iter().map(|(k, d)| (KeyKind::Passage, k, d)));
        Ok(near)
    })?;
    let mut near: Vec<(KeyKind, u64, u32)> = near.into_iter().flatten().collect();
    near.retain(|e| registry.live(e.2));
    let added_tokens: Vec<u32> = added.iter().map(|(s, _)| s.tokens).collect();
    let tokens = |d: u32| match d.checked_sub(first) {
        Some(i) => added_tokens[i as usize],
        None => registry.tokens.get(d as usize).copied().unwrap_or(0),
    };
    let min_shared = [1, SPIN_MIN_BANDS, CHAR_MIN_BANDS, config.passage.min_shared];
    let mut around =
        focus.neighbours(near, config.bucket_cap, config.passage.group_cap, min_shared, tokens);
    around.extend(rechecked.iter().copied());
    around.retain(|&d| registry.live(d));
    let stored_scan = registry.with_copies(&around);
    counts.neighbours = stored_scan.len() as u64;

    // The batch as a segment (the pairs are filled in below).
    let mut segment = SegmentData {
        first_doc: first,
        docs: Vec::with_capacity(added.len()),
        texts: Vec::with_capacity(added.len()),
        postings,
        replaced,
        ..SegmentData::default()
    };
    let mut added_sketches = Vec::with_capacity(added.len());
    for (i, (s, bands)) in added.into_iter().enumerate() {
        let doc = first + i as u32;
        segment.docs.push(DocRecord {
            id: s.id.clone(),
            content_hash: s.content_hash,
            url: s.url.clone(),
            date: s.date.clone(),
            tokens: s.tokens,
        });
        segment.bands.extend(bands.into_iter().map(|k| (k, doc)));
        segment.passages.extend(s.fingerprints.iter().map(|&f| (f, doc)));
        segment.texts.push(s.text.clone());
        added_sketches.push(s);
    }
    segment.bands.par_sort_unstable();
    segment.bands.dedup();
    segment.passages.par_sort_unstable();
    segment.passages.dedup();

    // Pass D: the texts of the other stored documents to scan. Everything
    // is scanned in document order, from sketches (the batch's and the
    // rechecked documents' are made already).
    let others: Vec<u32> =
        stored_scan.iter().copied().filter(|d| rechecked.binary_search(d).is_err()).collect();
    let mut stored_sketches: Vec<(u32, DocSketch)> = stored_documents(index, &doc_tables, &others)?
        .into_par_iter()
        .map(|(d, doc)| (d, scanner.sketch(doc)))
        .collect();
    stored_sketches.extend(rechecked.iter().copied().zip(rechecked_sketches));
    stored_sketches.sort_unstable_by_key(|e| e.0);
    let mut global: Vec<u32> = stored_sketches.iter().map(|e| e.0).collect();
    global.extend((0..added_sketches.len() as u32).map(|i| first + i));
    let scan_input: Vec<DocSketch> =
        stored_sketches.into_iter().map(|e| e.1).chain(added_sketches).collect();
    let scan = scanner
        .with_known_frequent(FrequentShingles::from_sorted(frequent.clone()))
        .scan_sketches_with(scan_input, resources, progress)?;

    // Pairs touching the batch or a rechecked document replace the stored
    // ones that touch them.
    let focus = |d: u32| d >= first || rechecked.binary_search(&d).is_ok();
    let dead = |d: u32| registry.dead.contains(&d);
    let old: HashSet<(u32, u32, u8)> = state.pairs.iter().map(StoredPair::key).collect();
    let mut pairs: Vec<StoredPair> = Vec::new();
    let mut withdrawn: Vec<StoredPair> = Vec::new();
    for p in &state.pairs {
        if focus(p.a) || focus(p.b) || dead(p.a) || dead(p.b) {
            withdrawn.push(*p);
        } else {
            pairs.push(*p);
        }
    }
    let mut new_edges = Vec::new();
    let mut found: HashSet<(u32, u32, u8)> = HashSet::new();
    for (i, e) in scan.edges.iter().enumerate() {
        let (a, b) = (global[e.a as usize], global[e.b as usize]);
        if !(focus(a) || focus(b)) {
            continue;
        }
        let stored = StoredPair {
            a,
            b,
            relation: relation_code(e.relation),
            shared: e.scores.shared,
            len_a: e.scores.len_a,
            len_b: e.scores.len_b,
        };
        found.insert(stored.key());
        if !old.contains(&stored.key()) {
            new_edges.push(i);
        }
        pairs.push(stored);
    }
    withdrawn.retain(|p| !found.contains(&p.key()));
    pairs.sort_unstable_by_key(StoredPair::key);
    counts.new_pairs = new_edges.len() as u64;
    counts.withdrawn_pairs = withdrawn.len() as u64;

    let (clusters, next_cluster, changes) = assign_cluster_ids(&state, &pairs);
    let new_state = IndexState { pairs, clusters, next_cluster, frequent };

    segment.links = new_edges
        .iter()
        .map(|&i| {
            let e = &scan.edges[i];
            StoredLink {
                a: global[e.a as usize],
                b: global[e.b as usize],
                relation: relation_code(e.relation),
            }
        })
        .collect();
    let mut matched = BatchMatch {
        scan,
        global,
        new_edges,
        withdrawn,
        state: new_state,
        changes,
        segment,
        counts,
    };
    let mut report = Vec::new();
    matched.write_new_pairs_jsonl(&mut report).map_err(|e| Error::io("<index report>", e))?;
    matched.segment.report = report;
    Ok(matched)
}

/// A stored document as the scan reads it.
fn stored_document(rec: &DocRecord, text: &str) -> Document {
    let mut doc = Document::new(&rec.id, text);
    doc.date.clone_from(&rec.date);
    doc.url.clone_from(&rec.url);
    doc
}

impl BatchMatch {
    /// Writes the new pairs as JSONL, in the records of `scan --pairs`, with
    /// the index's cluster ids.
    pub fn write_new_pairs_jsonl(&self, mut w: impl Write) -> std::io::Result<()> {
        let report = Report::new(&self.scan);
        let cluster_of = self.state.cluster_of();
        for &i in &self.new_edges {
            let edge = &self.scan.edges[i];
            let evidence = self.scan.evidence(i).map_err(std::io::Error::other)?;
            let mut record = report.pair(edge, &evidence);
            let name = edge
                .relation
                .is_equivalence()
                .then(|| cluster_of.get(&self.global[edge.a as usize]))
                .flatten()
                .map(|&c| cluster_name(c));
            record.cluster = name.as_deref();
            serde_json::to_writer(&mut w, &record)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }
}
