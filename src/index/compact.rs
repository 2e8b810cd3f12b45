//! Compaction: the committed segments merged into one.
//!
//! Every `index add` commits a segment, and every later add opens each
//! segment and joins the batch against each one's postings, so many small
//! segments cost time. Compaction merges them into one and drops what
//! replaced documents left behind: their texts, band keys and passage
//! fingerprints. A replaced document's shingle postings pass to a live copy
//! of the same content, when there is one, so document frequencies keep
//! counting the live contents. Document numbers do not change, so the state
//! (pairs, cluster ids, frequent shingles) stays valid as it is.
//!
//! The merge streams: postings are merged from one small cursor per
//! segment, and texts are copied as stored frames, never recompressed, so
//! memory stays at the document table plus small buffers whatever the size
//! of the index. The merged segment is written under a temporary name,
//! flushed and renamed, then the manifest is replaced: a compaction killed
//! at any moment leaves either the old segments or the merged one, and the
//! next writer removes the other.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use super::Index;
use super::format::FileKind;
use super::lock::WriterLock;
use super::manifest::SegmentEntry;
use super::sections::SectionWriter;
use super::segment::{self, DocRecord, SECTIONS, Section, Segment, SegmentMeta};
use crate::{Error, Result};

/// Postings written at a time.
const WRITE_BATCH: usize = 1 << 16;

/// What a compaction did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompactStats {
    /// Segments before.
    pub segments_before: usize,
    /// Bytes of the segments before.
    pub bytes_before: u64,
    /// Bytes of the merged segment.
    pub bytes_after: u64,
    /// Replaced documents (their texts and postings are not kept).
    pub replaced: u64,
}

/// Merges the postings of `section` of every segment (each sorted) into
/// one sorted section, passing each document through `map` (`None` drops
/// the posting).
fn merge_postings(
    w: &mut SectionWriter,
    segments: &[Arc<Segment>],
    section: Section,
    map: impl Fn(u32) -> Option<u32>,
) -> Result<()> {
    let mut cursors = segments.iter().map(|s| s.cursor(section)).collect::<Result<Vec<_>>>()?;
    let mut heap = BinaryHeap::with_capacity(cursors.len());
    for (i, c) in cursors.iter_mut().enumerate() {
        if let Some((k, d)) = c.next_entry()? {
            heap.push(Reverse((k, d, i)));
        }
    }
    // Postings of one key: a mapped document can change their order.
    let mut run: Vec<(u64, u32)> = Vec::new();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(WRITE_BATCH);
    let flush = |run: &mut Vec<(u64, u32)>, out: &mut Vec<(u64, u32)>| {
        run.sort_unstable();
        run.dedup();
        out.append(run);
    };
    while let Some(Reverse((k, d, i))) = heap.pop() {
        if let Some((k, d)) = cursors[i].next_entry()? {
            heap.push(Reverse((k, d, i)));
        }
        if run.first().is_some_and(|r| r.0 != k) {
            flush(&mut run, &mut out);
            if out.len() >= WRITE_BATCH {
                w.write_entries(&out)?;
                out.clear();
            }
        }
        if let Some(d) = map(d) {
            run.push((k, d));
        }
    }
    flush(&mut run, &mut out);
    w.write_entries(&out)?;
    w.end_section();
    Ok(())
}

impl Index {
    /// Merges all segments into one (the caller holds the writer lock).
    /// Returns `None` when there is nothing to merge (one segment or none:
    /// a single segment holds no leftovers of replaced documents, since a
    /// batch only replaces documents of earlier segments).
    pub fn compact(&mut self, lock: &WriterLock) -> Result<Option<CompactStats>> {
        let segments = self.segments.clone();
        let mut docs: Vec<DocRecord> = Vec::with_capacity(self.manifest.next_doc as usize);
        let mut dead: HashSet<u32> = HashSet::new();
        let mut links = Vec::new();
        for seg in &segments {
            if seg.meta().first_doc as usize != docs.len() {
                return Err(Error::Index(format!(
                    "{}: the first document number differs from the manifest",
                    seg.path().display()
                )));
            }
            docs.extend(seg.docs()?);
            dead.extend(seg.replaced()?);
            links.extend(seg.links()?);
        }
        if segments.len() <= 1 {
            return Ok(None);
        }
        let fingerprint = self.manifest.fingerprint();
        let generation = self.manifest.generation + 1;
        let file = format!("seg-{generation:06}.nds");
        let path = self.dir.join(&file);
        let mut w = SectionWriter::create(&path, FileKind::Segment, fingerprint, SECTIONS)?;
        let enc = |what: &str, e: postcard::Error| {
            Error::Index(format!("cannot encode the merged segment's {what}: {e}"))
        };
        let meta = SegmentMeta { first_doc: 0, docs: docs.len() as u32, generation };
        w.section(&postcard::to_stdvec(&meta).map_err(|e| enc("header", e))?)?;
        w.section(&postcard::to_stdvec(&docs).map_err(|e| enc("documents", e))?)?;

        // Texts: stored frames copied as they are; replaced ones emptied.
        let empty = segment::compress_text("")?;
        let empty_hash = xxhash_rust::xxh3::xxh3_64(&empty);
        let tables = segments.iter().map(|s| s.text_table()).collect::<Result<Vec<_>>>()?;
        let mut table = Vec::with_capacity(16 * docs.len());
        let mut end = 0u64;
        for (seg, t) in segments.iter().zip(&tables) {
            for (i, &(stop, hash)) in t.iter().enumerate() {
                let doc = seg.meta().first_doc + i as u32;
                let start = if i == 0 { 0 } else { t[i - 1].0 };
                let (len, hash) = if dead.contains(&doc) {
                    (empty.len() as u64, empty_hash)
                } else {
                    (stop - start, hash)
                };
                end += len;
                table.extend_from_slice(&end.to_le_bytes());
                table.extend_from_slice(&hash.to_le_bytes());
            }
        }
        w.section(&table)?;
        for (seg, t) in segments.iter().zip(&tables) {
            for i in 0..t.len() {
                if dead.contains(&(seg.meta().first_doc + i as u32)) {
                    w.write(&empty)?;
                } else {
                    w.write(&seg.text_frame(t, i)?)?;
                }
            }
        }
        w.end_section();

        let live = |d: u32| (!dead.contains(&d)).then_some(d);
        merge_postings(&mut w, &segments, Section::Bands, live)?;
        merge_postings(&mut w, &segments, Section::Passages, live)?;
        // A replaced holder's shingles pass to the first live document with
        // its content.
        let mut first_live: HashMap<u128, u32> = HashMap::new();
        if !dead.is_empty() {
            for (d, rec) in docs.iter().enumerate() {
                if let Some(h) = rec.content_hash
                    && !dead.contains(&(d as u32))
                {
                    first_live.entry(h).or_insert(d as u32);
                }
            }
        }
        merge_postings(&mut w, &segments, Section::Postings, |d| {
            live(d)
                .or_else(|| docs[d as usize].content_hash.and_then(|h| first_live.get(&h).copied()))
        })?;

        w.section(&postcard::to_stdvec(&links).map_err(|e| enc("pairs", e))?)?;
        for seg in &segments {
            // zstd frames concatenate into one stream.
            w.write(&seg.report_frames()?)?;
        }
        w.end_section();
        let mut replaced: Vec<u32> = dead.iter().copied().collect();
        replaced.sort_unstable();
        w.section(&segment::encode_u32s(&replaced))?;
        let bytes = w.finish()?;

        let merged = Segment::open(&path, fingerprint)?;
        let mut manifest = self.manifest.clone();
        manifest.generation = generation;
        let stats = CompactStats {
            segments_before: segments.len(),
            bytes_before: manifest.segments.iter().map(|s| s.bytes).sum(),
            bytes_after: bytes,
            replaced: dead.len() as u64,
        };
        manifest.segments =
            vec![SegmentEntry { file, first_doc: 0, docs: meta.docs, bytes, generation }];
        manifest.commit(&self.dir)?;
        self.manifest = manifest;
        self.segments = vec![Arc::new(merged)];
        // Readers that opened the old segments keep their open files.
        drop(segments);
        self.remove_leftovers(lock)?;
        Ok(Some(stats))
    }
}
