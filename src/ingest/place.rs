//! Where a record can be read again: its byte range in an input file.
//!
//! A scan needs the text of some documents a second time (boilerplate,
//! evidence, the rewrite verifier), long after the reader has moved on.
//! Keeping every text in scratch storage writes a copy of the whole corpus:
//! on a 1M-document JSONL corpus that was 3.5 of the 14.9 GB a scan wrote,
//! and writing to the page cache costs CPU time that grows with memory
//! pressure. A record of an uncompressed JSONL file is instead found again
//! where it was read, by its [`RecordPlace`], and parsed again with the
//! same options. Compressed streams and standard input cannot be read at
//! an offset; their records carry no place, and their texts are stored.
//!
//! The file may change between the two reads. The caller keeps a hash of
//! the text it read first and checks the text it reads back against it
//! ([`text_check`]), so a changed input is an error naming the file and
//! line, never a wrong comparison.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ReadOptions;
use super::jsonl::parse_record;
use crate::spill::read_exact_at;

/// An uncompressed JSONL input whose records can be read again.
#[derive(Debug)]
pub struct RecordSource {
    path: PathBuf,
    options: ReadOptions,
}

impl RecordSource {
    pub(super) fn new(path: &Path, options: &ReadOptions) -> Self {
        RecordSource { path: path.to_owned(), options: options.clone() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the file for [`RecordSource::read_text`].
    pub fn open(&self) -> io::Result<File> {
        File::open(&self.path)
    }

    /// The text of the record at `place` (whose source is this one), read
    /// from `file` (opened with [`RecordSource::open`]) and parsed as when
    /// it was first read.
    pub fn read_text(&self, file: &File, place: &RecordPlace) -> io::Result<String> {
        let mut line = vec![0; place.len as usize];
        read_exact_at(file, &mut line, place.offset)?;
        let record = parse_record(&line, &self.options).map_err(|kind| {
            io::Error::other(format!("line {} no longer holds the record read: {kind}", place.line))
        })?;
        Ok(record.text)
    }
}

impl PartialEq for RecordSource {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path && self.options == other.options
    }
}

impl Eq for RecordSource {}

/// The bytes of one record in its source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordPlace {
    /// The file.
    pub source: Arc<RecordSource>,
    /// First byte of the record's line.
    pub offset: u64,
    /// Length of the line without its line break.
    pub len: u32,
    /// 1-based line number, for messages.
    pub line: u64,
}

/// The check kept beside a place: the xxh3 hash of the text, so that a text
/// read back is known to be the one compared.
pub fn text_check(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::super::{Document, DocumentReader, Input};
    use super::*;

    fn read(path: &Path, options: ReadOptions) -> Vec<Document> {
        DocumentReader::new(vec![Input::Path(path.to_owned())], options)
            .unwrap()
            .filter_map(Result::ok)
            .collect()
    }

    fn read_back(doc: &Document) -> String {
        let place = doc.place.as_ref().expect("a place");
        place.source.read_text(&place.source.open().unwrap(), place).unwrap()
    }

    #[test]
    fn records_of_a_plain_file_are_read_back_from_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let bytes: &[u8] =
            b"{\"id\":\"a\",\"text\":\"caf\xe9 \\u00e9\"}\r\n\n  \n{\"text\":\"x\\ny\"}";
        std::fs::write(&path, bytes).unwrap();
        let lossy = ReadOptions { lossy_utf8: true, ..ReadOptions::default() };
        let docs = read(&path, lossy);
        assert_eq!(docs.len(), 2);
        for doc in &docs {
            assert_eq!(read_back(doc), doc.text().unwrap());
        }
        let places: Vec<_> =
            docs.iter().map(|d| d.place.as_ref().map(|p| (p.offset, p.len, p.line))).collect();
        // The first line keeps its carriage return; the last has no break.
        assert_eq!(places, [Some((0, 32, 1)), Some((37, 15, 4))]);
        assert_eq!(docs[1].place.as_ref().unwrap().source.path(), path);
    }

    #[test]
    fn compressed_records_have_no_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"id\":\"a\",\"text\":\"one\"}\n").unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let docs = read(&path, ReadOptions::default());
        assert_eq!(docs.len(), 1);
        assert!(docs[0].place.is_none());
    }

    #[test]
    fn a_line_that_no_longer_parses_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        std::fs::write(&path, "{\"text\":\"one\"}\n").unwrap();
        let docs = read(&path, ReadOptions::default());
        std::fs::write(&path, "{\"text\":1234567}\n").unwrap();
        let place = docs[0].place.as_ref().unwrap();
        let err = place.source.read_text(&place.source.open().unwrap(), place).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
