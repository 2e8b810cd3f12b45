//! Compressed inputs: gzip and zstd streams, recognised by their first bytes.
//!
//! gzip goes through `flate2` (with the pure-Rust `zlib-rs` backend); zstd
//! through the `zstd` crate, the reference library's binding. Crawl files are
//! often gzip streams made of many *members* (one per WARC record).
//! [`RecoveringGzip`] decodes member after member. When one is corrupt, it
//! reports that once, as an [`io::Error`] of kind `InvalidData` carrying a
//! [`CorruptMember`], skips to the next gzip header and goes on. A reader of
//! records can then skip the damaged record instead of losing the rest of the
//! file.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a stream is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    None,
    /// gzip (one or more members).
    Gzip,
    /// Zstandard.
    Zstd,
}

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Recognises compression from the first bytes of a stream.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Decompressed bytes a stream may yield before its expansion limit is
/// checked: small files that compress extremely well (one word repeated)
/// are fine.
pub const EXPANSION_FLOOR: u64 = 64 << 20;

/// Default largest ratio of decompressed to compressed bytes. Text and HTML
/// compress 3–10× with gzip and rarely beyond 30× even with zstd's long
/// window on a corpus full of duplicates; a gzip bomb of zeros reaches
/// 1,000×, and zstd far more.
pub const DEFAULT_MAX_EXPANSION: u64 = 200;

/// A buffered reader of the decompressed content of `reader`, whatever its
/// compression, and what that compression was. Past [`EXPANSION_FLOOR`]
/// bytes, a compressed stream that has grown more than `max_expansion`
/// times (0: no limit) fails with an `InvalidData` error, once, and then
/// ends: a decompression bomb costs bounded time and no memory.
pub fn decompressed<R: Read + Send + 'static>(
    reader: R,
    max_expansion: u64,
) -> io::Result<(Box<dyn BufRead + Send>, Compression)> {
    let compressed = Arc::new(AtomicU64::new(0));
    let counted = CountingSource { inner: reader, read: compressed.clone() };
    let mut raw = BufReader::with_capacity(1 << 16, counted);
    let compression = sniff(raw.fill_buf()?);
    let out: Box<dyn BufRead + Send> = match compression {
        Compression::None => return Ok((Box::new(raw), compression)),
        Compression::Gzip => Box::new(BufReader::with_capacity(1 << 16, RecoveringGzip::new(raw))),
        Compression::Zstd => {
            Box::new(BufReader::with_capacity(1 << 16, zstd::Decoder::with_buffer(raw)?))
        }
    };
    if max_expansion == 0 {
        return Ok((out, compression));
    }
    let limited =
        ExpansionLimit { inner: out, compressed, yielded: 0, max_expansion, tripped: false };
    Ok((Box::new(limited), compression))
}

/// Counts the bytes read from a compressed source.
struct CountingSource<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Ends a decompressed stream that grows too far beyond its compressed
/// size (see [`decompressed`]).
struct ExpansionLimit<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    yielded: u64,
    max_expansion: u64,
    tripped: bool,
}

impl<R: BufRead> BufRead for ExpansionLimit<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.tripped {
            return Ok(&[]);
        }
        if self.yielded > EXPANSION_FLOOR {
            let compressed = self.compressed.load(Ordering::Relaxed).max(1);
            if self.yielded / compressed >= self.max_expansion {
                self.tripped = true;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "decompressed to more than {} times its compressed size ({} MiB from \
                         {} KiB): refused as a likely decompression bomb \
                         (--max-expansion sets the limit)",
                        self.max_expansion,
                        self.yielded >> 20,
                        compressed.div_ceil(1024)
                    ),
                ));
            }
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.yielded += n as u64;
        self.inner.consume(n);
    }
}

impl<R: BufRead> Read for ExpansionLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_through_buffer(self, out)
    }
}

/// `Read::read` for a type whose reading is defined by its `BufRead` side.
pub(super) fn read_through_buffer(reader: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(out.len());
    out[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

/// A corrupt gzip member: where it started in the compressed file and why it
/// could not be decoded.
#[derive(Debug)]
pub struct CorruptMember {
    /// Byte offset of the member in the compressed stream.
    pub offset: u64,
    /// The decoder's complaint.
    pub message: String,
}

impl fmt::Display for CorruptMember {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "corrupt gzip data in the member at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for CorruptMember {}

/// Returns the [`CorruptMember`] inside an I/O error, if that is what it is.
pub fn corrupt_member(err: &io::Error) -> Option<&CorruptMember> {
    err.get_ref().and_then(|e| e.downcast_ref::<CorruptMember>())
}

/// A `BufRead` that counts the bytes consumed.
struct Counting<R> {
    inner: R,
    consumed: u64,
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(out)?;
        self.consumed += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.consumed += n as u64;
        self.inner.consume(n);
    }
}

/// Members up to this size (decompressed) are checked whole before any of
/// their data is handed out; larger ones are streamed.
const VERIFIED_MEMBER_BYTES: usize = 64 << 20;

/// Decodes gzip members one after the other, skipping corrupt ones.
///
/// gzip checks a member's CRC only at its end. So that a record whose data
/// is damaged (but still decodes) is never handed out, each member is
/// decoded whole and released only once its checksum is right, up to
/// 64 MiB; crawl files hold one member per record, far
/// smaller than that. A member larger than the limit (a single-member
/// `.jsonl.gz`) is streamed, and damage in it is reported where it is found.
pub struct RecoveringGzip<R: BufRead> {
    decoder: Option<flate2::bufread::GzDecoder<Counting<R>>>,
    member_start: u64,
    /// Checked output not yet handed out, from `ready_pos`.
    ready: Vec<u8>,
    ready_pos: usize,
    /// The current member is too large to check first: stream it.
    streaming: bool,
    /// The input ended inside a member: reported once `ready` is out.
    truncated: Option<io::Error>,
}

impl<R: BufRead> RecoveringGzip<R> {
    /// Decodes `reader`, which must start with a gzip header.
    pub fn new(reader: R) -> Self {
        let counting = Counting { inner: reader, consumed: 0 };
        RecoveringGzip {
            decoder: Some(flate2::bufread::GzDecoder::new(counting)),
            member_start: 0,
            ready: Vec::new(),
            ready_pos: 0,
            streaming: false,
            truncated: None,
        }
    }

    /// Moves `reader` to the next gzip header; false at the end of input.
    /// `at_member_start`: the reader is still at the corrupt member's own
    /// header, which must be stepped over.
    fn skip_to_next_member(reader: &mut Counting<R>, at_member_start: bool) -> io::Result<bool> {
        // A magic split across two buffers is missed; the member after it is
        // then found instead.
        let mut skip = usize::from(at_member_start);
        loop {
            let (len, found) = {
                let buf = reader.fill_buf()?;
                if buf.is_empty() {
                    return Ok(false);
                }
                let from = skip.min(buf.len());
                (buf.len(), memchr::memmem::find(&buf[from..], &GZIP_MAGIC).map(|p| from + p))
            };
            skip = 0;
            match found {
                Some(pos) => {
                    reader.consume(pos);
                    return Ok(true);
                }
                None => reader.consume(len),
            }
        }
    }

    /// Starts the member after the current one; false at the end of input.
    fn next_member(&mut self) -> io::Result<bool> {
        let mut inner = self.decoder.take().map(|d| d.into_inner()).expect("decoder present");
        self.streaming = false;
        if inner.fill_buf()?.is_empty() {
            return Ok(false);
        }
        self.member_start = inner.consumed;
        self.decoder = Some(flate2::bufread::GzDecoder::new(inner));
        Ok(true)
    }

    /// Handles a member that failed to decode; returns the error to report.
    ///
    /// Damage in the middle of the input drops the member's data and moves
    /// to the next member. A member cut short by the end of the input (a
    /// truncated file) keeps the data decoded before the cut, which is
    /// exact, and reports the truncation after it.
    fn corrupt(&mut self, e: &io::Error) -> io::Result<Option<io::Error>> {
        let mut inner = self.decoder.take().map(|d| d.into_inner()).expect("decoder present");
        self.streaming = false;
        let corrupt = CorruptMember { offset: self.member_start, message: e.to_string() };
        let error = io::Error::new(io::ErrorKind::InvalidData, corrupt);
        if inner.fill_buf()?.is_empty() {
            if self.ready_pos < self.ready.len() {
                self.truncated = Some(error);
                return Ok(None);
            }
            return Ok(Some(error));
        }
        self.ready.clear();
        self.ready_pos = 0;
        let at_member_start = inner.consumed == self.member_start;
        if Self::skip_to_next_member(&mut inner, at_member_start)? {
            self.member_start = inner.consumed;
            self.decoder = Some(flate2::bufread::GzDecoder::new(inner));
        }
        Ok(Some(error))
    }

    /// Decodes the current member into `ready`, until its end (checked) or
    /// until it proves too large to check first.
    fn fill_member(&mut self) -> io::Result<MemberFill> {
        let decoder = self.decoder.as_mut().expect("decoder present");
        let mut chunk = [0u8; 1 << 16];
        loop {
            match decoder.read(&mut chunk) {
                Ok(0) => return Ok(MemberFill::Complete),
                Ok(n) => {
                    self.ready.extend_from_slice(&chunk[..n]);
                    if self.ready.len() > VERIFIED_MEMBER_BYTES {
                        return Ok(MemberFill::TooLarge);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// How far [`RecoveringGzip::fill_member`] got.
enum MemberFill {
    Complete,
    TooLarge,
}

impl<R: BufRead> Read for RecoveringGzip<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.ready_pos < self.ready.len() {
                let n = out.len().min(self.ready.len() - self.ready_pos);
                out[..n].copy_from_slice(&self.ready[self.ready_pos..self.ready_pos + n]);
                self.ready_pos += n;
                if self.ready_pos == self.ready.len() {
                    self.ready.clear();
                    self.ready_pos = 0;
                }
                return Ok(n);
            }
            if let Some(error) = self.truncated.take() {
                return Err(error);
            }
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(0);
            };
            if self.streaming {
                match decoder.read(out) {
                    Ok(0) => {
                        if !self.next_member()? {
                            return Ok(0);
                        }
                    }
                    Ok(n) => return Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => match self.corrupt(&e)? {
                        Some(error) => return Err(error),
                        None => continue,
                    },
                }
                continue;
            }
            match self.fill_member() {
                Ok(MemberFill::TooLarge) => self.streaming = true,
                Ok(MemberFill::Complete) => {
                    // Checked: hand out what it held, then go on with the
                    // next member.
                    if !self.next_member()? && self.ready.is_empty() {
                        return Ok(0);
                    }
                }
                Err(e) => match self.corrupt(&e)? {
                    Some(error) => return Err(error),
                    None => continue,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression as Level;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Level::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn read_all_reporting(r: &mut impl Read) -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut errors) = (Vec::new(), Vec::new());
        let mut buf = [0u8; 7];
        loop {
            match r.read(&mut buf) {
                Ok(0) => return (out, errors),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => errors.push(corrupt_member(&e).expect("a corrupt member").offset),
            }
        }
    }

    #[test]
    fn sniffs_formats() {
        assert_eq!(sniff(&gzip(b"x")), Compression::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd, 0]), Compression::Zstd);
        assert_eq!(sniff(b"WARC/1.0"), Compression::None);
    }

    #[test]
    fn reads_all_members() {
        let mut data = gzip(b"first member\n");
        data.extend(gzip(b"second member\n"));
        let (out, errors) = read_all_reporting(&mut RecoveringGzip::new(&data[..]));
        assert_eq!(out, b"first member\nsecond member\n");
        assert!(errors.is_empty());
    }

    #[test]
    fn skips_a_corrupt_member_and_goes_on() {
        let first = gzip(b"one\n");
        let mut second = gzip(&b"two two two two two two two two\n".repeat(20));
        let len = second.len();
        second[len / 2] ^= 0xff; // damage the compressed data
        second[len / 2 + 1] ^= 0x55;
        let third = gzip(b"three\n");
        let data = [first.clone(), second, third].concat();
        let (out, errors) = read_all_reporting(&mut RecoveringGzip::new(&data[..]));
        assert_eq!(errors, [first.len() as u64]);
        assert!(out.starts_with(b"one\n"));
        assert!(out.ends_with(b"three\n"));
    }

    #[test]
    fn a_member_failing_its_checksum_gives_none_of_its_data() {
        // Stored (uncompressed) blocks: a flipped byte still decodes, and
        // only the CRC at the end of the member shows the damage.
        let stored = |data: &[u8]| {
            let mut e = GzEncoder::new(Vec::new(), Level::none());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        };
        let first = stored(b"one\n");
        let mut second = stored(b"two, damaged\n");
        let at = second.windows(3).position(|w| w == b"two").unwrap();
        second[at] = b'T';
        let data = [first.clone(), second, stored(b"three\n")].concat();
        let (out, errors) = read_all_reporting(&mut RecoveringGzip::new(&data[..]));
        assert_eq!(out, b"one\nthree\n");
        assert_eq!(errors, [first.len() as u64]);
    }

    #[test]
    fn a_truncated_stream_keeps_what_came_before_the_cut() {
        let text = b"some text that will be cut off\n".repeat(2000);
        let data = [gzip(b"whole member\n"), gzip(&text)].concat();
        let cut = &data[..data.len() - 40];
        let (out, errors) = read_all_reporting(&mut RecoveringGzip::new(cut));
        assert_eq!(errors.len(), 1);
        assert!(out.starts_with(b"whole member\nsome text"));
        assert!(out.len() > 13 + text.len() / 2, "{}", out.len());
        assert!(text.starts_with(&out[13..]), "the kept part is exact");
    }

    #[test]
    fn zstd_streams_are_decoded() {
        let compressed = zstd::encode_all(&b"hello zstd\n"[..], 3).unwrap();
        let (mut r, c) =
            decompressed(std::io::Cursor::new(compressed), DEFAULT_MAX_EXPANSION).unwrap();
        assert_eq!(c, Compression::Zstd);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello zstd\n");
    }

    #[test]
    fn a_decompression_bomb_is_refused_once_then_ends() {
        let bomb = gzip(&vec![b'\n'; 96 << 20]);
        assert!(bomb.len() < 200 << 10, "{}", bomb.len());
        let (mut r, _) = decompressed(std::io::Cursor::new(bomb.clone()), 200).unwrap();
        let mut sink = Vec::new();
        let err = r.read_to_end(&mut sink).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("decompression bomb"), "{err}");
        assert!(sink.len() as u64 <= EXPANSION_FLOOR + (1 << 17), "{}", sink.len());
        assert_eq!(r.read(&mut [0u8; 16]).unwrap(), 0, "the stream ends after the error");
        // No limit: the whole stream comes out.
        let (mut r, _) = decompressed(std::io::Cursor::new(bomb), 0).unwrap();
        assert_eq!(io::copy(&mut r, &mut io::sink()).unwrap(), 96 << 20);
    }

    #[test]
    fn a_small_stream_may_compress_extremely_well() {
        let (mut r, _) = decompressed(std::io::Cursor::new(gzip(&vec![b'a'; 1 << 20])), 2).unwrap();
        assert_eq!(io::copy(&mut r, &mut io::sink()).unwrap(), 1 << 20);
    }
}
