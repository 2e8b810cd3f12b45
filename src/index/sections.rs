//! Index files read and written one section at a time.
//!
//! A segment of a large index holds gigabytes of postings and texts; a batch
//! needs a few sections of it, and of the texts only its neighbours'.
//! [`SectionReader`] checks the header when it opens a file and each
//! section's checksum when the section is read, streamed or not, so reading
//! little never means trusting unchecked bytes. [`SectionWriter`] writes
//! sections as they come (a merge of segments never holds them in memory)
//! and fills in the header last, under a temporary name, before the file
//! is flushed and renamed into place.
//!
//! Positioned reads (`pread`) leave the file offset alone, so one open file
//! serves the matcher's parallel readers; an open file also survives a
//! compaction that removes it from the folder (Unix), so a reader that
//! opened an index keeps a consistent view until it is done.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3;

use super::format::{self, FileKind, Header};
use crate::spill::read_exact_at;
use crate::{Error, Result};

/// Bytes read at a time when a section is streamed: a multiple of the
/// 12-byte posting, about 3 MiB.
const CHUNK: usize = 12 << 18;

/// An open index file whose header has been checked.
#[derive(Debug)]
pub struct SectionReader {
    path: PathBuf,
    file: File,
    header: Header,
    file_len: u64,
}

impl SectionReader {
    /// Opens `path`, which must be a file of `kind`, and checks its header
    /// and length.
    pub fn open(path: &Path, kind: FileKind) -> Result<SectionReader> {
        let io = |e| Error::io(path, e);
        let file = File::open(path).map_err(io)?;
        let file_len = file.metadata().map_err(io)?.len();
        let mut start = vec![0u8; (file_len as usize).min(format::header_len(0))];
        read_exact_at(&file, &mut start, 0).map_err(io)?;
        let count = format::check_start(path, kind, &start, file_len)?;
        let mut header = vec![0u8; format::header_len(count)];
        read_exact_at(&file, &mut header, 0).map_err(io)?;
        let header = format::check_header(path, &header, file_len)?;
        Ok(SectionReader { path: path.to_path_buf(), file, header, file_len })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size of the file when it was opened.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// The configuration fingerprint the file was written with.
    pub fn fingerprint(&self) -> u64 {
        self.header.fingerprint
    }

    /// Number of sections.
    pub fn sections(&self) -> usize {
        self.header.sections.len()
    }

    /// Length of section `i` in bytes (0 for a section the file lacks).
    pub fn len(&self, i: usize) -> u64 {
        self.header.sections.get(i).map_or(0, |s| s.len)
    }

    /// Whether section `i` is empty or missing.
    pub fn is_empty(&self, i: usize) -> bool {
        self.len(i) == 0
    }

    /// Section `i`, checked.
    pub fn read(&self, i: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len(i) as usize);
        self.for_each_chunk(i, |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// `len` bytes from `start` inside section `i`, not checked against the
    /// section's checksum: the caller checks them (texts carry their own).
    pub fn read_range(&self, i: usize, start: u64, len: u64) -> Result<Vec<u8>> {
        let span = self.header.sections.get(i).copied();
        let inside = span.filter(|s| start.checked_add(len).is_some_and(|end| end <= s.len));
        let span = inside.ok_or_else(|| {
            Error::Index(format!("{}: damaged table of section {i}", self.path.display()))
        })?;
        let mut buf = vec![0u8; len as usize];
        read_exact_at(&self.file, &mut buf, span.offset + start)
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(buf)
    }

    /// Calls `f` with section `i` in consecutive pieces of at most about
    /// 3 MiB (each a whole number of 12-byte postings). The checksum is
    /// checked after the last piece: the caller must discard what it built
    /// when this returns an error.
    pub fn for_each_chunk(&self, i: usize, mut f: impl FnMut(&[u8]) -> Result<()>) -> Result<()> {
        let Some(span) = self.header.sections.get(i).copied() else { return Ok(()) };
        let mut hasher = Xxh3::new();
        let mut buf = vec![0u8; (span.len as usize).min(CHUNK)];
        let mut done = 0u64;
        while done < span.len {
            let n = ((span.len - done) as usize).min(CHUNK);
            read_exact_at(&self.file, &mut buf[..n], span.offset + done)
                .map_err(|e| Error::io(&self.path, e))?;
            hasher.update(&buf[..n]);
            f(&buf[..n])?;
            done += n as u64;
        }
        if hasher.digest() != span.checksum {
            return Err(format::section_damaged(&self.path, i));
        }
        Ok(())
    }

    /// Calls `f` with every `(key, doc)` posting of section `i`, in order.
    pub fn for_each_entry(&self, i: usize, mut f: impl FnMut(u64, u32)) -> Result<()> {
        if !self.len(i).is_multiple_of(12) {
            return Err(Error::Index(format!(
                "{}: section {i} is not a posting list",
                self.path.display()
            )));
        }
        self.for_each_chunk(i, |chunk| {
            for c in chunk.chunks_exact(format::ENTRY_LEN) {
                let (key, doc) = format::decode_entry(c);
                f(key, doc);
            }
            Ok(())
        })
    }

    /// A cursor over the `(key, doc)` postings of section `i`, for merges
    /// that pull from several files at once.
    pub fn cursor(&self, i: usize) -> Result<EntryCursor<'_>> {
        let span = self.header.sections.get(i).copied().filter(|s| s.len.is_multiple_of(12));
        let span = span.ok_or_else(|| {
            Error::Index(format!("{}: section {i} is not a posting list", self.path.display()))
        })?;
        Ok(EntryCursor {
            file: self,
            section: i,
            span,
            done: 0,
            buf: Vec::new(),
            at: 0,
            hasher: Xxh3::new(),
        })
    }

    /// Reads every section and checks its checksum.
    pub fn verify(&self) -> Result<()> {
        (0..self.sections()).try_for_each(|i| self.for_each_chunk(i, |_| Ok(())))
    }
}

/// Bytes a cursor reads at a time (a multiple of 12): small, because a merge
/// holds one cursor per segment.
const CURSOR_CHUNK: usize = 12 << 14;

/// Postings of one section, pulled one at a time; the section's checksum is
/// checked when the last one has been read (see [`SectionReader::cursor`]).
pub struct EntryCursor<'a> {
    file: &'a SectionReader,
    section: usize,
    span: super::format::SectionSpan,
    done: u64,
    buf: Vec<u8>,
    at: usize,
    hasher: Xxh3,
}

impl EntryCursor<'_> {
    /// The next posting, `None` after the last one (whose section then
    /// passed its checksum).
    pub fn next_entry(&mut self) -> Result<Option<(u64, u32)>> {
        if self.at == self.buf.len() {
            if self.done == self.span.len {
                if self.hasher.digest() != self.span.checksum {
                    return Err(format::section_damaged(&self.file.path, self.section));
                }
                return Ok(None);
            }
            let n = ((self.span.len - self.done) as usize).min(CURSOR_CHUNK);
            self.buf.resize(n, 0);
            read_exact_at(&self.file.file, &mut self.buf, self.span.offset + self.done)
                .map_err(|e| Error::io(&self.file.path, e))?;
            self.hasher.update(&self.buf);
            self.done += n as u64;
            self.at = 0;
        }
        let entry = format::decode_entry(&self.buf[self.at..]);
        self.at += format::ENTRY_LEN;
        Ok(Some(entry))
    }
}

/// A file of a fixed number of sections written one after another.
pub struct SectionWriter {
    path: PathBuf,
    kind: FileKind,
    fingerprint: u64,
    sections: usize,
    out: BufWriter<tempfile::NamedTempFile>,
    table: Vec<(u64, u64)>,
    hasher: Xxh3,
    len: u64,
}

impl SectionWriter {
    /// Starts a file of `kind` with `sections` sections, to be put at
    /// `path` by [`SectionWriter::finish`].
    pub fn create(
        path: &Path,
        kind: FileKind,
        fingerprint: u64,
        sections: usize,
    ) -> Result<SectionWriter> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(format::TEMP_PREFIX)
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, tmp);
        // Room for the header, written last.
        out.write_all(&vec![0u8; format::header_len(sections)]).map_err(|e| Error::io(path, e))?;
        Ok(SectionWriter {
            path: path.to_path_buf(),
            kind,
            fingerprint,
            sections,
            out,
            table: Vec::with_capacity(sections),
            hasher: Xxh3::new(),
            len: 0,
        })
    }

    /// Appends bytes to the current section.
    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.len += bytes.len() as u64;
        self.out.write_all(bytes).map_err(|e| Error::io(&self.path, e))
    }

    /// Appends `(key, doc)` postings to the current section.
    pub fn write_entries(&mut self, entries: &[(u64, u32)]) -> Result<()> {
        self.write(&format::encode_entries(entries))
    }

    /// Ends the current section; the next write starts the next one.
    pub fn end_section(&mut self) {
        self.table.push((self.len, self.hasher.digest()));
        self.hasher = Xxh3::new();
        self.len = 0;
    }

    /// Writes a whole section.
    pub fn section(&mut self, bytes: &[u8]) -> Result<()> {
        self.write(bytes)?;
        self.end_section();
        Ok(())
    }

    /// Writes the header, flushes the file to disk and renames it into
    /// place (then flushes the folder). Returns the file's size.
    pub fn finish(mut self) -> Result<u64> {
        if self.table.len() != self.sections {
            return Err(Error::Index(format!(
                "{}: {} of {} sections written",
                self.path.display(),
                self.table.len(),
                self.sections
            )));
        }
        let io = |e| Error::io(&self.path, e);
        self.out.flush().map_err(io)?;
        let header = format::encode_header(self.kind, self.fingerprint, &self.table);
        let mut tmp = self.out.into_inner().map_err(|e| Error::io(&self.path, e.into_error()))?;
        let file = tmp.as_file_mut();
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&header).map_err(io)?;
        file.sync_all().map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        tmp.persist(&self.path).map_err(|e| Error::io(&self.path, e.error))?;
        format::sync_dir(self.path.parent().unwrap_or(Path::new(".")))?;
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(dir: &Path) -> PathBuf {
        let path = dir.join("f.nds");
        let mut w = SectionWriter::create(&path, FileKind::Segment, 9, 3).unwrap();
        w.section(b"abc").unwrap();
        w.end_section();
        w.write_entries(&[(1, 2), (3, 4)]).unwrap();
        w.write_entries(&[(5, 6)]).unwrap();
        w.end_section();
        w.finish().unwrap();
        path
    }

    #[test]
    fn sections_written_in_pieces_read_back_and_match_the_in_memory_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample(dir.path());
        let r = SectionReader::open(&path, FileKind::Segment).unwrap();
        assert_eq!((r.fingerprint(), r.sections()), (9, 3));
        assert_eq!(r.read(0).unwrap(), b"abc");
        assert!(r.is_empty(1));
        let mut entries = Vec::new();
        r.for_each_entry(2, |k, d| entries.push((k, d))).unwrap();
        assert_eq!(entries, [(1, 2), (3, 4), (5, 6)]);
        assert_eq!(r.read_range(0, 1, 2).unwrap(), b"bc");
        assert!(r.read_range(0, 2, 2).is_err());
        let whole = format::encode(
            FileKind::Segment,
            9,
            &[b"abc", b"", &format::encode_entries(&[(1, 2), (3, 4), (5, 6)])],
        );
        assert_eq!(std::fs::read(&path).unwrap(), whole);
    }

    #[test]
    fn a_flipped_byte_fails_the_open_or_the_section_that_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample(dir.path());
        let good = std::fs::read(&path).unwrap();
        let header = format::header_len(3);
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x04;
            std::fs::write(&path, &bad).unwrap();
            match SectionReader::open(&path, FileKind::Segment) {
                Err(_) => assert!(i < header, "byte {i} in a section failed the open"),
                Ok(r) => {
                    assert!(i >= header, "byte {i} of the header went unnoticed");
                    assert!(r.verify().is_err(), "byte {i}");
                    let section = if i < header + 3 { 0 } else { 2 };
                    let err = r.read(section).unwrap_err().to_string();
                    assert!(err.contains("checksum"), "{err}");
                }
            }
        }
        for len in 0..good.len() {
            std::fs::write(&path, &good[..len]).unwrap();
            assert!(SectionReader::open(&path, FileKind::Segment).is_err(), "length {len}");
        }
    }

    #[test]
    fn an_unfinished_writer_leaves_nothing_under_the_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.nds");
        let mut w = SectionWriter::create(&path, FileKind::Segment, 9, 2).unwrap();
        w.section(b"abc").unwrap();
        assert!(w.finish().is_err());
        assert!(!path.exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
