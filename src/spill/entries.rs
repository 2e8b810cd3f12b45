//! [`EntrySpill`]: `(key, value)` entries grouped by key with bounded memory.
//!
//! Grouping by key is the heart of candidate search (band keys, passage
//! fingerprints, candidate pairs) and of boilerplate detection (the
//! frequent shingles of each document). Held in memory, those entries grow
//! with the text: a 5 GB crawl has about a billion shingles. So entries are spread over
//! partitions as they are produced (the caller picks the partition, usually
//! from the key's hash) and handed back in batches within the memory
//! budget: small partitions are gathered (up to [`GATHER_ENTRIES`]), large
//! ones split into pieces first (one extra write and read), and all entries
//! of one group land in the same batch. However large the input, a batch
//! never holds more than the budget allows.
//!
//! On disk each partition is an anonymous temporary file of entries, about 9
//! bytes each (see [`super::entry_file`]). A spill kept on disk starts in
//! memory and moves to its files only past [`MEMORY_ENTRIES`] entries, so
//! a small scan creates no files (creating one costs a system call that
//! took 0.2 ms here, and a spill has up to 128 partitions).

use std::fs::File;
use std::path::PathBuf;
use std::sync::mpsc::sync_channel;

use super::entry_file::{EntryWriter, for_each_entry};
use super::{Spill, scratch_io_error};
use crate::{Error, Result};

/// Entries a disk spill holds in memory before it moves to its files
/// (4 MiB).
pub const MEMORY_ENTRIES: u64 = 1 << 18;

/// Entries from which a batch of gathered partitions is handed over
/// without filling the budget (16 MiB of entries).
///
/// A batch's buffer is touched afresh the first time it fills, a page
/// fault a 4 KiB page: gathering 100k documents' shingle frequencies
/// (`(shingle, document)` entries then) into batches of the whole default
/// budget (4M entries) spent 0.37 s of CPU clearing 128 MiB of new pages,
/// which were the scan's peak memory. Batches of at least this many
/// entries still amortize what each batch costs (a parallel sort, a
/// hand-over between threads): in runs taking turns, the 100k scan's median time went
/// 7.73 → 7.32 s and its peak memory from 232–295 to 135–161 MB (a
/// sixteenth of the budget: 128–131 MB, but grouping band entries took up
/// to 0.08 s longer).
pub const GATHER_ENTRIES: usize = 1 << 20;

enum Part {
    Memory(Vec<(u64, u32)>),
    File(EntryWriter),
}

/// Entries spread over partitions, to be grouped one partition at a time.
pub struct EntrySpill {
    parts: Vec<Part>,
    /// Where the partitions go once the spill outgrows memory (`None`: it
    /// stays in memory).
    dir: Option<PathBuf>,
    on_disk: bool,
    /// Entries held in memory before moving to disk.
    memory_entries: u64,
    /// Entries from which [`EntrySpill::drain`] hands gathered partitions
    /// over.
    gather_entries: usize,
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
        let parts = (0..partitions.max(1)).map(|_| Part::Memory(Vec::new())).collect();
        let dir = spill.dir().map(PathBuf::from);
        Ok(EntrySpill {
            parts,
            dir,
            on_disk: false,
            memory_entries: MEMORY_ENTRIES,
            gather_entries: GATHER_ENTRIES,
            len: 0,
        })
    }

    /// Holds at most `entries` entries in memory before moving to disk
    /// (default [`MEMORY_ENTRIES`]; no effect on a spill kept in memory).
    pub fn in_memory_up_to(mut self, entries: u64) -> Self {
        self.memory_entries = entries;
        self
    }

    /// Hands gathered partitions over once a batch holds `entries` entries
    /// (default [`GATHER_ENTRIES`]; a batch still never holds more than
    /// the budget of [`EntrySpill::drain`] allows).
    pub fn gathering_up_to(mut self, entries: usize) -> Self {
        self.gather_entries = entries.max(1);
        self
    }

    /// Moves every partition to its own temporary file.
    #[cold]
    fn move_to_disk(&mut self) -> Result<()> {
        let Some(dir) = &self.dir else { return Ok(()) };
        for part in &mut self.parts {
            let Part::Memory(entries) = part else { continue };
            let file = tempfile::tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
            // 32 KiB: a spill has many partitions (4 MiB of buffers for 128).
            let mut writer = EntryWriter::new(file, 32 << 10);
            for &(key, value) in entries.iter() {
                writer.write(key, value).map_err(|e| Error::io(dir, e))?;
            }
            *part = Part::File(writer);
        }
        self.on_disk = true;
        Ok(())
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
            Part::Memory(v) => {
                v.push((key, value));
                if self.len > self.memory_entries && self.dir.is_some() && !self.on_disk {
                    self.move_to_disk()?;
                }
            }
            Part::File(writer) => {
                if let Err(e) = writer.write(key, value) {
                    return Err(self.io_error(e));
                }
            }
        }
        Ok(())
    }

    fn io_error(&self, e: std::io::Error) -> Error {
        scratch_io_error(self.dir.as_deref(), e)
    }

    /// Hands the entries back in batches, unsorted, calling `f` once per
    /// batch. `f` may reorder or empty the batch.
    ///
    /// A batch holds at most `max_entries / 2` entries: whole partitions
    /// are gathered into one batch while they fit and until it holds
    /// [`GATHER_ENTRIES`], and a partition larger than `max_entries / 2` is
    /// first split, in one pass, into pieces of about an eighth of it by
    /// `mix(group_of(key, value))`, so that all entries with the same
    /// `group_of` stay together. The peak memory of the grouping stages is
    /// thus bounded by the budget at every input size, and below it while
    /// partitions are small. Only a single group larger than a batch makes a
    /// larger batch. Partitions kept in memory come whole.
    ///
    /// A second thread reads the next batch while `f` works on this one:
    /// reading is one core's work, and the sort that usually follows it
    /// in `f` takes all cores, so one waited for the other (reading was 1.0 s
    /// and sorting 0.9 s of the boilerplate stage of a 100k-document scan).
    /// Two batches of half the budget each are alive at once, so memory
    /// stays within `max_entries`; their buffers are reused from batch to
    /// batch (allocating each afresh cost a page fault per 4 KiB: 4 % of
    /// that scan).
    pub fn drain<G, F>(self, max_entries: usize, group_of: G, mut f: F) -> Result<()>
    where
        G: Fn(u64, u32) -> u64 + Send,
        F: FnMut(&mut Vec<(u64, u32)>) -> Result<()>,
    {
        let dir = self.dir.clone().unwrap_or_default();
        let (full_tx, full_rx) = sync_channel::<Vec<(u64, u32)>>(1);
        let (empty_tx, empty_rx) = sync_channel::<Vec<(u64, u32)>>(1);
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                let mut spare = Some(Vec::new());
                let hand_over =
                    |batch: &mut Vec<(u64, u32)>| -> std::result::Result<(), ReadError> {
                        // The second buffer, then each one `f` is done with.
                        let next = match spare.take() {
                            Some(buffer) => buffer,
                            None => empty_rx.recv().map_err(|_| ReadError::Stopped)?,
                        };
                        full_tx.send(std::mem::replace(batch, next)).map_err(|_| ReadError::Stopped)
                    };
                let max = (max_entries / 2).max(1);
                let mut batches = Batches {
                    max,
                    target: max.min(self.gather_entries),
                    remaining: self.len,
                    batch: Vec::new(),
                    dir: &dir,
                    group_of,
                    hand_over,
                    read_buf: Vec::new(),
                };
                for part in self.parts {
                    match part {
                        Part::Memory(entries) => batches.add_entries(entries)?,
                        Part::File(writer) => {
                            let (file, count) = writer.finish().map_err(|e| batches.fail(e))?;
                            batches.add_piece(file, count, 0)?;
                        }
                    }
                }
                batches.flush()
            });
            let mut outcome = Ok(());
            for mut batch in full_rx {
                outcome = f(&mut batch);
                if outcome.is_err() {
                    break;
                }
                batch.clear();
                // The reader may be done and gone: then the buffer is freed.
                let _ = empty_tx.send(batch);
            }
            // Unblocks a reader that waits for a buffer after `f` failed.
            drop(empty_tx);
            let read = match reader.join() {
                Ok(read) => read,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            outcome?;
            match read {
                // Only after `f` failed, which was reported above.
                Ok(()) | Err(ReadError::Stopped) => Ok(()),
                Err(ReadError::Io(e)) => Err(e),
            }
        })
    }
}

/// Why gathering batches ended early.
enum ReadError {
    /// The consumer stopped (on an error it reports itself).
    Stopped,
    /// A scratch file could not be read or written.
    Io(Error),
}

impl From<Error> for ReadError {
    fn from(e: Error) -> Self {
        ReadError::Io(e)
    }
}

/// Levels of splitting before an oversized piece is handed back whole (it
/// then holds a group larger than the budget).
const MAX_SPLIT_LEVELS: usize = 3;
/// Most pieces one split writes at once (each has a 64 KiB write buffer).
const MAX_PIECES: u64 = 256;

/// Gathers partition files into batches within the budget and hands each
/// over; see [`EntrySpill::drain`].
struct Batches<'a, G, H> {
    max: usize,
    /// Entries past which gathered partitions are handed over.
    target: usize,
    /// Entries not yet handed back or gathered.
    remaining: u64,
    batch: Vec<(u64, u32)>,
    dir: &'a std::path::Path,
    group_of: G,
    /// Takes a full batch and leaves an empty buffer (one the consumer
    /// cleared) in its place.
    hand_over: H,
    /// One read buffer for every file this drain reads (see
    /// `for_each_entry`).
    read_buf: Vec<u8>,
}

impl<G, H> Batches<'_, G, H>
where
    G: Fn(u64, u32) -> u64,
    H: FnMut(&mut Vec<(u64, u32)>) -> std::result::Result<(), ReadError>,
{
    fn fail(&self, e: std::io::Error) -> Error {
        Error::io(self.dir, e)
    }

    /// Hands over the gathered batch before `count` more entries join it
    /// if they would not fit or it has reached its target.
    fn make_room(&mut self, count: u64) -> std::result::Result<(), ReadError> {
        if self.batch.len() as u64 + count > self.max as u64 || self.batch.len() >= self.target {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands over the gathered batch, if any.
    fn flush(&mut self) -> std::result::Result<(), ReadError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        (self.hand_over)(&mut self.batch)
    }

    /// Gathers a partition held in memory (handed back alone when it is
    /// over the budget by itself).
    fn add_entries(&mut self, entries: Vec<(u64, u32)>) -> std::result::Result<(), ReadError> {
        let count = entries.len() as u64;
        self.remaining -= count;
        self.make_room(count)?;
        if self.batch.is_empty() {
            self.batch = entries;
        } else {
            self.batch.extend_from_slice(&entries);
        }
        Ok(())
    }

    /// Gathers the `count` entries of `file`, splitting it first if it is
    /// larger than a batch.
    fn add_piece(
        &mut self,
        mut file: File,
        count: u64,
        level: usize,
    ) -> std::result::Result<(), ReadError> {
        if count == 0 {
            return Ok(());
        }
        let max = self.max as u64;
        if count > max && level < MAX_SPLIT_LEVELS {
            let pieces = self.split(&mut file, count, level)?;
            drop(file);
            for (piece, piece_count) in pieces {
                self.add_piece(piece, piece_count, level + 1)?;
            }
            return Ok(());
        }
        self.make_room(count)?;
        if self.batch.is_empty() {
            // Room for a full batch, or for all that is left if that is less
            // (the buffer of the previous batch is kept when it is enough).
            let room = self.remaining.min(max).max(count) as usize;
            self.batch.reserve_exact(room);
        }
        self.remaining -= count;
        let batch = &mut self.batch;
        for_each_entry(&mut file, count, &mut self.read_buf, |key, value| batch.push((key, value)))
            .map_err(|e| ReadError::Io(Error::io(self.dir, e)))
    }

    /// Splits the `count` entries of `file` into pieces of about an eighth
    /// of the budget each, by group.
    fn split(&mut self, file: &mut File, count: u64, level: usize) -> Result<Vec<(File, u64)>> {
        let n = count.div_ceil((self.max as u64 / 8).max(1)).clamp(2, MAX_PIECES);
        let mut writers = (0..n)
            .map(|_| {
                let file = tempfile::tempfile_in(self.dir).map_err(|e| self.fail(e))?;
                Ok(EntryWriter::new(file, 64 << 10))
            })
            .collect::<Result<Vec<_>>>()?;
        // A salt per level, so that a piece is not split the way its parent
        // partition or piece was.
        let salt = SPLIT_SALTS[level];
        let mut written = Ok(());
        let group_of = &self.group_of;
        for_each_entry(file, count, &mut self.read_buf, |key, value| {
            let piece = (mix(group_of(key, value) ^ salt) % n) as usize;
            if written.is_ok() {
                written = writers[piece].write(key, value);
            }
        })
        .and(written)
        .map_err(|e| self.fail(e))?;
        writers.into_iter().map(|writer| writer.finish().map_err(|e| self.fail(e))).collect()
    }
}

/// Salts of the split levels (arbitrary odd constants).
const SPLIT_SALTS: [u64; MAX_SPLIT_LEVELS] =
    [0x9e37_79b9_7f4a_7c15, 0xc2b2_ae3d_27d4_eb4f, 0x1656_67b1_9e37_79f9];

/// A 64-bit finalizer (splitmix64): spreads keys that are not hashes (pairs
/// of document indices) over partitions, and group keys over slices
/// independently of how they were spread over partitions.
#[inline]
pub fn mix(x: u64) -> u64 {
    crate::hash_lanes::splitmix_finalize(x)
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
                |e| {
                    e.sort_unstable();
                    out.push(std::mem::take(e));
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
            (Spill::Dir(dir.path().into()), 100),
        ] {
            let mut s = EntrySpill::new(&spill, 4).unwrap().in_memory_up_to(100);
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
            if max == 100 {
                assert!(batches.len() > 4, "large partitions are split");
                // Groups are 27 or 28 entries, smaller than a batch (half
                // the budget: two batches are alive at once).
                assert!(batches.iter().all(|b| b.len() <= 50), "batches within half the budget");
            }
            if max == 1_000_000 {
                assert_eq!(batches.len(), 1, "small partitions are gathered");
            }
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    /// A spill on disk in `dir` holding 20,000 entries with hashed keys.
    fn hashed_spill(dir: &std::path::Path, partitions: usize) -> EntrySpill {
        let mut s =
            EntrySpill::new(&Spill::Dir(dir.into()), partitions).unwrap().in_memory_up_to(0);
        for i in 0..20_000u64 {
            let key = mix(i);
            s.push(s.partition_of_hash(key), key, i as u32).unwrap();
        }
        s
    }

    #[test]
    fn batches_fill_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let s = hashed_spill(dir.path(), 4);
        let batches = collect(s, 1000);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 20_000);
        let (last, full) = batches.split_last().unwrap();
        assert!(!last.is_empty());
        for b in full {
            assert!((250..=500).contains(&b.len()), "batch of {} entries", b.len());
        }
    }

    #[test]
    fn gathering_stops_at_its_target() {
        let dir = tempfile::tempdir().unwrap();
        // Four partitions of about 5,000 entries, a budget they all fit in.
        let s = hashed_spill(dir.path(), 4).gathering_up_to(6_000);
        let batches = collect(s, 1_000_000);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 20_000);
        // Two partitions reach the target; one alone does not.
        assert_eq!(batches.len(), 2, "{:?}", batches.iter().map(Vec::len).collect::<Vec<_>>());
        assert!(batches.iter().all(|b| (6_000..=14_000).contains(&b.len())));
    }

    #[test]
    fn a_failing_consumer_stops_the_reading() {
        let dir = tempfile::tempdir().unwrap();
        let s = hashed_spill(dir.path(), 8);
        let mut seen = 0;
        let outcome = s.drain(
            1000,
            |k, _| k,
            |_| {
                seen += 1;
                if seen == 2 { Err(Error::Config("stop here".into())) } else { Ok(()) }
            },
        );
        assert!(matches!(outcome, Err(Error::Config(m)) if m == "stop here"));
        assert_eq!(seen, 2, "no batch is handed over after the error");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_failing_read_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = EntrySpill::new(&Spill::Dir(dir.path().into()), 2).unwrap().in_memory_up_to(0);
        for i in 0..100u64 {
            s.push(0, i, 1).unwrap();
        }
        // A partition file that ends inside an entry.
        let Part::File(writer) = &mut s.parts[0] else { panic!("on disk") };
        writer.write_raw(&[1, 2, 3]).unwrap();
        let mut handed = 0;
        let outcome = s.drain(
            1000,
            |k, _| k,
            |_| {
                handed += 1;
                Ok(())
            },
        );
        let message = outcome.unwrap_err().to_string();
        assert!(message.contains("ends inside an entry"), "{message}");
        assert_eq!(handed, 0);
    }

    #[test]
    fn a_group_larger_than_the_budget_comes_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = EntrySpill::new(&Spill::Dir(dir.path().into()), 2).unwrap().in_memory_up_to(0);
        for i in 0..300u32 {
            // Key 7 has 200 entries; the others one each.
            let key = if i < 200 { 7 } else { u64::from(i) };
            s.push(s.partition_of_hash(mix(key)), key, i).unwrap();
        }
        let batches = collect(s, 50);
        let holding: Vec<&Vec<(u64, u32)>> =
            batches.iter().filter(|b| b.iter().any(|e| e.0 == 7)).collect();
        assert_eq!(holding.len(), 1);
        assert_eq!(holding[0].iter().filter(|e| e.0 == 7).count(), 200);
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), 300);
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
