//! [`EntrySpill`]: `(key, value)` entries grouped by key with bounded memory.
//!
//! Grouping by key is the heart of candidate search (band keys, passage
//! fingerprints, candidate pairs) and of boilerplate detection (shingle
//! document frequencies). Held in memory, those entries grow with the text:
//! a 5 GB crawl has about a billion shingles. So entries are spread over
//! partitions as they are produced (the caller picks the partition, usually
//! from the key's hash) and handed back one partition at a time. A partition
//! that holds more entries than the memory budget allows is handed back in
//! several slices; all entries of one group land in the same slice.
//!
//! On disk an entry takes 12 bytes (little-endian key, then value) in an
//! anonymous temporary file per partition.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

use super::Spill;
use crate::{Error, Result};

const ENTRY_BYTES: usize = 12;

enum Part {
    Memory(Vec<(u64, u32)>),
    File { writer: BufWriter<File>, count: u64 },
}

/// Entries spread over partitions, to be grouped one partition at a time.
pub struct EntrySpill {
    parts: Vec<Part>,
    dir: Option<PathBuf>,
    len: u64,
}

impl std::fmt::Debug for EntrySpill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntrySpill")
            .field("partitions", &self.parts.len())
            .field("len", &self.len)
            .finish()
    }
}

impl EntrySpill {
    /// A spill of `partitions` partitions (at least one), kept as `spill` says.
    pub fn new(spill: &Spill, partitions: usize) -> Result<Self> {
        let partitions = partitions.max(1);
        let (parts, dir) = match spill {
            Spill::Memory => ((0..partitions).map(|_| Part::Memory(Vec::new())).collect(), None),
            Spill::Dir(dir) => {
                let parts = (0..partitions)
                    .map(|_| {
                        let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
                        Ok(Part::File {
                            writer: BufWriter::with_capacity(64 << 10, file),
                            count: 0,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                (parts, Some(dir.clone()))
            }
        };
        Ok(EntrySpill { parts, dir, len: 0 })
    }

    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.parts.len()
    }

    /// Entries pushed.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Returns true if and only if nothing was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The partition of a uniformly distributed hash.
    #[inline]
    pub fn partition_of_hash(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.parts.len() as u128) >> 64) as usize
    }

    /// Adds an entry to `partition`.
    #[inline]
    pub fn push(&mut self, partition: usize, key: u64, value: u32) -> Result<()> {
        self.len += 1;
        match &mut self.parts[partition] {
            Part::Memory(v) => v.push((key, value)),
            Part::File { writer, count } => {
                let mut bytes = [0u8; ENTRY_BYTES];
                bytes[..8].copy_from_slice(&key.to_le_bytes());
                bytes[8..].copy_from_slice(&value.to_le_bytes());
                *count += 1;
                if let Err(e) = writer.write_all(&bytes) {
                    return Err(self.io_error(e));
                }
            }
        }
        Ok(())
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        match &self.dir {
            Some(dir) => Error::io(dir, e),
            None => Error::Io { path: "<memory>".into(), source: e },
        }
    }

    /// Hands the entries back, partition by partition, unsorted.
    ///
    /// A partition of more than `max_entries` entries comes in several
    /// slices: an entry goes to slice `mix(group_of(key, value)) % slices`,
    /// so all entries with the same `group_of` come together. Partitions kept
    /// in memory come whole.
    pub fn drain<G, F>(self, max_entries: usize, group_of: G, mut f: F) -> Result<()>
    where
        G: Fn(u64, u32) -> u64,
        F: FnMut(Vec<(u64, u32)>) -> Result<()>,
    {
        let dir = self.dir.clone().unwrap_or_default();
        let fail = |e: std::io::Error| Error::io(&dir, e);
        for part in self.parts {
            match part {
                Part::Memory(entries) => f(entries)?,
                Part::File { writer, count } => {
                    let mut file = writer.into_inner().map_err(|e| fail(e.into_error()))?;
                    let slices = count.div_ceil(max_entries.max(1) as u64).max(1);
                    for slice in 0..slices {
                        file.seek(SeekFrom::Start(0)).map_err(fail)?;
                        let keep =
                            |k: u64, v: u32| slices == 1 || mix(group_of(k, v)) % slices == slice;
                        // Slices are near equal (entries spread by a hash):
                        // room for an even share and a margin, so that the
                        // sort memory follows the data and not the budget.
                        let share = count.div_ceil(slices) as usize;
                        let capacity = if slices == 1 { share } else { share + share / 16 };
                        let entries = read_entries(&mut file, capacity, keep).map_err(fail)?;
                        f(entries)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Reads every entry of `file` for which `keep` is true.
fn read_entries(
    file: &mut File,
    capacity: usize,
    keep: impl Fn(u64, u32) -> bool,
) -> std::io::Result<Vec<(u64, u32)>> {
    let mut out = Vec::with_capacity(capacity);
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = vec![0u8; ENTRY_BYTES * 8192];
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match reader.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if filled % ENTRY_BYTES != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "scratch file ends inside an entry",
            ));
        }
        for entry in buf[..filled].chunks_exact(ENTRY_BYTES) {
            let key = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
            let value = u32::from_le_bytes(entry[8..].try_into().expect("4 bytes"));
            if keep(key, value) {
                out.push((key, value));
            }
        }
        if filled < buf.len() {
            return Ok(out);
        }
    }
}

/// A 64-bit finalizer (splitmix64): spreads keys that are not hashes (pairs
/// of document indices) over partitions, and group keys over slices
/// independently of how they were spread over partitions.
#[inline]
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(spill: EntrySpill, max: usize) -> Vec<Vec<(u64, u32)>> {
        let mut out = Vec::new();
        spill
            .drain(
                max,
                |k, _| k,
                |mut e| {
                    e.sort_unstable();
                    out.push(e);
                    Ok(())
                },
            )
            .unwrap();
        out
    }

    fn fill(spill: &mut EntrySpill) {
        for i in 0..1000u64 {
            let key = i % 37;
            let p = (key as usize) % spill.partitions();
            spill.push(p, key, i as u32).unwrap();
        }
    }

    #[test]
    fn every_entry_comes_back_once_with_its_group_whole() {
        let dir = tempfile::tempdir().unwrap();
        for (spill, max) in [
            (Spill::Memory, 10),
            (Spill::Dir(dir.path().into()), 1_000_000),
            (Spill::Dir(dir.path().into()), 50),
        ] {
            let mut s = EntrySpill::new(&spill, 4).unwrap();
            fill(&mut s);
            assert_eq!(s.len(), 1000);
            let batches = collect(s, max);
            let mut all: Vec<(u64, u32)> = batches.iter().flatten().copied().collect();
            all.sort_unstable();
            let mut expected: Vec<(u64, u32)> = (0..1000u64).map(|i| (i % 37, i as u32)).collect();
            expected.sort_unstable();
            assert_eq!(all, expected);
            // A key never spans two batches.
            for key in 0..37u64 {
                let holding = batches.iter().filter(|b| b.iter().any(|e| e.0 == key)).count();
                assert_eq!(holding, 1, "key {key} with budget {max}");
            }
            if max == 50 {
                assert!(batches.len() > 4, "large partitions are sliced");
            }
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn hashes_spread_over_all_partitions() {
        let s = EntrySpill::new(&Spill::Memory, 8).unwrap();
        let mut seen = [0; 8];
        for i in 0..8000u64 {
            seen[s.partition_of_hash(xxhash_rust::xxh3::xxh3_64(&i.to_le_bytes()))] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800), "{seen:?}");
    }
}
