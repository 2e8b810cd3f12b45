//! The on-disk form of an [`EntrySpill`](super::EntrySpill) partition: a
//! file of `(key, value)` entries in the order they were written.
//!
//! An entry is its key (8 bytes, little-endian) followed by the difference
//! between its value and the previous entry's value in the same file,
//! zigzag-encoded as a LEB128 varint (1 to 5 bytes; the first entry's
//! difference is from 0). Spills are filled document by document, so the
//! consecutive entries of a partition mostly come from one document or a
//! nearby one: an entry takes 9 bytes instead of the 12 of a fixed layout,
//! and a scan's scratch writes shrink by an eighth (1M documents: 19.6 →
//! 17.2 GB). That is scratch disk saved, not time: the decoding costs
//! about what the smaller writes save (scan times unchanged within noise).
//! Keys are hashes and stay whole.
//!
//! A file is only ever read back by the spill that wrote it, within one
//! process; it is still checked: one that ends inside an entry or holds
//! another number of entries than were written is an error, not a panic.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};

/// Key bytes plus the longest varint of a 32-bit difference.
const MAX_ENTRY_BYTES: usize = 8 + 5;

/// Writes one partition file.
///
/// The writer keeps its own buffer rather than a `BufWriter`: an entry is
/// written as one fixed 16-byte copy (key and the varint packed into a
/// word) and the buffer's length set back to the entry's, so no call copies
/// a variable length. Spills take one entry per shingle of every document,
/// and the 9-to-13-byte `write_all` of a `BufWriter` (a call to `memmove`
/// that reads back the entry just assembled on the stack) was 5 % of a
/// 100k scan's samples; without it the scan's CPU time fell 4 % (median of
/// 4 interleaved runs, 11.8 → 11.3 s).
pub(super) struct EntryWriter {
    file: File,
    buf: Vec<u8>,
    count: u64,
    last: u32,
}

impl EntryWriter {
    /// A writer of `file` with a write buffer of `capacity` bytes (at least
    /// [`WRITE_SLACK`]).
    pub(super) fn new(file: File, capacity: usize) -> Self {
        let buf = Vec::with_capacity(capacity.max(WRITE_SLACK));
        EntryWriter { file, buf, count: 0, last: 0 }
    }

    /// Appends one entry.
    #[inline]
    pub(super) fn write(&mut self, key: u64, value: u32) -> std::io::Result<()> {
        if self.buf.capacity() - self.buf.len() < WRITE_SLACK {
            self.flush()?;
        }
        let delta = value.wrapping_sub(self.last) as i32;
        let (varint, varint_len) = pack_varint(((delta << 1) ^ (delta >> 31)) as u32);
        let mut entry = [0u8; WRITE_SLACK];
        entry[..8].copy_from_slice(&key.to_le_bytes());
        entry[8..].copy_from_slice(&varint.to_le_bytes());
        let at = self.buf.len();
        self.buf.extend_from_slice(&entry);
        self.buf.truncate(at + 8 + varint_len);
        self.last = value;
        self.count += 1;
        Ok(())
    }

    /// Writes the buffered bytes to the file.
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Flushes the buffer and returns the file and its number of entries.
    pub(super) fn finish(mut self) -> std::io::Result<(File, u64)> {
        self.flush()?;
        Ok((self.file, self.count))
    }

    /// Appends raw bytes, to test how damaged files are read.
    #[cfg(test)]
    pub(super) fn write_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.flush()?;
        self.file.write_all(bytes)
    }
}

/// Bytes an entry is written with: the key and a word for the varint
/// (whose at most 5 bytes the buffer's length keeps).
const WRITE_SLACK: usize = 16;

/// `value` as a LEB128 varint in the low bytes of a word, and its length.
#[inline]
fn pack_varint(mut value: u32) -> (u64, usize) {
    let mut packed = 0u64;
    let mut len = 0;
    while value >= 0x80 {
        packed |= u64::from((value as u8) | 0x80) << (8 * len);
        value >>= 7;
        len += 1;
    }
    packed |= u64::from(value) << (8 * len);
    (packed, len + 1)
}

/// Bytes read from a partition file at a time.
const READ_BYTES: usize = 1 << 20;

/// Calls `f` with every entry of `file`, from its start; `expected` is the
/// number of entries written to it. `buf` is the read buffer, which the
/// caller keeps for its next file: a fresh megabyte for each of the ~400
/// files a 100k scan reads came back from the allocator as new pages, and
/// keeping one took the scan's page faults from a median of 104k to 98k
/// (5 runs each).
pub(super) fn for_each_entry(
    file: &mut File,
    expected: u64,
    buf: &mut Vec<u8>,
    mut f: impl FnMut(u64, u32),
) -> std::io::Result<()> {
    file.seek(SeekFrom::Start(0))?;
    buf.resize(READ_BYTES, 0);
    let (mut start, mut end, mut at_end) = (0, 0, false);
    let mut last = 0u32;
    let mut seen = 0u64;
    loop {
        if !at_end && end - start < MAX_ENTRY_BYTES {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
            while end < buf.len() {
                match file.read(&mut buf[end..]) {
                    Ok(0) => {
                        at_end = true;
                        break;
                    }
                    Ok(n) => end += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if start == end && at_end {
            break;
        }
        // Before the end of the file, only entries that are surely whole in
        // the buffer; at its end, everything left.
        let stop = if at_end { end } else { end - MAX_ENTRY_BYTES + 1 };
        while start < stop {
            let (key, zigzag, used) = decode(&buf[start..end]).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "scratch file ends inside an entry or holds a malformed one",
                )
            })?;
            let delta = ((zigzag >> 1) as i32) ^ -((zigzag & 1) as i32);
            last = last.wrapping_add(delta as u32);
            f(key, last);
            seen += 1;
            start += used;
        }
    }
    if seen != expected {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("scratch file holds {seen} entries, {expected} were written"),
        ));
    }
    Ok(())
}

/// The key, the zigzag value difference and the length of the entry at the
/// start of `bytes`; `None` when `bytes` ends inside it or its varint runs
/// past 32 bits.
#[inline]
fn decode(bytes: &[u8]) -> Option<(u64, u32, usize)> {
    let key = u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?);
    let mut zigzag = 0u32;
    for i in 0..5 {
        let b = *bytes.get(8 + i)?;
        zigzag |= u32::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return (i < 4 || b < 0x10).then_some((key, zigzag, 9 + i));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(entries: &[(u64, u32)], buffer: usize) -> (std::io::Result<()>, Vec<(u64, u32)>) {
        let mut w = EntryWriter::new(tempfile::tempfile().unwrap(), buffer);
        for &(k, v) in entries {
            w.write(k, v).unwrap();
        }
        let (mut file, count) = w.finish().unwrap();
        let mut back = Vec::new();
        let outcome = for_each_entry(&mut file, count, &mut Vec::new(), |k, v| back.push((k, v)));
        (outcome, back)
    }

    proptest! {
        #[test]
        fn entries_come_back_as_written(
            entries in prop::collection::vec((any::<u64>(), any::<u32>()), 0..300),
            buffer in 1usize..64,
        ) {
            let (outcome, back) = round_trip(&entries, buffer);
            prop_assert!(outcome.is_ok());
            prop_assert_eq!(back, entries);
        }
    }

    #[test]
    fn a_buffer_kept_from_a_larger_file_reads_the_next_file_alone() {
        let write = |entries: &[(u64, u32)]| {
            let mut w = EntryWriter::new(tempfile::tempfile().unwrap(), 4096);
            for &(k, v) in entries {
                w.write(k, v).unwrap();
            }
            w.finish().unwrap()
        };
        let large: Vec<(u64, u32)> = (0..5000u64).map(|i| (i * 31, i as u32 * 7)).collect();
        let small = [(1u64, 9u32), (2, 3), (3, 1_000_000)];
        let mut buf = Vec::new();
        for entries in [&large[..], &small[..], &large[..]] {
            let (mut file, count) = write(entries);
            let mut back = Vec::new();
            for_each_entry(&mut file, count, &mut buf, |k, v| back.push((k, v))).unwrap();
            assert_eq!(back, entries);
        }
    }

    #[test]
    fn nearby_values_take_one_byte_and_every_width_round_trips() {
        let mut entries = vec![(1, 5), (2, 5), (3, 6), (4, 4)];
        let mut w = EntryWriter::new(tempfile::tempfile().unwrap(), 64);
        for &(k, v) in &entries {
            w.write(k, v).unwrap();
        }
        let (file, _) = w.finish().unwrap();
        assert_eq!(file.metadata().unwrap().len(), 4 * 9);
        // Differences at each varint width, both signs, and the extremes
        // (a removed passage entry sets the top bit of its value).
        for v in [0, 63, 64, 8191, 8192, 1 << 20, 1 << 27, u32::MAX, 0, 1 << 31, 7] {
            entries.push((u64::from(v) * 3, v));
        }
        let (outcome, back) = round_trip(&entries, 1 << 16);
        outcome.unwrap();
        assert_eq!(back, entries);
    }

    /// A file of `entries` entries (key and value `i`, one byte of
    /// difference each), then `tail`.
    fn damaged(entries: u64, tail: &[u8]) -> (File, u64) {
        let mut w = EntryWriter::new(tempfile::tempfile().unwrap(), 64);
        for i in 0..entries {
            w.write(i, i as u32).unwrap();
        }
        w.write_raw(tail).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn damaged_files_are_errors() {
        for (tail, what) in [
            (&[1u8, 2, 3][..], "ends inside an entry"),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0x80][..], "ends inside an entry"),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x7f][..], "malformed"),
            (&[0, 0, 0, 0, 0, 0, 0, 0, 0][..], "holds 101 entries, 100 were written"),
        ] {
            let (mut file, count) = damaged(100, tail);
            let err = for_each_entry(&mut file, count, &mut Vec::new(), |_, _| {}).unwrap_err();
            assert!(err.to_string().contains(what), "{tail:?}: {err}");
        }
        // A short file: fewer entries than were written.
        let (mut file, count) = damaged(3, &[]);
        let err = for_each_entry(&mut file, count + 1, &mut Vec::new(), |_, _| {}).unwrap_err();
        assert!(err.to_string().contains("holds 3 entries, 4 were written"), "{err}");
    }

    #[test]
    fn entries_across_buffer_refills_are_read_whole() {
        // Over 1 MiB of entries with differences of every width, so that
        // entries straddle the reading buffer's refills.
        let entries: Vec<(u64, u32)> =
            (0..200_000u64).map(|i| (i.wrapping_mul(0x9e37_79b9_7f4a_7c15), mix32(i))).collect();
        let (outcome, back) = round_trip(&entries, 32 << 10);
        outcome.unwrap();
        assert_eq!(back, entries);
    }

    fn mix32(i: u64) -> u32 {
        let spread = super::super::mix(i);
        // Differences of 1 to 5 bytes.
        (spread as u32) >> ((spread >> 32) % 32)
    }
}
