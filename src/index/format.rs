//! The container every index file uses: a checked header, then sections,
//! each with its own checksum.
//!
//! ```text
//! magic (8 bytes) | format version (u32 LE) | kind (u32 LE)
//! config fingerprint (u64 LE) | section count (u32 LE)
//! per section: length (u64 LE), xxh3-64 of its bytes (u64 LE)
//! xxh3-64 of all the above (u64 LE)
//! sections…
//! ```
//!
//! The header is checked when a file is opened, and the file's length must
//! be what the header says, so a truncated file is refused at once. Each
//! section is checked when it is read: a flipped byte anywhere is a
//! checksum error, never a misread. Per-section checksums let a reader take
//! only the sections it needs from a large segment (the band postings, not
//! the texts) without giving up that guarantee ([`super::sections`]). The
//! format version is checked before anything else is interpreted, so an
//! index written by a newer neardup is refused with a message that says
//! so. The configuration fingerprint ties each file to the sketch settings
//! of its index.
//!
//! Sections are either raw little-endian arrays (postings, large and fixed
//! width: no parsing on read, joinable while streaming) or `postcard`
//! (records and the manifest). postcard is chosen over bincode, which the
//! design card names, because bincode is flagged unmaintained
//! (RUSTSEC-2025-0141) and its 3.0 release does not compile; postcard's
//! wire format is documented and stable since 1.0, and it is maintained.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// First bytes of every index file.
pub const MAGIC: &[u8; 8] = b"NEARDUP\x1a";
/// Version of the file formats written by this build. Version 1 had one
/// checksum for the whole file.
pub const FORMAT_VERSION: u32 = 2;
/// Bytes before the section table.
const FIXED: usize = 28;

/// What an index file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum FileKind {
    /// The list of committed segments.
    Manifest = 1,
    /// One batch of documents.
    Segment = 2,
    /// Cluster ids.
    Clusters = 3,
}

/// Where a section lies in its file and what it must hash to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SectionSpan {
    /// Offset from the start of the file.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
    /// xxh3-64 of its bytes.
    pub checksum: u64,
}

/// A checked header.
#[derive(Clone, Debug)]
pub struct Header {
    /// The configuration fingerprint the file was written with.
    pub fingerprint: u64,
    /// Its sections.
    pub sections: Vec<SectionSpan>,
}

/// Length of the header of a file with `sections` sections.
pub fn header_len(sections: usize) -> usize {
    FIXED + 16 * sections + 8
}

/// The header of a file of `kind` whose sections have these lengths and
/// checksums.
pub fn encode_header(kind: FileKind, fingerprint: u64, table: &[(u64, u64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header_len(table.len()));
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(kind as u32).to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&(table.len() as u32).to_le_bytes());
    for &(len, sum) in table {
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&sum.to_le_bytes());
    }
    let sum = xxhash_rust::xxh3::xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// A whole file of `kind` with `sections`, for files small enough to build
/// in memory.
pub fn encode(kind: FileKind, fingerprint: u64, sections: &[&[u8]]) -> Vec<u8> {
    let table: Vec<(u64, u64)> =
        sections.iter().map(|s| (s.len() as u64, xxhash_rust::xxh3::xxh3_64(s))).collect();
    let mut out = encode_header(kind, fingerprint, &table);
    for s in sections {
        out.extend_from_slice(s);
    }
    out
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// Checks the fixed start of a file (`start` holds at least its first
/// 28 bytes, or the whole file if shorter) and returns the number
/// of sections.
pub fn check_start(path: &Path, kind: FileKind, start: &[u8], file_len: u64) -> Result<usize> {
    let bad = |why: String| Error::Index(format!("{}: {why}", path.display()));
    if start.len() < 12 || &start[..8] != MAGIC {
        return Err(bad("not a neardup index file (bad magic number)".into()));
    }
    let version = u32_at(start, 8);
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "written in index format version {version}; this neardup reads version \
             {FORMAT_VERSION}{}",
            if version > FORMAT_VERSION { " (upgrade neardup)" } else { " (rebuild the index)" }
        )));
    }
    if start.len() < FIXED {
        return Err(bad("truncated header".into()));
    }
    let found_kind = u32_at(start, 12);
    if found_kind != kind as u32 {
        return Err(bad(format!("holds file kind {found_kind}, expected {}", kind as u32)));
    }
    let count = u32_at(start, 24) as usize;
    if header_len(count) as u64 > file_len {
        return Err(bad("truncated header".into()));
    }
    Ok(count)
}

/// Checks a whole header (`header` holds exactly [`header_len`] bytes of a
/// file of `file_len` bytes) and returns it.
pub fn check_header(path: &Path, header: &[u8], file_len: u64) -> Result<Header> {
    let bad = |why: &str| Error::Index(format!("{}: {why}", path.display()));
    let (body, sum) = header.split_at(header.len() - 8);
    if xxhash_rust::xxh3::xxh3_64(body) != u64_at(sum, 0) {
        return Err(bad("checksum mismatch in the header: the file is damaged"));
    }
    let count = u32_at(body, 24) as usize;
    let mut offset = header.len() as u64;
    let mut sections = Vec::with_capacity(count);
    for i in 0..count {
        let at = FIXED + 16 * i;
        let len = u64_at(body, at);
        sections.push(SectionSpan { offset, len, checksum: u64_at(body, at + 8) });
        offset = offset.checked_add(len).ok_or_else(|| bad("damaged section table"))?;
    }
    if offset != file_len {
        return Err(bad(if offset > file_len {
            "truncated: shorter than its header says"
        } else {
            "longer than its header says"
        }));
    }
    Ok(Header { fingerprint: u64_at(body, 16), sections })
}

/// The error of a section whose bytes do not match its checksum.
pub fn section_damaged(path: &Path, i: usize) -> Error {
    Error::Index(format!(
        "{}: checksum mismatch in section {i}: the file is damaged",
        path.display()
    ))
}

/// Start of the name of a file being written (the command line's outputs
/// use the same), removed as a leftover when a writer was killed.
pub const TEMP_PREFIX: &str = ".neardup-";

/// Writes `bytes` to `path` so that the path holds either its old content or
/// all of the new: a temporary file in the same folder is written and
/// flushed to disk, renamed over `path`, and the folder is flushed too.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    sync_dir(dir)
}

/// Flushes a folder's entries (new and renamed files) to disk.
pub fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// `(u64, u32)` entries as raw little-endian records (12 bytes each).
pub fn encode_entries(entries: &[(u64, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 12);
    for &(k, v) in entries {
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Length of one `(u64, u32)` entry of [`encode_entries`].
pub const ENTRY_LEN: usize = 12;

/// The entry at the start of `record` (at least [`ENTRY_LEN`] bytes).
pub fn decode_entry(record: &[u8]) -> (u64, u32) {
    let key = u64::from_le_bytes(record[..8].try_into().expect("8 bytes"));
    (key, u32::from_le_bytes(record[8..12].try_into().expect("4 bytes")))
}

/// The entries of [`encode_entries`]; `None` when the length is not a
/// multiple of 12.
pub fn decode_entries(bytes: &[u8]) -> Option<Vec<(u64, u32)>> {
    bytes
        .len()
        .is_multiple_of(ENTRY_LEN)
        .then(|| bytes.chunks_exact(ENTRY_LEN).map(decode_entry).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_versions_and_kinds_are_refused_by_name() {
        let mut file = encode(FileKind::Manifest, 1, &[b"m"]);
        let len = file.len() as u64;
        let err = check_start(Path::new("x"), FileKind::Segment, &file, len).unwrap_err();
        assert!(err.to_string().contains("kind"), "{err}");
        let newer = FORMAT_VERSION + 1;
        file[8..12].copy_from_slice(&newer.to_le_bytes());
        let err = check_start(Path::new("x"), FileKind::Manifest, &file, len).unwrap_err();
        assert!(err.to_string().contains(&format!("version {newer}")), "{err}");
        assert!(err.to_string().contains("upgrade"), "{err}");
        file[8..12].copy_from_slice(&(FORMAT_VERSION - 1).to_le_bytes());
        let err = check_start(Path::new("x"), FileKind::Manifest, &file, len).unwrap_err();
        assert!(err.to_string().contains("rebuild"), "{err}");
    }
}
