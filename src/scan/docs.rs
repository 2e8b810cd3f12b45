//! [`DocTable`]: what a scan knows about every document, and its stored text.
//!
//! Memory per document is kept small and fixed: the id, a few counts, the
//! parsed date and where the rest is stored. The URL, the date as written,
//! the raw record and the text live in a [`BlobStore`] (in memory or in a
//! scratch file) and are read back when a caller needs them: output of kept
//! records, evidence, the rewrite verifier.

use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;

use crate::spill::{BlobRef, BlobStore};
use crate::{Error, Result};

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

impl StoredDoc {
    /// Appends the stored form to `out`: three length-prefixed optional
    /// fields, then the text.
    pub(crate) fn encode(
        url: Option<&str>,
        date: Option<&str>,
        raw: Option<&[u8]>,
        text: &str,
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
        out.extend_from_slice(text.as_bytes());
    }

    fn decode(bytes: &[u8]) -> Option<StoredDoc> {
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
        let text = String::from_utf8(rest.to_vec()).ok()?;
        Some(StoredDoc { url, date, raw, text })
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

/// The documents of a scan, in input order.
#[derive(Clone, Debug)]
pub struct DocTable {
    ids: String,
    id_ends: Vec<u64>,
    counts: Vec<DocCounts>,
    /// Parsed dates in seconds since the epoch; `i64::MIN` for none.
    dates: Vec<i64>,
    /// Where each record ends in the store: records are stored back to back,
    /// in input order, so each starts where the one before ends.
    record_ends: Vec<u64>,
    store: Arc<BlobStore>,
}

impl Default for DocTable {
    fn default() -> Self {
        DocTable::new(Arc::new(BlobStore::in_memory()))
    }
}

impl DocTable {
    pub(crate) fn new(store: Arc<BlobStore>) -> Self {
        DocTable {
            ids: String::new(),
            id_ends: Vec::new(),
            counts: Vec::new(),
            dates: Vec::new(),
            record_ends: Vec::new(),
            store,
        }
    }

    /// Adds a document whose record was just appended to the store (right
    /// after the previous document's).
    pub(crate) fn push(
        &mut self,
        id: &str,
        counts: DocCounts,
        date: Option<Timestamp>,
        record: BlobRef,
    ) {
        debug_assert_eq!(record.offset(), self.record_ends.last().copied().unwrap_or(0));
        self.ids.push_str(id);
        self.id_ends.push(self.ids.len() as u64);
        self.counts.push(counts);
        self.dates.push(date.map_or(i64::MIN, |t| t.as_second()));
        self.record_ends.push(record.offset() + record.len() as u64);
    }

    fn record(&self, doc: u32) -> BlobRef {
        let end = self.record_ends[doc as usize];
        let start = if doc == 0 { 0 } else { self.record_ends[doc as usize - 1] };
        BlobRef::new(start, (end - start) as u32)
    }

    pub(crate) fn set_store(&mut self, store: Arc<BlobStore>) {
        self.store = store;
    }

    pub(crate) fn counts_mut(&mut self, doc: u32) -> &mut DocCounts {
        &mut self.counts[doc as usize]
    }

    pub(crate) fn counts(&self, doc: u32) -> DocCounts {
        self.counts[doc as usize]
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
        let end = self.id_ends[doc as usize] as usize;
        let start = if doc == 0 { 0 } else { self.id_ends[doc as usize - 1] as usize };
        &self.ids[start..end]
    }

    /// All ids, in input order.
    pub fn ids(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len() as u32).map(|d| self.id(d))
    }

    /// Size of document `doc`'s text in bytes.
    pub fn bytes(&self, doc: u32) -> u64 {
        self.counts[doc as usize].bytes
    }

    /// The date of document `doc`, if it had one that could be parsed
    /// (to the second).
    pub fn date(&self, doc: u32) -> Option<Timestamp> {
        let seconds = self.dates[doc as usize];
        if seconds == i64::MIN { None } else { Timestamp::from_second(seconds).ok() }
    }

    /// Reads document `doc` back from the store.
    pub fn stored(&self, doc: u32) -> Result<StoredDoc> {
        let bytes =
            self.store.read(self.record(doc)).map_err(|e| Error::io("<scan scratch store>", e))?;
        StoredDoc::decode(&bytes).ok_or_else(|| {
            Error::io("<scan scratch store>", std::io::Error::other("stored document is corrupt"))
        })
    }

    /// The text of document `doc`.
    pub fn text(&self, doc: u32) -> Result<String> {
        self.stored(doc).map(|d| d.text)
    }

    /// Everything known about document `doc`.
    pub fn info(&self, doc: u32) -> Result<DocInfo> {
        let stored = self.stored(doc)?;
        let c = self.counts[doc as usize];
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
    sets: Arc<Vec<BlobRef>>,
    representative_of: Arc<Vec<u32>>,
}

impl ContentSets {
    pub(crate) fn new(store: BlobStore, sets: Vec<BlobRef>, representative_of: Vec<u32>) -> Self {
        ContentSets {
            store: Arc::new(store),
            sets: Arc::new(sets),
            representative_of: Arc::new(representative_of),
        }
    }

    /// The content shingles of document `doc` (empty for an empty document).
    pub fn content(&self, doc: u32) -> Result<crate::shingle::ShingleSet> {
        let rep = self.representative_of[doc as usize] as usize;
        let at = self.sets[rep];
        if at.is_empty() {
            return Ok(Default::default());
        }
        let bytes = self.store.read(at).map_err(|e| Error::io("<scan scratch store>", e))?;
        let n = bytes.get(..4).map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize);
        match n.and_then(|n| bytes[4..].get(..n * 8)) {
            Some(content) => {
                Ok(crate::shingle::ShingleSet::from_hashes(crate::spill::bytes_to_u64s(content)))
            }
            None => Err(Error::io(
                "<scan scratch store>",
                std::io::Error::other("stored shingle set is corrupt"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_documents_round_trip() {
        let mut store = BlobStore::in_memory();
        let mut buf = Vec::new();
        StoredDoc::encode(Some("http://x"), None, Some(b"{\"raw\":1}"), "the text", &mut buf);
        let a = store.append(&buf).unwrap();
        buf.clear();
        StoredDoc::encode(None, Some("2024-01-02"), None, "", &mut buf);
        let b = store.append(&buf).unwrap();
        let c = store.append(&buf).unwrap();
        store.seal().unwrap();
        let mut table = DocTable::new(Arc::new(store));
        table.push("a", DocCounts::default(), None, a);
        table.push("bb", DocCounts::default(), "2024-01-02T00:00:00Z".parse().ok(), b);
        assert_eq!((table.id(0), table.id(1)), ("a", "bb"));
        let sa = table.stored(0).unwrap();
        assert_eq!(sa.url.as_deref(), Some("http://x"));
        assert_eq!(sa.raw.as_deref(), Some(&b"{\"raw\":1}"[..]));
        assert_eq!(sa.text, "the text");
        let sb = table.stored(1).unwrap();
        assert_eq!((sb.date.as_deref(), sb.text.as_str()), (Some("2024-01-02"), ""));
        assert_eq!(table.date(1).unwrap().as_second(), 1_704_153_600);
        assert!(table.first_repeated_id().is_none());
        table.push("a", DocCounts::default(), None, c);
        assert_eq!(table.first_repeated_id(), Some("a"));
    }
}
