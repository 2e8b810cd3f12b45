//! [`BlobStore`]: an append-only store of byte blobs (texts, shingle sets,
//! raw records), read back by position from any thread.
//!
//! Blobs are appended during a scan's first pass, then read in any order.
//! The store is either an arena in memory or an anonymous temporary file,
//! which the operating system deletes even if the process is killed. The
//! file is read with positional reads (`pread`), so readers share it
//! without locking and the kernel's page cache does the caching.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::Spill;

/// The place of a blob in a store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BlobRef {
    offset: u64,
    len: u32,
}

impl BlobRef {
    /// The blob of `len` bytes at `offset`.
    pub fn new(offset: u64, len: u32) -> Self {
        BlobRef { offset, len }
    }

    /// Where the blob starts in its store.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Length of the blob in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Returns true if and only if the blob is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

enum Backend {
    Memory(Vec<u8>),
    File { writer: Option<BufWriter<File>>, reader: File, path_hint: PathBuf },
}

/// An append-only store of byte blobs.
pub struct BlobStore {
    backend: Backend,
    len: u64,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore").field("len", &self.len).finish()
    }
}

impl Default for BlobStore {
    fn default() -> Self {
        BlobStore::in_memory()
    }
}

impl BlobStore {
    /// A store as chosen by `spill`.
    pub fn new(spill: &Spill) -> crate::Result<Self> {
        match spill {
            Spill::Memory => Ok(Self::in_memory()),
            Spill::Dir(dir) => Self::in_dir(dir),
        }
    }

    /// A store in memory.
    pub fn in_memory() -> Self {
        BlobStore { backend: Backend::Memory(Vec::new()), len: 0 }
    }

    /// A store in an anonymous temporary file in `dir`.
    pub fn in_dir(dir: &Path) -> crate::Result<Self> {
        let file = tempfile::tempfile_in(dir).map_err(|e| crate::Error::io(dir, e))?;
        let reader = file.try_clone().map_err(|e| crate::Error::io(dir, e))?;
        Ok(BlobStore {
            backend: Backend::File {
                writer: Some(BufWriter::with_capacity(1 << 20, file)),
                reader,
                path_hint: dir.to_path_buf(),
            },
            len: 0,
        })
    }

    /// Bytes stored.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Returns true if and only if nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a blob (at most 4 GiB).
    pub fn append(&mut self, bytes: &[u8]) -> crate::Result<BlobRef> {
        let len = u32::try_from(bytes.len()).map_err(|_| {
            crate::Error::Config(format!("a blob of {} bytes is over 4 GiB", bytes.len()))
        })?;
        let at = BlobRef { offset: self.len, len };
        match &mut self.backend {
            Backend::Memory(buf) => buf.extend_from_slice(bytes),
            Backend::File { writer, path_hint, .. } => {
                let w = writer
                    .as_mut()
                    .ok_or_else(|| crate::Error::Config("store already sealed".into()))?;
                w.write_all(bytes).map_err(|e| crate::Error::io(path_hint.as_path(), e))?;
            }
        }
        self.len += u64::from(len);
        Ok(at)
    }

    /// Flushes buffered writes, so that every blob appended so far can be
    /// read; appending may go on.
    pub fn flush(&mut self) -> crate::Result<()> {
        if let Backend::File { writer: Some(w), path_hint, .. } = &mut self.backend {
            w.flush().map_err(|e| crate::Error::io(path_hint.as_path(), e))?;
        }
        Ok(())
    }

    /// Ends the writing phase: flushes buffered writes so that every blob
    /// can be read. Appending afterwards is an error.
    pub fn seal(&mut self) -> crate::Result<()> {
        if let Backend::File { writer, path_hint, .. } = &mut self.backend
            && let Some(mut w) = writer.take()
        {
            w.flush().map_err(|e| crate::Error::io(path_hint.as_path(), e))?;
        }
        Ok(())
    }

    /// Replaces the bytes of a stored blob (same length) after the store was
    /// sealed: fixed-size records that a later pass updates in place.
    pub fn overwrite(&mut self, at: BlobRef, bytes: &[u8]) -> io::Result<()> {
        if bytes.len() != at.len() || at.offset + at.len as u64 > self.len {
            return Err(io::Error::other("overwrite outside the stored blob"));
        }
        match &mut self.backend {
            Backend::Memory(data) => {
                let start = at.offset as usize;
                data[start..start + bytes.len()].copy_from_slice(bytes);
                Ok(())
            }
            Backend::File { writer: Some(_), .. } => {
                Err(io::Error::other("overwrite before the store was sealed"))
            }
            Backend::File { reader, .. } => write_all_at(reader, bytes, at.offset),
        }
    }

    /// Reads a blob into `buf` (replacing its content). The store must be
    /// sealed, or flushed since the blob was appended.
    pub fn read_into(&self, at: BlobRef, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        match &self.backend {
            Backend::Memory(data) => {
                let start = at.offset as usize;
                buf.extend_from_slice(&data[start..start + at.len()]);
                Ok(())
            }
            Backend::File { reader, .. } => {
                buf.resize(at.len(), 0);
                read_exact_at(reader, buf, at.offset)
            }
        }
    }

    /// Reads a blob.
    pub fn read(&self, at: BlobRef) -> io::Result<Vec<u8>> {
        let mut buf = Vec::new();
        self.read_into(at, &mut buf)?;
        Ok(buf)
    }
}

/// Fills `buf` from `file` at `offset` without moving its cursor (shared
/// by every reader of files at positions).
#[cfg(unix)]
pub(crate) fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Fills `buf` from `file` at `offset` without moving its cursor (shared
/// by every reader of files at positions).
#[cfg(windows)]
pub(crate) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn write_all_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

#[cfg(windows)]
fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_write(buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `u64`s as little-endian bytes (the layout of stored shingle sets and
/// token hashes), borrowed where they are when the machine is
/// little-endian.
///
/// There the bytes are the values' own memory: `bytemuck` (the usual crate
/// for casts between plain-data slices, with no `unsafe` here) views the
/// slice as bytes. Every distinct document's set is written this way in the
/// first pass, and every content hash is taken over such a view.
pub fn u64s_as_le_bytes(values: &[u64]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        Cow::Owned(values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

/// Appends `values` as little-endian bytes to `out` (see
/// [`u64s_as_le_bytes`]).
pub fn u64s_to_bytes(values: &[u64], out: &mut Vec<u8>) {
    out.extend_from_slice(&u64s_as_le_bytes(values));
}

/// Little-endian bytes back into `u64`s (a last partial value is ignored).
pub fn bytes_to_u64s(bytes: &[u8]) -> Vec<u64> {
    let mut values = vec![0u64; bytes.len() / 8];
    let whole = &bytes[..values.len() * 8];
    bytemuck::cast_slice_mut::<u64, u8>(&mut values).copy_from_slice(whole);
    // Nothing to do on a little-endian machine; the compiler drops the loop.
    for v in &mut values {
        *v = u64::from_le(*v);
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(mut store: BlobStore) {
        let a = store.append(b"hello").unwrap();
        let empty = store.append(b"").unwrap();
        let b = store.append(&[7u8; 100_000]).unwrap();
        store.seal().unwrap();
        assert_eq!(store.read(a).unwrap(), b"hello");
        assert!(store.read(empty).unwrap().is_empty());
        assert_eq!(store.read(b).unwrap(), vec![7u8; 100_000]);
        assert_eq!(store.len(), 100_005);
        store.overwrite(a, b"HELLO").unwrap();
        assert_eq!(store.read(a).unwrap(), b"HELLO");
        assert!(store.overwrite(a, b"HI").is_err());
    }

    #[test]
    fn memory_and_file_stores_give_back_what_was_stored() {
        round_trip(BlobStore::in_memory());
        let dir = tempfile::tempdir().unwrap();
        round_trip(BlobStore::in_dir(dir.path()).unwrap());
        // The file is anonymous: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn flushed_blobs_are_read_while_appending_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        for mut store in [BlobStore::in_memory(), BlobStore::in_dir(dir.path()).unwrap()] {
            let a = store.append(b"first pass").unwrap();
            store.flush().unwrap();
            let b = store.append(b"second pass").unwrap();
            assert_eq!(store.read(a).unwrap(), b"first pass");
            store.seal().unwrap();
            assert_eq!(store.read(b).unwrap(), b"second pass");
        }
    }

    #[test]
    fn u64s_round_trip_as_little_endian_bytes() {
        let mut bytes = vec![7];
        u64s_to_bytes(&[1, u64::MAX, 0x0102_0304_0506_0708], &mut bytes);
        let expected: Vec<u8> =
            [&[7][..], &[1, 0, 0, 0, 0, 0, 0, 0], &[255; 8], &[8, 7, 6, 5, 4, 3, 2, 1]].concat();
        assert_eq!(bytes, expected, "appended after what was there");
        assert_eq!(bytes_to_u64s(&bytes[1..]), [1, u64::MAX, 0x0102_0304_0506_0708]);
        // A last partial value is ignored; read from any byte offset.
        assert_eq!(bytes_to_u64s(&bytes[1..20]), [1, u64::MAX]);
        assert!(bytes_to_u64s(&bytes[..7]).is_empty());
    }
}
