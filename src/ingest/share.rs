//! Splitting the inputs between the workers of a distributed scan.
//!
//! [`DocumentReader::plan`](super::DocumentReader::plan) lists the inputs
//! exactly as a single reader would, then cuts the byte stream of all files,
//! in reading order, into `parts` stretches of the same size. A stretch is
//! one worker's share, so shares in worker order are the input in reading
//! order, and a worker can number its documents once it knows how many the
//! shares before it hold.
//!
//! * An uncompressed JSONL file is split by bytes where the cuts fall; each
//!   piece then starts at the first line that begins in it
//!   ([`InputShare::align_lines`]), the way Hadoop splits text files. Line
//!   numbers (used in error messages and in ids of records without one)
//!   need the lines of the pieces before: each share counts its own, the
//!   workers exchange the counts, and [`InputShare::number_lines`] sets
//!   them.
//! * Any other file (compressed, WARC, text, HTML) cannot be entered in the
//!   middle and goes whole to the share that holds its middle byte. Crawls
//!   come as many such files (a Common Crawl snapshot is 100,000 WARC
//!   files of 1 GB), so shares still come out even.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use super::compress::{Compression, sniff};
use super::reader::Pending;
use super::walk::Kind;
use super::{Origin, RecordError, RecordErrorKind};

/// A stretch of a JSONL file: the lines that start in `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct LineRange {
    /// Which split file of the plan (for exchanging line counts).
    pub file: u32,
    /// First byte (a line start once aligned).
    pub start: u64,
    /// Byte past the end (a line start or the end of file once aligned).
    pub end: u64,
    /// Lines of the file before `start`.
    pub lines_before: u64,
    /// True for the piece at the head of the file.
    pub first: bool,
    /// True once `start` and `end` are moved to line starts.
    pub aligned: bool,
}

impl LineRange {
    /// The bytes of the stretch, from a file opened at its beginning.
    pub fn open(&self, mut file: std::fs::File) -> std::io::Result<Box<dyn Read + Send>> {
        if !self.aligned {
            return Err(std::io::Error::other(
                "a split file was read before its pieces were moved to line starts",
            ));
        }
        file.seek(SeekFrom::Start(self.start))?;
        Ok(Box::new(file.take(self.end - self.start)))
    }
}

/// Lines counted in one share's piece of a split file: what the shares
/// exchange so that each can number its lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitLines {
    /// Which split file.
    pub file: u32,
    /// The share that read the piece.
    pub part: u32,
    /// Line breaks in the piece.
    pub lines: u64,
}

/// The inputs cut into shares, one per worker.
pub struct InputPlan {
    shares: Vec<Vec<Pending>>,
    ignored_files: u64,
    ignored_links: u64,
    digest: u64,
}

/// One worker's share of the inputs, for
/// [`DocumentReader::for_share`](super::DocumentReader::for_share).
pub struct InputShare {
    part: usize,
    pub(super) pending: Vec<Pending>,
    pub(super) ignored_files: u64,
    pub(super) ignored_links: u64,
}

/// Adds a file's place in the plan to its digest.
fn note(digest: &mut Xxh3, path: &Path, numbers: [u64; 3]) {
    digest.update(path.as_os_str().as_encoded_bytes());
    for n in numbers {
        digest.update(&n.to_le_bytes());
    }
}

/// True when `path` holds uncompressed bytes (so it can be entered at any
/// byte); false when it cannot be opened, which reading then reports.
fn is_uncompressed(path: &Path) -> bool {
    let mut head = [0u8; 4];
    let Ok(mut file) = std::fs::File::open(path) else { return false };
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => return false,
        }
    }
    sniff(&head[..got]) == Compression::None
}

impl InputPlan {
    /// Cuts the listed files (`pending`, in reading order) into `parts`
    /// shares.
    pub(super) fn new(
        pending: Vec<Pending>,
        ignored_files: u64,
        ignored_links: u64,
        parts: usize,
    ) -> Self {
        let parts = parts.max(1);
        let size_of = |p: &Pending| match p {
            Pending::File { size, .. } => *size,
            _ => 0,
        };
        let total: u64 = pending.iter().map(size_of).sum::<u64>().max(1);
        // Share `k` holds the bytes from cut(k) to cut(k + 1).
        let cut = |k: usize| (u128::from(total) * k as u128 / parts as u128) as u64;
        let part_at = |byte: u64| {
            ((u128::from(byte) * parts as u128 / u128::from(total)) as usize).min(parts - 1)
        };
        let mut shares: Vec<Vec<Pending>> = (0..parts).map(|_| Vec::new()).collect();
        let mut digest = Xxh3::new();
        digest.update(&(parts as u64).to_le_bytes());
        let (mut at, mut split_files) = (0u64, 0u32);
        for item in pending {
            let size = size_of(&item);
            let (first, last) = (part_at(at), part_at((at + size).saturating_sub(1)));
            match item {
                Pending::File { path, id, kind: Some(Kind::Jsonl), size, lines: None }
                    if size > 0 && first < last && is_uncompressed(&path) =>
                {
                    for (part, share) in shares.iter_mut().enumerate().take(last + 1).skip(first) {
                        let start = cut(part).max(at) - at;
                        let end = cut(part + 1).min(at + size) - at;
                        let lines = LineRange {
                            file: split_files,
                            start,
                            end,
                            lines_before: 0,
                            first: start == 0,
                            aligned: false,
                        };
                        note(&mut digest, &path, [part as u64, start, end]);
                        share.push(Pending::File {
                            path: path.clone(),
                            id: id.clone(),
                            kind: Some(Kind::Jsonl),
                            size,
                            lines: Some(lines),
                        });
                    }
                    split_files += 1;
                }
                item => {
                    let part = part_at(at + size / 2);
                    match &item {
                        Pending::File { path, size, .. } => {
                            note(&mut digest, path, [part as u64, 0, *size])
                        }
                        Pending::Problem(e) => digest.update(e.to_string().as_bytes()),
                        Pending::Stdin => {}
                    }
                    shares[part].push(item);
                }
            }
            at += size;
        }
        InputPlan { shares, ignored_files, ignored_links, digest: digest.digest() }
    }

    /// Number of shares.
    pub fn parts(&self) -> usize {
        self.shares.len()
    }

    /// A hash of the plan: the same on every machine that lists the same
    /// files with the same sizes.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// Share `part` (files ignored while listing are counted in share 0;
    /// a share past the last is empty).
    pub fn into_share(mut self, part: usize) -> InputShare {
        let pending = self.shares.get_mut(part).map(std::mem::take).unwrap_or_default();
        let counted = |n: u64| if part == 0 { n } else { 0 };
        InputShare {
            part,
            pending,
            ignored_files: counted(self.ignored_files),
            ignored_links: counted(self.ignored_links),
        }
    }
}

/// The first line start at or after `at` in a file of `len` bytes.
fn line_start(file: &mut std::fs::File, at: u64, len: u64) -> std::io::Result<u64> {
    if at == 0 || at >= len {
        return Ok(at.min(len));
    }
    file.seek(SeekFrom::Start(at - 1))?;
    let mut reader = BufReader::with_capacity(64 << 10, &mut *file);
    let skipped = reader.skip_until(b'\n')? as u64;
    Ok((at - 1 + skipped).min(len))
}

/// Line breaks in `start..end` of `file`.
fn count_lines(file: &mut std::fs::File, start: u64, end: u64) -> std::io::Result<u64> {
    file.seek(SeekFrom::Start(start))?;
    let mut reader = BufReader::with_capacity(1 << 20, file.take(end - start));
    let mut lines = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', buf).count() as u64;
        let n = buf.len();
        reader.consume(n);
    }
}

impl InputShare {
    /// Which share this is.
    pub fn part(&self) -> usize {
        self.part
    }

    /// Moves each piece of a split file to the lines that start in it and
    /// counts them (a pass over the piece at memory speed, next to the
    /// scan's work on it). A piece that cannot be read becomes the error
    /// reading reports.
    pub fn align_lines(&mut self) -> Vec<SplitLines> {
        let mut counts = Vec::new();
        for item in &mut self.pending {
            let Pending::File { path, lines: Some(lines), .. } = item else { continue };
            let aligned = std::fs::File::open(&*path).and_then(|mut file| {
                let len = file.metadata()?.len();
                let start = line_start(&mut file, lines.start, len)?;
                let end = line_start(&mut file, lines.end, len)?.max(start);
                let breaks = count_lines(&mut file, start, end)?;
                Ok((start, end, breaks))
            });
            match aligned {
                Ok((start, end, breaks)) => {
                    (lines.start, lines.end, lines.aligned) = (start, end, true);
                    counts.push(SplitLines {
                        file: lines.file,
                        part: self.part as u32,
                        lines: breaks,
                    });
                }
                Err(e) => {
                    *item = Pending::Problem(RecordError {
                        origin: Origin::file(path),
                        kind: RecordErrorKind::Unreadable(e),
                    })
                }
            }
        }
        counts
    }

    /// Sets where each split piece's line numbers start, from the counts of
    /// every share.
    pub fn number_lines(&mut self, all: &[SplitLines]) {
        for item in &mut self.pending {
            if let Pending::File { lines: Some(lines), .. } = item {
                lines.lines_before = all
                    .iter()
                    .filter(|c| c.file == lines.file && (c.part as usize) < self.part)
                    .map(|c| c.lines)
                    .sum();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Document, DocumentReader, Input, ReadOptions};
    use super::*;

    /// Every document and error of `inputs`, read share by share as the
    /// workers of a distributed scan read them.
    fn read_in_shares(inputs: &[Input], parts: usize) -> (Vec<Document>, Vec<String>) {
        let options = ReadOptions::default();
        let mut shares: Vec<InputShare> = (0..parts)
            .map(|p| DocumentReader::plan(inputs.to_vec(), &options, parts).unwrap().into_share(p))
            .collect();
        let counts: Vec<SplitLines> = shares.iter_mut().flat_map(|s| s.align_lines()).collect();
        let (mut docs, mut errors) = (Vec::new(), Vec::new());
        for mut share in shares {
            share.number_lines(&counts);
            for item in DocumentReader::for_share(share, options.clone()) {
                match item {
                    Ok(doc) => docs.push(doc),
                    Err(e) => errors.push(e.to_string()),
                }
            }
        }
        (docs, errors)
    }

    /// Each document's place in its file, read back to check it.
    fn places(docs: &[Document]) -> Vec<Option<(u64, u32, u64)>> {
        docs.iter()
            .map(|d| {
                let place = d.place.as_ref()?;
                let file = place.source.open().unwrap();
                assert_eq!(place.source.read_text(&file, place).unwrap(), d.text().unwrap());
                Some((place.offset, place.len, place.line))
            })
            .collect()
    }

    fn summary(docs: &[Document]) -> Vec<(String, String, String)> {
        docs.iter()
            .map(|d| (d.id.clone(), d.text().unwrap_or("").to_owned(), d.origin.to_string()))
            .collect()
    }

    #[test]
    fn shares_read_what_one_reader_reads() {
        let dir = tempfile::tempdir().unwrap();
        let mut jsonl = String::new();
        for i in 0..200 {
            match i % 7 {
                // No id: the id is FILE:LINE, so line numbers must be right.
                0 => jsonl.push_str(&format!("{{\"text\":\"record {i}\"}}\n")),
                1 => jsonl.push('\n'),
                2 => jsonl.push_str("not json\n"),
                3 => jsonl.push_str(&format!(
                    "{{\"id\":\"long{i}\",\"text\":\"{}\"}}\n",
                    "word ".repeat(300)
                )),
                _ => jsonl.push_str(&format!("{{\"id\":\"r{i}\",\"text\":\"record {i}\"}}\n")),
            }
        }
        jsonl.push_str("{\"id\":\"last\",\"text\":\"no final line break\"}");
        std::fs::write(dir.path().join("a.jsonl"), &jsonl).unwrap();
        std::fs::write(dir.path().join("b.txt"), "a text file").unwrap();
        std::fs::write(dir.path().join("c.jsonl"), "{\"id\":\"c\",\"text\":\"small\"}\n").unwrap();
        let inputs = vec![Input::Path(dir.path().to_path_buf())];
        let mut reader = DocumentReader::new(inputs.clone(), ReadOptions::default()).unwrap();
        let (mut want, mut want_errors) = (Vec::new(), Vec::new());
        for item in reader.by_ref() {
            match item {
                Ok(doc) => want.push(doc),
                Err(e) => want_errors.push(e.to_string()),
            }
        }
        assert!(want.len() > 140 && want_errors.len() > 20);
        // Every JSONL record has a place; the text file has none.
        let want_places = places(&want);
        let placed = want_places.iter().filter(|p| p.is_some()).count();
        assert_eq!(placed, want.len() - 1);
        for parts in 1..=9 {
            let (docs, errors) = read_in_shares(&inputs, parts);
            assert_eq!(summary(&docs), summary(&want), "{parts} shares");
            assert_eq!(places(&docs), want_places, "{parts} shares");
            assert_eq!(errors, want_errors, "{parts} shares");
        }
    }

    #[test]
    fn shares_follow_input_order_and_the_plan_is_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["1.txt", "2.txt", "3.txt", "4.txt"] {
            std::fs::write(dir.path().join(name), name.repeat(100)).unwrap();
        }
        let inputs = vec![Input::Path(dir.path().to_path_buf())];
        let options = ReadOptions::default();
        let plan = DocumentReader::plan(inputs.clone(), &options, 2).unwrap();
        let again = DocumentReader::plan(inputs.clone(), &options, 2).unwrap();
        assert_eq!(plan.digest(), again.digest());
        assert_ne!(
            plan.digest(),
            DocumentReader::plan(inputs.clone(), &options, 3).unwrap().digest()
        );
        let ids = |part| {
            let plan = DocumentReader::plan(inputs.clone(), &options, 2).unwrap();
            DocumentReader::for_share(plan.into_share(part), options.clone())
                .map(|d| d.unwrap().id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(0), ["1.txt", "2.txt"]);
        assert_eq!(ids(1), ["3.txt", "4.txt"]);
        // A changed file changes the plan: machines that see different
        // inputs are caught before they scan.
        std::fs::write(dir.path().join("4.txt"), "changed").unwrap();
        assert_ne!(
            plan.digest(),
            DocumentReader::plan(inputs.clone(), &options, 2).unwrap().digest()
        );
        assert!(DocumentReader::plan(vec![Input::Stdin], &options, 2).is_err());
    }
}
