//! The container every index file uses: a header, sections, a checksum.
//!
//! ```text
//! magic (8 bytes) | format version (u32 LE) | kind (u32 LE)
//! config fingerprint (u64 LE) | section count (u32 LE)
//! section lengths (u64 LE each) | sections… | xxh3-64 of all the above (u64 LE)
//! ```
//!
//! The whole file is checked when it is opened: a flipped byte anywhere is
//! a checksum error, never a misread. The format version is checked before
//! anything else is interpreted, so an index written by a newer neardup is
//! refused with a message that says so. The configuration fingerprint ties
//! each file to the sketch settings of its index.
//!
//! Sections are either raw little-endian arrays (postings, large and fixed
//! width: no parsing on read) or `postcard` (records and the manifest).
//! postcard is chosen over bincode, which the design card names, because
//! bincode is flagged unmaintained (RUSTSEC-2025-0141) and its 3.0 release
//! does not compile; postcard's wire format is documented and stable since
//! 1.0, and it is maintained.

use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// First bytes of every index file.
pub const MAGIC: &[u8; 8] = b"NEARDUP\x1a";
/// Version of the file formats written by this build.
pub const FORMAT_VERSION: u32 = 1;

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

/// Writes a file of `kind` with `sections` to `out`.
pub fn encode(kind: FileKind, fingerprint: u64, sections: &[&[u8]]) -> Vec<u8> {
    let body: usize = sections.iter().map(|s| s.len()).sum();
    let mut out = Vec::with_capacity(32 + 8 * sections.len() + body + 8);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(kind as u32).to_le_bytes());
    out.extend_from_slice(&fingerprint.to_le_bytes());
    out.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for s in sections {
        out.extend_from_slice(&(s.len() as u64).to_le_bytes());
    }
    for s in sections {
        out.extend_from_slice(s);
    }
    let sum = xxhash_rust::xxh3::xxh3_64(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}

/// A checked file: its sections.
#[derive(Debug)]
pub struct Decoded {
    /// The configuration fingerprint it was written with.
    pub fingerprint: u64,
    bytes: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

impl Decoded {
    /// Section `i`.
    pub fn section(&self, i: usize) -> &[u8] {
        let (start, end) = self.ranges.get(i).copied().unwrap_or((0, 0));
        &self.bytes[start..end]
    }

    /// Number of sections.
    pub fn sections(&self) -> usize {
        self.ranges.len()
    }
}

/// Checks and splits the bytes of a file that should be of `kind`.
pub fn decode(path: &Path, kind: FileKind, bytes: Vec<u8>) -> Result<Decoded> {
    let bad = |why: String| Error::Index(format!("{}: {why}", path.display()));
    if bytes.len() < 28 || &bytes[..8] != MAGIC {
        return Err(bad("not a neardup index file (bad magic number)".into()));
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "written in index format version {version}; this neardup reads version \
             {FORMAT_VERSION}{}",
            if version > FORMAT_VERSION { " (upgrade neardup)" } else { " (rebuild the index)" }
        )));
    }
    if bytes.len() < 36 {
        return Err(bad("truncated header".into()));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    let stored = u64::from_le_bytes(sum.try_into().expect("8 bytes"));
    if xxhash_rust::xxh3::xxh3_64(body) != stored {
        return Err(bad("checksum mismatch: the file is damaged".into()));
    }
    let found_kind = u32_at(12);
    if found_kind != kind as u32 {
        return Err(bad(format!("holds file kind {found_kind}, expected {}", kind as u32)));
    }
    let fingerprint = u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes"));
    let count = u32_at(24) as usize;
    let mut at = 28usize;
    let table_end = count.checked_mul(8).and_then(|t| t.checked_add(at));
    if table_end.is_none_or(|end| end > body.len()) {
        return Err(bad("damaged section table".into()));
    }
    let mut start = at + 8 * count;
    let mut ranges = Vec::with_capacity(count);
    for _ in 0..count {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        at += 8;
        let end = usize::try_from(len).ok().and_then(|l| start.checked_add(l));
        match end {
            Some(end) if end <= body.len() => {
                ranges.push((start, end));
                start = end;
            }
            _ => return Err(bad("damaged section table".into())),
        }
    }
    Ok(Decoded { fingerprint, bytes, ranges })
}

/// Reads and checks a file.
pub fn read(path: &Path, kind: FileKind) -> Result<Decoded> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(path, kind, bytes)
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

/// The entries of [`encode_entries`]; `None` when the length is not a
/// multiple of 12.
pub fn decode_entries(bytes: &[u8]) -> Option<Vec<(u64, u32)>> {
    if !bytes.len().is_multiple_of(12) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(12)
            .map(|c| {
                let k = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
                let v = u32::from_le_bytes(c[8..].try_into().expect("4 bytes"));
                (k, v)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flipped_byte_is_caught() {
        let file = encode(FileKind::Segment, 7, &[b"abc", b"", b"defgh"]);
        let path = Path::new("x");
        let ok = decode(path, FileKind::Segment, file.clone()).unwrap();
        assert_eq!(
            (ok.section(0), ok.section(1), ok.section(2)),
            (&b"abc"[..], &b""[..], &b"defgh"[..])
        );
        assert_eq!(ok.fingerprint, 7);
        for i in 0..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x20;
            assert!(decode(path, FileKind::Segment, bad).is_err(), "byte {i}");
        }
        for len in 0..file.len() {
            assert!(decode(path, FileKind::Segment, file[..len].to_vec()).is_err());
        }
    }

    #[test]
    fn other_versions_and_kinds_are_refused_by_name() {
        let mut file = encode(FileKind::Manifest, 1, &[b"m"]);
        let err = decode(Path::new("x"), FileKind::Segment, file.clone()).unwrap_err();
        assert!(err.to_string().contains("kind"), "{err}");
        file[8] = 2;
        let err = decode(Path::new("x"), FileKind::Manifest, file).unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
        assert!(err.to_string().contains("upgrade"), "{err}");
    }
}
