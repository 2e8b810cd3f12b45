//! [`KeySpill`]: 32-bit keys spread over partitions, to be counted one
//! partition at a time with bounded memory.
//!
//! Counting how often keys occur needs no value beside each key, and a key
//! need not be a whole hash when the count only picks out candidates that
//! are checked again (see [`crate::scan`]'s boilerplate pass): the shingle
//! frequencies of a scan went from `(hash, document)` entries of about 9
//! bytes on disk (see [`super::EntrySpill`]) to 4-byte keys. A partition on
//! disk is an anonymous temporary file of little-endian `u32`s in the order
//! they were pushed. Like an entry spill, a spill kept on disk starts in
//! memory and moves to its files only past a number of keys.
//!
//! Partitions are handed back one at a time, on all threads. A partition
//! larger than the budget is handed back in pieces, each the keys of one
//! range of values, read from its file again for each piece: keys are
//! parts of hashes, so ranges of values split a partition evenly.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use rayon::prelude::*;

use super::blobs::read_exact_at;
use super::{Spill, scratch_io_error};
use crate::{Error, Result};

/// Bytes of a partition's write buffer (4 MiB for 128 partitions).
const WRITE_BUFFER: usize = 32 << 10;
/// Bytes read at once from a partition's file when it is read in pieces.
const READ_CHUNK: usize = 1 << 20;

enum Part {
    Memory(Vec<u32>),
    File { file: File, buf: Vec<u8>, count: u64 },
}

/// 32-bit keys spread over partitions.
pub struct KeySpill {
    parts: Vec<Part>,
    /// Where the partitions go once the spill outgrows memory (`None`: it
    /// stays in memory).
    dir: Option<PathBuf>,
    on_disk: bool,
    /// Keys held in memory before moving to disk.
    memory_keys: u64,
    len: u64,
}

impl std::fmt::Debug for KeySpill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySpill")
            .field("partitions", &self.parts.len())
            .field("len", &self.len)
            .finish()
    }
}

impl KeySpill {
    /// A spill of `partitions` partitions (at least one), kept as `spill`
    /// says; on disk, it holds up to `memory_keys` keys in memory first.
    pub fn new(spill: &Spill, partitions: usize, memory_keys: u64) -> Self {
        let dir = spill.dir().map(PathBuf::from);
        KeySpill {
            parts: (0..partitions.max(1)).map(|_| Part::Memory(Vec::new())).collect(),
            dir,
            on_disk: false,
            memory_keys,
            len: 0,
        }
    }

    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.parts.len()
    }

    /// Keys pushed.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Returns true if and only if nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `key` to `partition`.
    #[inline]
    pub fn push(&mut self, partition: usize, key: u32) -> Result<()> {
        self.len += 1;
        match &mut self.parts[partition] {
            Part::Memory(keys) => {
                keys.push(key);
                if self.len > self.memory_keys && self.dir.is_some() && !self.on_disk {
                    self.move_to_disk()?;
                }
                Ok(())
            }
            Part::File { file, buf, count } => {
                buf.extend_from_slice(&key.to_le_bytes());
                *count += 1;
                if buf.len() >= WRITE_BUFFER {
                    let written = file.write_all(buf);
                    buf.clear();
                    written.map_err(|e| self.io_error(e))?;
                }
                Ok(())
            }
        }
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        scratch_io_error(self.dir.as_deref(), e)
    }

    /// Moves every partition to its own temporary file.
    #[cold]
    fn move_to_disk(&mut self) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        for part in &mut self.parts {
            let Part::Memory(keys) = part else { continue };
            let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
            let mut buf = Vec::with_capacity(WRITE_BUFFER + 4);
            keys.iter().for_each(|k| buf.extend_from_slice(&k.to_le_bytes()));
            *part = Part::File { file, buf, count: keys.len() as u64 };
        }
        self.on_disk = true;
        Ok(())
    }

    /// Calls `f(partition, keys)` for every partition (in no set order, on
    /// all threads), with at most `max_keys` keys at a time: a larger
    /// partition comes in pieces, each holding the keys of one range of
    /// values (all of a key's occurrences come in one piece). `f` may
    /// reorder or empty `keys`.
    pub fn for_each_partition<F>(self, max_keys: usize, f: F) -> Result<()>
    where
        F: Fn(usize, &mut Vec<u32>) -> Result<()> + Sync,
    {
        let dir = self.dir.clone();
        let io_error = |e| scratch_io_error(dir.as_deref(), e);
        let max_keys = max_keys.max(1) as u64;
        self.parts.into_par_iter().enumerate().try_for_each(|(partition, part)| match part {
            Part::Memory(mut keys) if keys.len() as u64 <= max_keys => f(partition, &mut keys),
            Part::Memory(keys) => {
                for range in piece_ranges(keys.len() as u64, max_keys) {
                    let mut piece: Vec<u32> =
                        keys.iter().copied().filter(|k| range.contains(k)).collect();
                    f(partition, &mut piece)?;
                }
                Ok(())
            }
            Part::File { mut file, buf, count } => {
                file.write_all(&buf).map_err(io_error)?;
                let bytes = file.metadata().map_err(io_error)?.len();
                if bytes != count * 4 {
                    return Err(io_error(std::io::Error::other(format!(
                        "a scratch file holds {bytes} bytes, not the {} of its {count} keys",
                        count * 4
                    ))));
                }
                for range in piece_ranges(count, max_keys) {
                    let mut piece = read_keys(&file, bytes, &range).map_err(io_error)?;
                    f(partition, &mut piece)?;
                }
                Ok(())
            }
        })
    }
}

/// The ranges of key values that split `count` keys into pieces of about
/// `max_keys` (one range when they fit).
fn piece_ranges(count: u64, max_keys: u64) -> Vec<std::ops::RangeInclusive<u32>> {
    let pieces = count.div_ceil(max_keys).max(1);
    (0..pieces)
        .map(|i| {
            let start = ((i << 32) / pieces) as u32;
            let end = ((((i + 1) << 32) / pieces) - 1) as u32;
            start..=end
        })
        .collect()
}

/// The keys of a partition file of `bytes` bytes whose values are in
/// `range`.
fn read_keys(
    file: &File,
    bytes: u64,
    range: &std::ops::RangeInclusive<u32>,
) -> std::io::Result<Vec<u32>> {
    let whole = *range == (0..=u32::MAX);
    let mut keys = Vec::with_capacity(if whole { (bytes / 4) as usize } else { 0 });
    let mut chunk = vec![0u8; READ_CHUNK.min(bytes as usize)];
    let mut at = 0u64;
    while at < bytes {
        let n = chunk.len().min((bytes - at) as usize);
        read_exact_at(file, &mut chunk[..n], at)?;
        at += n as u64;
        let values =
            chunk[..n].chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if whole {
            keys.extend(values);
        } else {
            keys.extend(values.filter(|k| range.contains(k)));
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Every `(partition, keys)` handed back, keys sorted, pieces of one
    /// partition merged.
    fn drained(spill: KeySpill, max_keys: usize) -> (Vec<Vec<u32>>, usize) {
        let parts = spill.partitions();
        let out = Mutex::new((vec![Vec::new(); parts], 0usize));
        spill
            .for_each_partition(max_keys, |p, keys| {
                assert!(keys.len() <= max_keys * 11 / 10 + 16, "piece of {}", keys.len());
                let mut out = out.lock().unwrap();
                out.0[p].extend_from_slice(keys);
                out.1 = out.1.max(keys.len());
                Ok(())
            })
            .unwrap();
        let (mut parts, largest) = out.into_inner().unwrap();
        parts.iter_mut().for_each(|p| p.sort_unstable());
        (parts, largest)
    }

    fn keys(n: u32) -> impl Iterator<Item = (usize, u32)> {
        (0..n).map(move |i| {
            let h = crate::hash_lanes::splitmix_finalize(u64::from(i) % (u64::from(n) / 3 + 1));
            ((h >> 62) as usize, h as u32)
        })
    }

    /// A spill of 4 partitions, on disk past 1,000 keys, holding `keys(n)`.
    fn filled(spill: &Spill, n: u32) -> KeySpill {
        let mut s = KeySpill::new(spill, 4, 1000);
        keys(n).try_for_each(|(p, k)| s.push(p, k)).unwrap();
        assert_eq!(s.len(), u64::from(n));
        s
    }

    fn expected(n: u32) -> Vec<Vec<u32>> {
        let mut parts = vec![Vec::new(); 4];
        keys(n).for_each(|(p, k)| parts[p].push(k));
        parts.iter_mut().for_each(|p| p.sort_unstable());
        parts
    }

    #[test]
    fn every_key_comes_back_in_its_partition_in_memory_and_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        for spill in [Spill::Memory, Spill::Dir(dir.path().to_path_buf())] {
            let s = filled(&spill, 50_000);
            let (parts, largest) = drained(s, 1 << 20);
            assert_eq!(parts, expected(50_000), "{spill:?}");
            assert!(largest > 10_000, "{largest}");
        }
    }

    #[test]
    fn a_partition_over_the_budget_comes_in_pieces_that_keep_equal_keys_together() {
        let dir = tempfile::tempdir().unwrap();
        for spill in [Spill::Memory, Spill::Dir(dir.path().to_path_buf())] {
            let s = filled(&spill, 50_000);
            let pieces = Mutex::new(Vec::new());
            s.for_each_partition(2_000, |p, keys| {
                keys.sort_unstable();
                pieces.lock().unwrap().push((p, keys.clone()));
                Ok(())
            })
            .unwrap();
            let pieces = pieces.into_inner().unwrap();
            assert!(pieces.len() > 4 * 5, "{}", pieces.len());
            for (i, (p, a)) in pieces.iter().enumerate() {
                assert!(a.len() <= 2_200 + 64, "{spill:?}: piece of {}", a.len());
                for (q, b) in &pieces[i + 1..] {
                    let disjoint = a.iter().all(|k| b.binary_search(k).is_err());
                    assert!(p != q || disjoint, "{spill:?}: a key in two pieces");
                }
            }
            let mut parts = vec![Vec::new(); 4];
            pieces.into_iter().for_each(|(p, keys)| parts[p].extend(keys));
            parts.iter_mut().for_each(|p| p.sort_unstable());
            assert_eq!(parts, expected(50_000), "{spill:?}");
        }
    }

    #[test]
    fn a_truncated_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = KeySpill::new(&Spill::Dir(dir.path().to_path_buf()), 2, 0);
        (0..100u32).try_for_each(|k| s.push((k % 2) as usize, k)).unwrap();
        if let Part::File { buf, .. } = &mut s.parts[1] {
            buf.pop();
        }
        let err = s.for_each_partition(1 << 10, |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("not the 200 of its 50 keys"), "{err}");
    }
}
