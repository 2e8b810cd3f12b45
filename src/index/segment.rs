//! A segment: one committed batch of documents, immutable once written.
//!
//! | section | content | encoding |
//! |---|---|---|
//! | 0 | first document number, count, generation | postcard |
//! | 1 | per document: id, content hash, URL, date, tokens | postcard |
//! | 2 | per document: where its text ends in section 3, xxh3-64 of its frame | u64 LE pairs |
//! | 3 | texts, one zstd frame each (random access for verification) | zstd |
//! | 4 | `(band key, doc)` of every view, sorted | 12-byte LE records |
//! | 5 | `(passage fingerprint, doc)`, sorted | 12-byte LE records |
//! | 6 | `(shingle, doc)` of the documents whose content is new to the index, sorted | 12-byte LE records |
//! | 7 | new pairs found when the batch was added: `(a, b, relation)` | postcard |
//! | 8 | the same pairs as reported (JSONL, with scores and evidence) | zstd frames |
//! | 9 | earlier documents this batch replaces (same id, new content) | u32 LE array |
//!
//! A [`Segment`] is opened lazily: the matcher streams the posting
//! sections it joins against and fetches single texts, each checked (the
//! sections by their checksums, a text by its own hash in section 2), and
//! never decodes a whole segment. Document numbers are global: a segment's
//! documents are `first_doc .. first_doc + docs`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::format::{FileKind, decode_entries};
use super::sections::{EntryCursor, SectionReader, SectionWriter};
use crate::{Error, Result};

/// zstd level for stored texts: fast, and about 3× smaller than the text.
const TEXT_LEVEL: i32 = 3;
/// Number of sections a segment has.
pub const SECTIONS: usize = 10;

/// The sections of a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Section {
    /// First document number, count, generation.
    Meta = 0,
    /// Document records.
    Docs = 1,
    /// Text ends and hashes.
    TextTable = 2,
    /// Text frames.
    Texts = 3,
    /// `(band key, doc)`.
    Bands = 4,
    /// `(passage fingerprint, doc)`.
    Passages = 5,
    /// `(shingle, doc)`.
    Postings = 6,
    /// New pairs.
    Links = 7,
    /// The report of the new pairs.
    Report = 8,
    /// Replaced documents.
    Replaced = 9,
}

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

/// The fixed facts of a segment (section 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMeta {
    /// Number of its first document.
    pub first_doc: u32,
    /// Number of documents.
    pub docs: u32,
    /// The commit that wrote it.
    pub generation: u64,
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

fn encode_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Index(format!("cannot encode the segment's {what}: {e}"))
}

/// Compresses one stored text.
pub fn compress_text(text: &str) -> Result<Vec<u8>> {
    zstd::bulk::compress(text.as_bytes(), TEXT_LEVEL).map_err(|e| encode_error("texts", e))
}

/// `u32` values as a little-endian array.
pub fn encode_u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|d| d.to_le_bytes()).collect()
}

impl SegmentData {
    /// Writes the segment to `path` (under a temporary name until it is
    /// whole and flushed) for an index with `fingerprint`; returns the
    /// file's size.
    pub fn write(&self, path: &Path, fingerprint: u64) -> Result<u64> {
        let mut w = SectionWriter::create(path, FileKind::Segment, fingerprint, SECTIONS)?;
        let meta = SegmentMeta {
            first_doc: self.first_doc,
            docs: self.docs.len() as u32,
            generation: self.generation,
        };
        w.section(&postcard::to_stdvec(&meta).map_err(|e| encode_error("header", e))?)?;
        w.section(&postcard::to_stdvec(&self.docs).map_err(|e| encode_error("documents", e))?)?;
        let frames: Vec<Vec<u8>> =
            self.texts.iter().map(|t| compress_text(t)).collect::<Result<_>>()?;
        let mut table = Vec::with_capacity(16 * frames.len());
        let mut end = 0u64;
        for frame in &frames {
            end += frame.len() as u64;
            table.extend_from_slice(&end.to_le_bytes());
            table.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(frame).to_le_bytes());
        }
        w.section(&table)?;
        for frame in &frames {
            w.write(frame)?;
        }
        w.end_section();
        for entries in [&self.bands, &self.passages, &self.postings] {
            w.write_entries(entries)?;
            w.end_section();
        }
        w.section(&postcard::to_stdvec(&self.links).map_err(|e| encode_error("pairs", e))?)?;
        w.section(
            &zstd::bulk::compress(&self.report, TEXT_LEVEL)
                .map_err(|e| encode_error("report", e))?,
        )?;
        w.section(&encode_u32s(&self.replaced))?;
        w.finish()
    }

    /// Reads and checks a whole segment file of an index with `fingerprint`.
    pub fn read(path: &Path, fingerprint: u64) -> Result<SegmentData> {
        Segment::open(path, fingerprint)?.load()
    }
}

/// An open segment file.
#[derive(Debug)]
pub struct Segment {
    file: SectionReader,
    meta: SegmentMeta,
}

impl Segment {
    /// Opens a segment of an index with `fingerprint`: checks its header
    /// and reads its fixed facts.
    pub fn open(path: &Path, fingerprint: u64) -> Result<Segment> {
        let file = SectionReader::open(path, FileKind::Segment)?;
        if file.fingerprint() != fingerprint {
            return Err(Error::Index(format!(
                "{}: built with another configuration than its index",
                path.display()
            )));
        }
        let bad = |what: &str| Error::Index(format!("{}: damaged {what}", path.display()));
        if file.sections() != SECTIONS {
            return Err(bad("section table"));
        }
        // Checked by its checksum before it is parsed.
        let meta = file.read(Section::Meta as usize)?;
        let meta: SegmentMeta = postcard::from_bytes(&meta).map_err(|_| bad("header"))?;
        if file.len(Section::TextTable as usize) != 16 * u64::from(meta.docs) {
            return Err(bad("text table"));
        }
        Ok(Segment { file, meta })
    }

    /// Its fixed facts.
    pub fn meta(&self) -> SegmentMeta {
        self.meta
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// The file's size.
    pub fn file_len(&self) -> u64 {
        self.file.file_len()
    }

    /// The size of one section.
    pub fn section_len(&self, section: Section) -> u64 {
        self.file.len(section as usize)
    }

    fn bad(&self, what: &str) -> Error {
        Error::Index(format!("{}: damaged {what}", self.path().display()))
    }

    /// Its document records.
    pub fn docs(&self) -> Result<Vec<DocRecord>> {
        let bytes = self.file.read(Section::Docs as usize)?;
        let docs: Vec<DocRecord> =
            postcard::from_bytes(&bytes).map_err(|_| self.bad("document table"))?;
        if docs.len() != self.meta.docs as usize {
            return Err(self.bad("document table"));
        }
        Ok(docs)
    }

    /// The earlier documents it replaces.
    pub fn replaced(&self) -> Result<Vec<u32>> {
        let bytes = self.file.read(Section::Replaced as usize)?;
        if !bytes.len().is_multiple_of(4) {
            return Err(self.bad("replacement list"));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }

    /// Calls `f` with every posting of `section` (bands, passages or
    /// shingle postings), in key order.
    pub fn for_each_entry(&self, section: Section, f: impl FnMut(u64, u32)) -> Result<()> {
        self.file.for_each_entry(section as usize, f)
    }

    /// Calls `f` with `section` (postings) in consecutive pieces of whole
    /// 12-byte records; the section's checksum is checked after the last
    /// one (see [`SectionReader::for_each_chunk`]).
    pub fn for_each_posting_chunk(
        &self,
        section: Section,
        f: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<()> {
        if !self.file.len(section as usize).is_multiple_of(12) {
            return Err(self.bad("postings"));
        }
        self.file.for_each_chunk(section as usize, f)
    }

    /// A cursor over the postings of `section`, for merges.
    pub fn cursor(&self, section: Section) -> Result<EntryCursor<'_>> {
        self.file.cursor(section as usize)
    }

    /// The postings of `section`, in memory.
    pub fn entries(&self, section: Section) -> Result<Vec<(u64, u32)>> {
        let bytes = self.file.read(section as usize)?;
        decode_entries(&bytes).ok_or_else(|| self.bad("postings"))
    }

    /// The end offset and hash of each document's text frame.
    pub fn text_table(&self) -> Result<Vec<(u64, u64)>> {
        let bytes = self.file.read(Section::TextTable as usize)?;
        let table: Vec<(u64, u64)> = bytes
            .chunks_exact(16)
            .map(|c| {
                let end = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
                (end, u64::from_le_bytes(c[8..].try_into().expect("8 bytes")))
            })
            .collect();
        let ends_rise = table.windows(2).all(|w| w[0].0 <= w[1].0);
        let fits = table.last().is_none_or(|l| l.0 == self.file.len(Section::Texts as usize));
        if !ends_rise || !fits {
            return Err(self.bad("text table"));
        }
        Ok(table)
    }

    /// The compressed frame of the text of local document `i`, checked.
    pub fn text_frame(&self, table: &[(u64, u64)], i: usize) -> Result<Vec<u8>> {
        let start = if i == 0 { 0 } else { table[i - 1].0 };
        let (end, hash) = table[i];
        let frame = self.file.read_range(Section::Texts as usize, start, end - start)?;
        if xxhash_rust::xxh3::xxh3_64(&frame) != hash {
            return Err(Error::Index(format!(
                "{}: checksum mismatch in the text of document {}: the file is damaged",
                self.path().display(),
                self.meta.first_doc as usize + i
            )));
        }
        Ok(frame)
    }

    /// The texts of local documents `locals`, in that order.
    pub fn texts(&self, locals: &[u32]) -> Result<Vec<String>> {
        let table = self.text_table()?;
        locals
            .iter()
            .map(|&i| {
                let i = i as usize;
                if i >= table.len() {
                    return Err(self.bad("document number"));
                }
                let frame = self.text_frame(&table, i)?;
                let bytes = zstd::stream::decode_all(&frame[..]).map_err(|_| self.bad("text"))?;
                String::from_utf8(bytes).map_err(|_| self.bad("text"))
            })
            .collect()
    }

    /// The pairs found when it was added.
    pub fn links(&self) -> Result<Vec<StoredLink>> {
        let bytes = self.file.read(Section::Links as usize)?;
        postcard::from_bytes(&bytes).map_err(|_| self.bad("pairs"))
    }

    /// The report of those pairs, as stored (zstd frames).
    pub fn report_frames(&self) -> Result<Vec<u8>> {
        self.file.read(Section::Report as usize)
    }

    /// Reads every section and checks its checksum, and every text's hash.
    pub fn verify(&self) -> Result<()> {
        self.file.verify()?;
        let table = self.text_table()?;
        (0..table.len()).try_for_each(|i| self.text_frame(&table, i).map(drop))
    }

    /// Reads the whole segment.
    pub fn load(&self) -> Result<SegmentData> {
        let all: Vec<u32> = (0..self.meta.docs).collect();
        let report =
            zstd::stream::decode_all(&self.report_frames()?[..]).map_err(|_| self.bad("report"))?;
        Ok(SegmentData {
            first_doc: self.meta.first_doc,
            generation: self.meta.generation,
            docs: self.docs()?,
            texts: self.texts(&all)?,
            bands: self.entries(Section::Bands)?,
            passages: self.entries(Section::Passages)?,
            postings: self.entries(Section::Postings)?,
            links: self.links()?,
            report,
            replaced: self.replaced()?,
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
        sample().write(&path, 42).unwrap();
        assert_eq!(SegmentData::read(&path, 42).unwrap(), sample());
        let err = SegmentData::read(&path, 43).unwrap_err().to_string();
        assert!(err.contains("another configuration"), "{err}");
    }

    #[test]
    fn a_flipped_byte_is_a_checksum_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.nds");
        sample().write(&path, 42).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let err = SegmentData::read(&path, 42).unwrap_err().to_string();
        assert!(err.contains("checksum"), "{err}");
    }
}
