//! Scratch storage for a scan: what must be read again or grouped later,
//! kept out of memory so that memory does not grow with the size of the text.
//!
//! A scan keeps in memory only a few bytes per document besides its id (see
//! [`crate::scan`]); document records, texts (those that cannot be read
//! again from their input, see [`crate::ingest::place`]), shingle sets and
//! the evidence of related pairs go into [`BlobStore`]s, and the
//! `(key, document)` entries that candidate search groups by key go into
//! [`EntrySpill`]s that are sorted one partition at a time, and the keys
//! that document frequencies are counted from into a [`KeySpill`]. All
//! live either in memory (the library's default, simplest for small
//! inputs) or in anonymous temporary files (the command line's default),
//! which the operating system removes even when the process is killed.
//!
//! No crate was taken for this: the job is append-then-read of byte blobs
//! and a partitioned external sort of compact (key, value) entries, a few hundred
//! lines over `std::fs`, `tempfile` and positional reads. The embedded
//! key-value stores considered (redb, sled) add a B-tree, transactions and
//! a page cache of their own, none of which a scratch area needs.

mod blobs;
mod entries;
mod entry_file;
mod keys;

use std::path::PathBuf;

pub(crate) use blobs::read_exact_at;
pub use blobs::{BlobRef, BlobStore, bytes_to_u64s, u64s_as_le_bytes, u64s_to_bytes};
pub use entries::{EntrySpill, GATHER_ENTRIES, MEMORY_ENTRIES, mix};
pub use keys::KeySpill;

/// An I/O error of a spill's scratch files in `dir` (`None`: a spill in
/// memory, which has none but shares the code paths).
fn scratch_io_error(dir: Option<&std::path::Path>, e: std::io::Error) -> crate::Error {
    match dir {
        Some(dir) => crate::Error::io(dir, e),
        None => crate::Error::Io { path: "<memory>".into(), source: e },
    }
}

/// Where a scan keeps its scratch data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Spill {
    /// In memory.
    #[default]
    Memory,
    /// In anonymous temporary files in this directory.
    Dir(PathBuf),
}

/// Default memory for sorting one batch of scratch entries (bytes).
pub const DEFAULT_SORT_MEMORY: usize = 128 << 20;

/// How a scan may use memory and scratch space.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resources {
    /// Where scratch data goes.
    pub spill: Spill,
    /// Memory for sorting one batch of scratch entries, in bytes. Larger
    /// means fewer passes over the scratch files.
    pub sort_memory: usize,
}

impl Default for Resources {
    fn default() -> Self {
        Resources { spill: Spill::Memory, sort_memory: DEFAULT_SORT_MEMORY }
    }
}

impl Spill {
    /// The folder of the scratch files (`None`: in memory).
    pub fn dir(&self) -> Option<&std::path::Path> {
        match self {
            Spill::Memory => None,
            Spill::Dir(dir) => Some(dir),
        }
    }
}

impl Resources {
    /// Scratch files in `dir`, with the default sort memory.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Resources { spill: Spill::Dir(dir.into()), ..Resources::default() }
    }

    /// The number of `(u64, u32)` entries that fit in the sort memory.
    pub fn sort_entries(&self) -> usize {
        (self.sort_memory / 16).max(64)
    }

    /// An [`EntrySpill`] of `partitions` partitions kept as [`Self::spill`]
    /// says, that holds in memory up to an eighth of the sort budget (and
    /// at most [`MEMORY_ENTRIES`]) before it moves to disk.
    pub fn entry_spill(&self, partitions: usize) -> crate::Result<EntrySpill> {
        let in_memory = (self.sort_entries() as u64 / 8).min(MEMORY_ENTRIES);
        Ok(EntrySpill::new(&self.spill, partitions)?.in_memory_up_to(in_memory))
    }

    /// A [`KeySpill`] of `partitions` partitions kept as [`Self::spill`]
    /// says, that holds in memory up to an eighth of the sort budget (and
    /// at most [`MEMORY_ENTRIES`] keys) before it moves to disk.
    pub fn key_spill(&self, partitions: usize) -> KeySpill {
        let in_memory = (self.sort_keys() as u64 / 8).min(MEMORY_ENTRIES);
        KeySpill::new(&self.spill, partitions, in_memory)
    }

    /// The number of `u32` keys that fit in the sort memory.
    pub fn sort_keys(&self) -> usize {
        (self.sort_memory / 4).max(64)
    }
}
