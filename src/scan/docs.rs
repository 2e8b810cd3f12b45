//! [`DocTable`]: what a scan knows about every document, and its stored text.
//!
//! Memory per document is its id and 4 bytes. The rest is in scratch
//! storage (a [`BlobStore`], in memory or in a scratch file), read back by
//! position when a caller needs it: a fixed-size record (counts,
//! parsed date, where the text and the shingle sets are), and the stored
//! document (URL, date as written, raw record, and the text or, for a line
//! of an uncompressed JSONL file, its place there; see [`TextSources`]) for
//! output of kept records, evidence and the rewrite verifier.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::spill::{BlobRef, BlobStore};
use crate::{Error, Result};

use super::scratch_error;
use super::text_sources::TextSources;

/// What the scan keeps of each document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DocInfo {
    /// The document id.
    pub id: String,
    /// Its date, if the input had one.
    pub date: Option<String>,
    /// Its URL, if the input had one.
    pub url: Option<String>,
    /// Size of the text in bytes.
    pub bytes: u64,
    /// Number of tokens.
    pub tokens: u32,
    /// Number of distinct shingles.
    pub shingles: u32,
    /// Of those, how many are boilerplate.
    pub boilerplate_shingles: u32,
}

/// A document as stored by the scan: everything but the counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoredDoc {
    /// Its URL, if the input had one.
    pub url: Option<String>,
    /// Its date as written in the input.
    pub date: Option<String>,
    /// The record exactly as read, when the reader kept it.
    pub raw: Option<Vec<u8>>,
    /// The text that was compared (for HTML, the extracted main text).
    pub text: String,
}

/// Where a stored document's text is: in the store, or in its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoredText<'a> {
    /// The text, stored.
    Inline(&'a str),
    /// A line of an input file (see [`crate::ingest::place`]).
    Place(TextPlace),
}

/// A text left in its input: which of the table's sources, the line's
/// bytes, and the hash of the text to check it against when read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TextPlace {
    pub source: u32,
    pub offset: u64,
    pub len: u32,
    pub line: u64,
    pub check: u64,
}

impl TextPlace {
    const BYTES: usize = 4 + 8 + 4 + 8 + 8;
}

impl StoredDoc {
    /// Appends the stored form to `out`: three length-prefixed optional
    /// fields, then a tag and the text or its place.
    pub(crate) fn encode(
        url: Option<&str>,
        date: Option<&str>,
        raw: Option<&[u8]>,
        text: StoredText<'_>,
        out: &mut Vec<u8>,
    ) {
        for field in [url.map(str::as_bytes), date.map(str::as_bytes), raw] {
            match field {
                None => out.extend_from_slice(&u32::MAX.to_le_bytes()),
                Some(bytes) => {
                    // Fields are bounded by the document size limit, far
                    // below 4 GiB; longer ones are cut rather than wrapped.
                    let len = bytes.len().min(u32::MAX as usize - 1);
                    out.extend_from_slice(&(len as u32).to_le_bytes());
                    out.extend_from_slice(&bytes[..len]);
                }
            }
        }
        match text {
            StoredText::Inline(text) => {
                out.push(0);
                out.extend_from_slice(text.as_bytes());
            }
            StoredText::Place(p) => {
                out.push(1);
                out.extend_from_slice(&p.source.to_le_bytes());
                out.extend_from_slice(&p.offset.to_le_bytes());
                out.extend_from_slice(&p.len.to_le_bytes());
                out.extend_from_slice(&p.line.to_le_bytes());
                out.extend_from_slice(&p.check.to_le_bytes());
            }
        }
    }

    /// The stored fields, with the text when it is stored (else its place).
    fn decode(bytes: &[u8]) -> Option<(StoredDoc, Option<TextPlace>)> {
        let mut rest = bytes;
        let mut field = || -> Option<Option<&[u8]>> {
            let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
            rest = &rest[4..];
            if len == u32::MAX {
                return Some(None);
            }
            let (value, tail) = rest.split_at_checked(len as usize)?;
            rest = tail;
            Some(Some(value))
        };
        let string = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        let url = string(field()?);
        let date = string(field()?);
        let raw = field()?.map(<[u8]>::to_vec);
        let (&tag, tail) = rest.split_first()?;
        let mut doc = StoredDoc { url, date, raw, text: String::new() };
        match tag {
            0 => {
                doc.text = String::from_utf8(tail.to_vec()).ok()?;
                Some((doc, None))
            }
            1 if tail.len() == TextPlace::BYTES => {
                let u32_ = |at: usize| u32::from_le_bytes(tail[at..at + 4].try_into().unwrap());
                let u64_ = |at: usize| u64::from_le_bytes(tail[at..at + 8].try_into().unwrap());
                let place = TextPlace {
                    source: u32_(0),
                    offset: u64_(4),
                    len: u32_(12),
                    line: u64_(16),
                    check: u64_(24),
                };
                Some((doc, Some(place)))
            }
            _ => None,
        }
    }
}

/// Counts of one document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DocCounts {
    pub bytes: u64,
    pub tokens: u32,
    pub shingles: u32,
    pub boilerplate: u32,
}

/// What the scan knows of one document besides its id, as a fixed-size
/// record in scratch storage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DocRecord {
    /// Where its [`StoredDoc`] is.
    pub stored: BlobRef,
    pub counts: DocCounts,
    /// Parsed date in seconds since the epoch; `i64::MIN` for none.
    pub date: i64,
    /// Where its shingle sets are in the scan's set store (empty for copies
    /// and empty documents, which are never compared themselves).
    pub sets: BlobRef,
}

impl DocRecord {
    const BYTES: usize = 12 + 20 + 8 + 12;

    fn encode(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        let fields: [&[u8]; 9] = [
            &self.stored.offset().to_le_bytes(),
            &(self.stored.len() as u32).to_le_bytes(),
            &self.counts.bytes.to_le_bytes(),
            &self.counts.tokens.to_le_bytes(),
            &self.counts.shingles.to_le_bytes(),
            &self.counts.boilerplate.to_le_bytes(),
            &self.date.to_le_bytes(),
            &self.sets.offset().to_le_bytes(),
            &(self.sets.len() as u32).to_le_bytes(),
        ];
        let mut at = 0;
        for field in fields {
            out[at..at + field.len()].copy_from_slice(field);
            at += field.len();
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<DocRecord> {
        let mut rest = bytes;
        let mut take = |n: usize| -> Option<&[u8]> {
            let (field, tail) = rest.split_at_checked(n)?;
            rest = tail;
            Some(field)
        };
        let u64_ = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let u32_ = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("4 bytes"));
        let stored = BlobRef::new(u64_(take(8)?), u32_(take(4)?));
        let counts = DocCounts {
            bytes: u64_(take(8)?),
            tokens: u32_(take(4)?),
            shingles: u32_(take(4)?),
            boilerplate: u32_(take(4)?),
        };
        let date = i64::from_le_bytes(take(8)?.try_into().ok()?);
        let sets = BlobRef::new(u64_(take(8)?), u32_(take(4)?));
        Some(DocRecord { stored, counts, date, sets })
    }

    fn at(doc: u32) -> BlobRef {
        BlobRef::new(u64::from(doc) * Self::BYTES as u64, Self::BYTES as u32)
    }
}

/// Documents per block of the id index (see [`DocTable`]).
const ID_BLOCK: usize = 1024;

/// A stored record, decoded; corrupt bytes are a scratch error.
fn decode_record(bytes: &[u8]) -> Result<DocRecord> {
    DocRecord::decode(bytes)
        .ok_or_else(|| scratch_error(std::io::Error::other("document record is corrupt")))
}

/// The fixed-size records of a scan's documents, by document index.
#[derive(Clone, Debug, Default)]
pub(crate) struct DocRecords(Arc<BlobStore>);

impl DocRecords {
    /// The record of document `doc`.
    pub fn get(&self, doc: u32) -> Result<DocRecord> {
        let bytes = self.0.read(DocRecord::at(doc)).map_err(scratch_error)?;
        decode_record(&bytes)
    }

    /// The records of documents `first..first + count` (those that exist),
    /// read at once.
    pub fn get_range(&self, first: u32, count: u32) -> Result<Vec<DocRecord>> {
        let end = (u64::from(first) + u64::from(count)) * DocRecord::BYTES as u64;
        let start = DocRecord::at(first).offset();
        let span = BlobRef::new(start, (end.min(self.0.len()).max(start) - start) as u32);
        let bytes = self.0.read(span).map_err(scratch_error)?;
        bytes.chunks_exact(DocRecord::BYTES).map(decode_record).collect()
    }

    /// The store, for writing: only while the scan owns the table alone.
    fn store_mut(&mut self) -> Result<&mut BlobStore> {
        Arc::get_mut(&mut self.0)
            .ok_or_else(|| Error::Config("the document table is shared".into()))
    }
}

/// The documents of a scan, in input order.
///
/// Memory per document is its id and 4 bytes locating it; everything else
/// (counts, date, where its text and sets are) is a fixed-size
/// record in a scratch store, read back by position.
#[derive(Clone, Debug)]
pub struct DocTable {
    ids: String,
    /// Where each block of [`ID_BLOCK`] ids starts in `ids`.
    id_blocks: Vec<u64>,
    /// Where each id ends, relative to the start of its block.
    id_ends: Vec<u32>,
    records: DocRecords,
    store: Arc<BlobStore>,
    /// The inputs of texts not stored (see [`TextSources`]).
    sources: Arc<TextSources>,
}

impl Default for DocTable {
    fn default() -> Self {
        DocTable::new(BlobStore::in_memory())
    }
}

impl DocTable {
    /// An empty table whose records go to `records`.
    pub(crate) fn new(records: BlobStore) -> Self {
        DocTable {
            ids: String::new(),
            id_blocks: Vec::new(),
            id_ends: Vec::new(),
            records: DocRecords(Arc::new(records)),
            store: Arc::new(BlobStore::in_memory()),
            sources: Arc::default(),
        }
    }

    /// Adds a document (records are written in input order).
    pub(crate) fn push(&mut self, id: &str, record: &DocRecord) -> Result<()> {
        if self.id_ends.len().is_multiple_of(ID_BLOCK) {
            self.id_blocks.push(self.ids.len() as u64);
        }
        let block_start = *self.id_blocks.last().expect("pushed above");
        self.ids.push_str(id);
        let end = u32::try_from(self.ids.len() as u64 - block_start).map_err(|_| {
            Error::Config(format!("{ID_BLOCK} document ids longer than 4 GiB in all"))
        })?;
        self.id_ends.push(end);
        self.records.store_mut()?.append(&record.encode())?;
        Ok(())
    }

    /// Ends the first pass: the texts are in `store` or in `sources`, and
    /// records can be read.
    pub(crate) fn seal(&mut self, store: Arc<BlobStore>, sources: TextSources) -> Result<()> {
        self.store = store;
        self.sources = Arc::new(sources);
        self.records.store_mut()?.seal()
    }

    /// The record of document `doc`.
    pub(crate) fn record(&self, doc: u32) -> Result<DocRecord> {
        self.records.get(doc)
    }

    /// The records of documents `first..first + count` (those that exist),
    /// read at once.
    pub(crate) fn records_from(&self, first: u32, count: u32) -> Result<Vec<DocRecord>> {
        self.records.get_range(first, count)
    }

    /// The records alone (shared, without the ids).
    pub(crate) fn records(&self) -> DocRecords {
        self.records.clone()
    }

    /// Replaces the record of document `doc` (after [`DocTable::seal`]).
    pub(crate) fn set_record(&mut self, doc: u32, record: &DocRecord) -> Result<()> {
        self.records
            .store_mut()?
            .overwrite(DocRecord::at(doc), &record.encode())
            .map_err(scratch_error)
    }

    /// Number of documents.
    pub fn len(&self) -> usize {
        self.id_ends.len()
    }

    /// Returns true if and only if there is no document.
    pub fn is_empty(&self) -> bool {
        self.id_ends.is_empty()
    }

    /// The id of document `doc`.
    pub fn id(&self, doc: u32) -> &str {
        let d = doc as usize;
        let block = self.id_blocks[d / ID_BLOCK] as usize;
        let end = block + self.id_ends[d] as usize;
        let start =
            if d.is_multiple_of(ID_BLOCK) { block } else { block + self.id_ends[d - 1] as usize };
        &self.ids[start..end]
    }

    /// All ids, in input order.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len() as u32).map(|d| self.id(d))
    }

    /// Size of document `doc`'s text in bytes.
    pub fn bytes(&self, doc: u32) -> Result<u64> {
        Ok(self.record(doc)?.counts.bytes)
    }

    /// The date of document `doc`, if it had one that could be parsed
    /// (to the second).
    pub fn date(&self, doc: u32) -> Result<Option<Timestamp>> {
        let seconds = self.record(doc)?.date;
        Ok(if seconds == i64::MIN { None } else { Timestamp::from_second(seconds).ok() })
    }

    /// Reads document `doc` back from the store (and its text from its
    /// input, when it was left there).
    pub fn stored(&self, doc: u32) -> Result<StoredDoc> {
        let (mut stored, place) = self.stored_fields(doc)?;
        if let Some(place) = place {
            stored.text = self.sources.read(&place)?;
        }
        Ok(stored)
    }

    /// Document `doc` as output of kept records needs it: its text is read
    /// back from its input only when its raw record, which output copies
    /// instead, was not kept.
    pub fn stored_for_output(&self, doc: u32) -> Result<StoredDoc> {
        let (mut stored, place) = self.stored_fields(doc)?;
        if let (Some(place), None) = (place, &stored.raw) {
            stored.text = self.sources.read(&place)?;
        }
        Ok(stored)
    }

    /// The stored fields of `doc`, and the place of its text when the text
    /// is not among them.
    fn stored_fields(&self, doc: u32) -> Result<(StoredDoc, Option<TextPlace>)> {
        let at = self.record(doc)?.stored;
        let bytes = self.store.read(at).map_err(scratch_error)?;
        StoredDoc::decode(&bytes)
            .ok_or_else(|| scratch_error(std::io::Error::other("stored document is corrupt")))
    }

    /// The text of document `doc`.
    pub fn text(&self, doc: u32) -> Result<String> {
        self.stored(doc).map(|d| d.text)
    }

    /// Everything known about document `doc`.
    pub fn info(&self, doc: u32) -> Result<DocInfo> {
        let (stored, _) = self.stored_fields(doc)?;
        let c = self.record(doc)?.counts;
        Ok(DocInfo {
            id: self.id(doc).to_owned(),
            date: stored.date,
            url: stored.url,
            bytes: c.bytes,
            tokens: c.tokens,
            shingles: c.shingles,
            boilerplate_shingles: c.boilerplate,
        })
    }

    /// The first id that occurs twice, if any.
    pub(crate) fn first_repeated_id(&self) -> Option<&str> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        rayon::slice::ParallelSliceMut::par_sort_unstable_by(&mut order[..], |&a, &b| {
            self.id(a).cmp(self.id(b)).then(a.cmp(&b))
        });
        order.windows(2).find(|w| self.id(w[0]) == self.id(w[1])).map(|w| self.id(w[1]))
    }
}

/// Each document's content shingles (boilerplate removed) as the scan stored
/// them, for exact comparisons after the scan (dedup, explanations).
#[derive(Clone, Debug, Default)]
pub struct ContentSets {
    store: Arc<BlobStore>,
    records: DocRecords,
    representative_of: Arc<Vec<u32>>,
}

impl ContentSets {
    pub(crate) fn new(store: BlobStore, records: DocRecords, representative_of: Vec<u32>) -> Self {
        ContentSets {
            store: Arc::new(store),
            records,
            representative_of: Arc::new(representative_of),
        }
    }

    /// The content shingles of document `doc` (empty for an empty document).
    pub fn content(&self, doc: u32) -> Result<crate::shingle::ShingleSet> {
        let rep = self.representative_of[doc as usize];
        let at = self.records.get(rep)?.sets;
        Ok(super::corpus::read_sets(&self.store, at)?.content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_documents_round_trip() {
        let mut store = BlobStore::in_memory();
        let mut buf = Vec::new();
        let text = StoredText::Inline("the text");
        StoredDoc::encode(Some("http://x"), None, Some(b"{\"raw\":1}"), text, &mut buf);
        let a = store.append(&buf).unwrap();
        buf.clear();
        StoredDoc::encode(None, Some("2024-01-02"), None, StoredText::Inline(""), &mut buf);
        let b = store.append(&buf).unwrap();
        let c = store.append(&buf).unwrap();
        store.seal().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut table = DocTable::new(BlobStore::in_dir(dir.path()).unwrap());
        let date = "2024-01-02T00:00:00Z".parse::<Timestamp>().unwrap().as_second();
        let record = |stored, date| DocRecord { stored, date, ..DocRecord::default() };
        table.push("a", &record(a, i64::MIN)).unwrap();
        table.push("bb", &record(b, date)).unwrap();
        // Enough ids to fill more than one block of the id index.
        for i in 0..2 * ID_BLOCK {
            table.push(&format!("id-{i}"), &record(c, i64::MIN)).unwrap();
        }
        table.seal(Arc::new(store), TextSources::default()).unwrap();
        assert_eq!((table.id(0), table.id(1)), ("a", "bb"));
        assert_eq!(table.id(ID_BLOCK as u32 + 2), format!("id-{ID_BLOCK}"));
        assert_eq!(table.ids().last(), Some(format!("id-{}", 2 * ID_BLOCK - 1).as_str()));
        let sa = table.stored(0).unwrap();
        assert_eq!(sa.url.as_deref(), Some("http://x"));
        assert_eq!(sa.raw.as_deref(), Some(&b"{\"raw\":1}"[..]));
        assert_eq!(sa.text, "the text");
        let sb = table.stored(1).unwrap();
        assert_eq!((sb.date.as_deref(), sb.text.as_str()), (Some("2024-01-02"), ""));
        assert_eq!(table.date(1).unwrap().unwrap().as_second(), 1_704_153_600);
        assert_eq!(table.date(0).unwrap(), None);
        // Records can be updated in place after the first pass.
        let mut updated = table.record(1).unwrap();
        updated.counts.boilerplate = 7;
        table.set_record(1, &updated).unwrap();
        assert_eq!(table.record(1).unwrap(), updated);
        assert_eq!(table.record(0).unwrap().date, i64::MIN);
        assert!(table.first_repeated_id().is_none());
    }

    #[test]
    fn a_repeated_id_is_found() {
        let mut table = DocTable::default();
        for id in ["a", "b", "a"] {
            table.push(id, &DocRecord::default()).unwrap();
        }
        table.seal(Arc::new(BlobStore::in_memory()), TextSources::default()).unwrap();
        assert_eq!(table.first_repeated_id(), Some("a"));
    }

    #[test]
    fn texts_left_in_their_input_are_read_back_and_checked() {
        use crate::ingest::{DocumentReader, Input, ReadOptions};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let lines = "{\"id\":\"a\",\"text\":\"first \\\"quoted\\\"\\ntext\"}\n\n\
                     {\"id\":\"b\",\"url\":\"http://b\",\"text\":\"second text\"}\n";
        std::fs::write(&path, lines).unwrap();
        let docs: Vec<_> =
            DocumentReader::new(vec![Input::Path(path.clone())], ReadOptions::default())
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let mut store = BlobStore::in_memory();
        let mut sources = TextSources::default();
        let mut table = DocTable::default();
        let mut buf = Vec::new();
        for doc in &docs {
            let place = sources.place_of(doc.place.as_ref().unwrap(), doc.text().unwrap());
            buf.clear();
            StoredDoc::encode(doc.url.as_deref(), None, None, StoredText::Place(place), &mut buf);
            // Only the place is stored, not the text.
            assert!(buf.len() < 4 * 3 + 1 + TextPlace::BYTES + 10);
            let stored = store.append(&buf).unwrap();
            table.push(&doc.id, &DocRecord { stored, ..DocRecord::default() }).unwrap();
        }
        // A kept raw record is output without reading the text back.
        let place = sources.place_of(docs[0].place.as_ref().unwrap(), docs[0].text().unwrap());
        buf.clear();
        StoredDoc::encode(None, None, Some(b"{}"), StoredText::Place(place), &mut buf);
        let stored = store.append(&buf).unwrap();
        table.push("raw", &DocRecord { stored, ..DocRecord::default() }).unwrap();
        store.seal().unwrap();
        table.seal(Arc::new(store), sources).unwrap();
        assert_eq!(table.text(0).unwrap(), "first \"quoted\"\ntext");
        let b = table.stored(1).unwrap();
        assert_eq!((b.url.as_deref(), b.text.as_str()), (Some("http://b"), "second text"));
        // A changed input is an error naming the file and line, not another text.
        std::fs::write(&path, lines.replace("second", "sec0nd")).unwrap();
        assert_eq!(table.info(1).unwrap().url.as_deref(), Some("http://b"));
        let err = table.text(1).unwrap_err().to_string();
        assert!(err.contains("in.jsonl") && err.contains("line 3"), "{err}");
        assert_eq!(table.text(0).unwrap(), "first \"quoted\"\ntext");
        std::fs::write(&path, "").unwrap();
        assert!(table.text(0).is_err());
        assert!(table.stored(2).is_err());
        let output = table.stored_for_output(2).unwrap();
        assert_eq!((output.raw.as_deref(), output.text.as_str()), (Some(&b"{}"[..]), ""));
        assert!(table.stored_for_output(0).is_err());
    }
}
