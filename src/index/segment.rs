//! A segment: one committed batch of documents, immutable once written.
//!
//! | section | content | encoding |
//! |---|---|---|
//! | 0 | first document number, count, generation | postcard |
//! | 1 | per document: id, content hash, URL, date, tokens | postcard |
//! | 2 | where each document's text ends in section 3 | u64 LE array |
//! | 3 | texts, one zstd frame each (random access for verification) | zstd |
//! | 4 | `(band key, doc)` of every view, sorted | 12-byte LE records |
//! | 5 | `(passage fingerprint, doc)`, sorted | 12-byte LE records |
//! | 6 | `(shingle, doc)` of the documents whose content is new to the index, sorted | 12-byte LE records |
//! | 7 | new pairs found when the batch was added: `(a, b, relation)` | postcard |
//! | 8 | the same pairs as reported (JSONL, with scores and evidence) | zstd |
//! | 9 | earlier documents this batch replaces (same id, new content) | u32 LE array |
//!
//! The bulk (postings) is fixed-width little-endian, so a
//! later version can map it from disk instead of reading it, without a
//! format change. Document numbers are global: a segment's documents are
//! `first_doc .. first_doc + docs`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::format::{self, FileKind, decode_entries, encode_entries};
use crate::{Error, Result};

/// zstd level for stored texts: fast, and about 3× smaller than the text.
const TEXT_LEVEL: i32 = 3;
/// Number of sections a segment has.
const SECTIONS: usize = 10;

/// What a segment stores about one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRecord {
    /// The document id.
    pub id: String,
    /// Hash of its normalized tokens (`None`: no tokens).
    pub content_hash: Option<u128>,
    /// Its URL, if known.
    pub url: Option<String>,
    /// Its date as written in the input.
    pub date: Option<String>,
    /// Number of tokens.
    pub tokens: u32,
}

/// A pair found when a batch was added, between global document numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLink {
    /// First document (for `contained`, the contained one).
    pub a: u32,
    /// Second document.
    pub b: u32,
    /// The relation, as [`super::state::relation_code`] numbers it.
    pub relation: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SegmentMeta {
    first_doc: u32,
    docs: u32,
    generation: u64,
}

/// The content of a segment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SegmentData {
    /// Number of its first document.
    pub first_doc: u32,
    /// The commit that wrote it.
    pub generation: u64,
    /// Its documents, numbered from `first_doc`.
    pub docs: Vec<DocRecord>,
    /// Their texts.
    pub texts: Vec<String>,
    /// `(band key, doc)`, sorted.
    pub bands: Vec<(u64, u32)>,
    /// `(fingerprint, doc)`, sorted.
    pub passages: Vec<(u64, u32)>,
    /// `(shingle, doc)` of the documents whose content was new to the index
    /// (one holder per distinct content, so that counting postings counts
    /// distinct contents), sorted.
    pub postings: Vec<(u64, u32)>,
    /// Pairs found when the batch was added.
    pub links: Vec<StoredLink>,
    /// The pair records as reported (JSONL).
    pub report: Vec<u8>,
    /// Earlier documents this batch replaced.
    pub replaced: Vec<u32>,
}

impl SegmentData {
    /// Encodes the segment as a file for an index with `fingerprint`.
    pub fn encode(&self, fingerprint: u64) -> Result<Vec<u8>> {
        let enc = |what: &str, e: postcard::Error| {
            Error::Index(format!("cannot encode the segment's {what}: {e}"))
        };
        let meta = SegmentMeta {
            first_doc: self.first_doc,
            docs: self.docs.len() as u32,
            generation: self.generation,
        };
        let meta = postcard::to_stdvec(&meta).map_err(|e| enc("header", e))?;
        let docs = postcard::to_stdvec(&self.docs).map_err(|e| enc("documents", e))?;
        let mut ends = Vec::with_capacity(8 * self.texts.len());
        let mut texts = Vec::new();
        for text in &self.texts {
            let frame = zstd::bulk::compress(text.as_bytes(), TEXT_LEVEL)
                .map_err(|e| Error::Index(format!("cannot compress a text: {e}")))?;
            texts.extend_from_slice(&frame);
            ends.extend_from_slice(&(texts.len() as u64).to_le_bytes());
        }
        let links = postcard::to_stdvec(&self.links).map_err(|e| enc("pairs", e))?;
        let report = zstd::bulk::compress(&self.report, TEXT_LEVEL)
            .map_err(|e| Error::Index(format!("cannot compress the report: {e}")))?;
        let replaced: Vec<u8> = self.replaced.iter().flat_map(|d| d.to_le_bytes()).collect();
        let sections: [&[u8]; SECTIONS] = [
            &meta,
            &docs,
            &ends,
            &texts,
            &encode_entries(&self.bands),
            &encode_entries(&self.passages),
            &encode_entries(&self.postings),
            &links,
            &report,
            &replaced,
        ];
        Ok(format::encode(FileKind::Segment, fingerprint, &sections))
    }

    /// Reads and checks a segment file of an index with `fingerprint`.
    pub fn read(path: &Path, fingerprint: u64) -> Result<SegmentData> {
        let file = format::read(path, FileKind::Segment)?;
        let bad = |what: &str| Error::Index(format!("{}: damaged {what}", path.display()));
        if file.fingerprint != fingerprint {
            return Err(Error::Index(format!(
                "{}: built with another configuration than its index",
                path.display()
            )));
        }
        if file.sections() != SECTIONS {
            return Err(bad("section table"));
        }
        let meta: SegmentMeta = postcard::from_bytes(file.section(0)).map_err(|_| bad("header"))?;
        let docs: Vec<DocRecord> =
            postcard::from_bytes(file.section(1)).map_err(|_| bad("document table"))?;
        if docs.len() != meta.docs as usize {
            return Err(bad("document table"));
        }
        let ends = file.section(2);
        let all = file.section(3);
        if ends.len() != 8 * docs.len() {
            return Err(bad("text table"));
        }
        let mut texts = Vec::with_capacity(docs.len());
        let mut start = 0usize;
        for end in ends.chunks_exact(8) {
            let end = u64::from_le_bytes(end.try_into().expect("8 bytes")) as usize;
            let frame = all.get(start..end).ok_or_else(|| bad("text table"))?;
            let bytes = zstd::stream::decode_all(frame).map_err(|_| bad("text"))?;
            texts.push(String::from_utf8(bytes).map_err(|_| bad("text"))?);
            start = end;
        }
        let entries =
            |i: usize, what: &str| decode_entries(file.section(i)).ok_or_else(|| bad(what));
        let links: Vec<StoredLink> =
            postcard::from_bytes(file.section(7)).map_err(|_| bad("pairs"))?;
        let report = zstd::stream::decode_all(file.section(8)).map_err(|_| bad("report"))?;
        let replaced_bytes = file.section(9);
        if !replaced_bytes.len().is_multiple_of(4) {
            return Err(bad("replacement list"));
        }
        let replaced = replaced_bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        Ok(SegmentData {
            first_doc: meta.first_doc,
            generation: meta.generation,
            docs,
            texts,
            bands: entries(4, "band postings")?,
            passages: entries(5, "passage postings")?,
            postings: entries(6, "shingle postings")?,
            links,
            report,
            replaced,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> SegmentData {
        SegmentData {
            first_doc: 5,
            generation: 2,
            docs: vec![
                DocRecord {
                    id: "a".into(),
                    content_hash: Some(7),
                    url: Some("https://example.org/a".into()),
                    date: None,
                    tokens: 3,
                },
                DocRecord { id: "b".into(), content_hash: None, url: None, date: None, tokens: 0 },
            ],
            texts: vec!["one two three".into(), String::new()],
            bands: vec![(1, 5), (9, 5)],
            passages: vec![(4, 5)],
            postings: vec![(10, 1), (11, 1)],
            links: vec![StoredLink { a: 5, b: 2, relation: 1 }],
            report: b"{\"a\":\"a\"}\n".to_vec(),
            replaced: vec![1],
        }
    }

    #[test]
    fn a_segment_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.nds");
        std::fs::write(&path, sample().encode(42).unwrap()).unwrap();
        assert_eq!(SegmentData::read(&path, 42).unwrap(), sample());
        let err = SegmentData::read(&path, 43).unwrap_err().to_string();
        assert!(err.contains("another configuration"), "{err}");
    }

    #[test]
    fn a_flipped_byte_is_a_checksum_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.nds");
        let mut bytes = sample().encode(42).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let err = SegmentData::read(&path, 42).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
    }
}
