//! [`DocumentReader`]: the documents of many inputs as one stream.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::compress::{Compression, decompressed};
use super::jsonl::JsonlRecords;
use super::place::RecordSource;
use super::share::{InputPlan, InputShare, LineRange};
use super::walk::{self, Kind};
use super::warc::WarcRecords;
use super::{
    Document, Input, Origin, ReadOptions, RecordError, RecordErrorKind, STDIN_NAME, display_path,
    text,
};
use crate::{Error, Result};

/// Counts of what the reader saw besides documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Files opened.
    pub files: u64,
    /// Bytes of document content yielded (HTML as read, not extracted).
    pub bytes: u64,
    /// Files under a directory skipped because their name names no format.
    pub ignored_files: u64,
    /// Symbolic links under a directory, not followed
    /// ([`super::ReadOptions::follow_symlinks`]).
    pub ignored_links: u64,
    /// WARC records that are not documents (requests, metadata, images...).
    pub ignored_records: u64,
}

/// What to read next.
pub(super) enum Pending {
    /// A file (or, with `lines`, a stretch of lines of a JSONL file); its
    /// format, when its name announces one.
    File { path: PathBuf, id: String, kind: Option<Kind>, size: u64, lines: Option<LineRange> },
    /// Standard input.
    Stdin,
    /// A problem found while listing inputs.
    Problem(RecordError),
}

type Stream = Box<dyn BufRead + Send>;

/// A source of many records being read.
enum Records {
    Jsonl(JsonlRecords<Stream>),
    Warc(WarcRecords<Stream>),
}

/// How far the reader got through its inputs, for progress displays.
/// Shared: it can be read from another thread while reading goes on.
#[derive(Clone, Debug)]
pub struct InputProgress {
    read: Arc<AtomicU64>,
    total: Option<u64>,
}

impl InputProgress {
    /// Bytes read from the inputs so far (compressed bytes for compressed
    /// files).
    pub fn read(&self) -> u64 {
        self.read.load(Ordering::Relaxed)
    }

    /// Total size of the input files; `None` when standard input is read.
    pub fn total(&self) -> Option<u64> {
        self.total
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Ids seen so far, kept compactly so that memory stays small per document:
/// 96 bits of an id's 128-bit hash (a false match is about as likely as a
/// hardware error), and where it was first seen, in 24 bytes.
#[derive(Default)]
struct SeenIds {
    /// Low 64 bits of the hash → (next 32 bits, source, line or record).
    first: HashMap<u64, (u32, u32, u64)>,
    sources: Vec<Arc<str>>,
}

impl SeenIds {
    const RECORD: u64 = 1 << 63;

    /// Records `id` at `origin`; returns where it was first seen if it was.
    fn check(&mut self, id: &str, origin: &Origin) -> Option<Origin> {
        let hash = xxhash_rust::xxh3::xxh3_128(id.as_bytes());
        let (key, check) = (hash as u64, (hash >> 64) as u32);
        if let Some(&(seen_check, source, number)) = self.first.get(&key)
            && seen_check == check
        {
            let (line, record) = match number {
                u64::MAX => (None, None),
                n if n & Self::RECORD != 0 => (None, Some(n & !Self::RECORD)),
                n => (Some(n), None),
            };
            return Some(Origin {
                source: Arc::clone(&self.sources[source as usize]),
                line,
                record,
            });
        }
        if self.sources.last().is_none_or(|s| !Arc::ptr_eq(s, &origin.source)) {
            self.sources.push(Arc::clone(&origin.source));
        }
        let number = match (origin.line, origin.record) {
            (Some(line), _) => line,
            (None, Some(record)) => record | Self::RECORD,
            (None, None) => u64::MAX,
        };
        // Two ids that share the 64-bit key but not the check bits: the
        // later one keeps the slot (an earlier repeat of the first would
        // then pass; with 2^-64 odds per pair, accepted).
        self.first.insert(key, (check, (self.sources.len() - 1) as u32, number));
        None
    }
}

/// Streams the documents of several inputs, in order.
pub struct DocumentReader {
    options: ReadOptions,
    queue: VecDeque<Pending>,
    current: Option<Records>,
    seen: SeenIds,
    stats: ReadStats,
    progress: InputProgress,
}

impl DocumentReader {
    /// Prepares to read `inputs`. Fails at once if a named path does not exist
    /// or `-` is given twice; everything else is reported record by record.
    pub fn new(inputs: Vec<Input>, options: ReadOptions) -> Result<Self> {
        if inputs.iter().filter(|i| **i == Input::Stdin).count() > 1 {
            return Err(Error::Config("standard input (-) can be read only once".into()));
        }
        for input in &inputs {
            if let Input::Path(path) = input {
                std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            }
        }
        let mut reader = DocumentReader {
            options,
            queue: VecDeque::new(),
            current: None,
            seen: SeenIds::default(),
            stats: ReadStats::default(),
            progress: InputProgress { read: Arc::default(), total: Some(0) },
        };
        for input in inputs {
            reader.expand(input);
        }
        Ok(reader)
    }

    /// Reads one share of a split input ([`InputPlan`]): its files and
    /// stretches of lines, in order. Ids seen in other shares are not
    /// known here; the caller checks them across shares.
    pub fn for_share(share: InputShare, options: ReadOptions) -> Self {
        let mut reader = DocumentReader {
            options,
            queue: VecDeque::new(),
            current: None,
            seen: SeenIds::default(),
            stats: ReadStats {
                ignored_files: share.ignored_files,
                ignored_links: share.ignored_links,
                ..ReadStats::default()
            },
            progress: InputProgress { read: Arc::default(), total: Some(0) },
        };
        for pending in share.pending {
            if let Pending::File { size, lines, .. } = &pending {
                let size = lines.map_or(*size, |l| l.end - l.start);
                reader.progress.total = reader.progress.total.map(|t| t + size);
            }
            reader.queue.push_back(pending);
        }
        reader
    }

    /// Splits the inputs into `parts` shares of about the same size, for
    /// [`DocumentReader::for_share`].
    pub fn plan(inputs: Vec<Input>, options: &ReadOptions, parts: usize) -> Result<InputPlan> {
        if inputs.contains(&Input::Stdin) {
            return Err(Error::Config(
                "standard input cannot be split between workers: save it to a file".into(),
            ));
        }
        let listed = DocumentReader::new(inputs, options.clone())?;
        let stats = listed.stats;
        Ok(InputPlan::new(listed.queue.into(), stats.ignored_files, stats.ignored_links, parts))
    }

    /// Counts so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// A handle on how far reading got.
    pub fn progress(&self) -> InputProgress {
        self.progress.clone()
    }

    /// Queues the files of one input.
    fn expand(&mut self, input: Input) {
        let mut add_size = |size: u64| {
            if let Some(total) = &mut self.progress.total {
                *total += size;
            }
        };
        match input {
            Input::Stdin => {
                self.progress.total = None;
                self.queue.push_back(Pending::Stdin);
            }
            Input::Path(path) if path.is_dir() => {
                let listing = walk::list_files(&path, self.options.follow_symlinks);
                self.stats.ignored_files += listing.ignored;
                self.stats.ignored_links += listing.links;
                for entry in listing.entries {
                    self.queue.push_back(match entry {
                        walk::Entry::File { path, id, kind, size } => {
                            add_size(size);
                            Pending::File { path, id, kind: Some(kind), size, lines: None }
                        }
                        walk::Entry::Problem { origin, message } => Pending::Problem(RecordError {
                            origin,
                            kind: RecordErrorKind::Walk(message),
                        }),
                    });
                }
            }
            Input::Path(path) => {
                let size = std::fs::metadata(&path).map_or(0, |m| m.len());
                add_size(size);
                let kind = walk::kind_from_name(&path);
                let id = display_path(&path);
                self.queue.push_back(Pending::File { path, id, kind, size, lines: None });
            }
        }
    }

    /// Checks id uniqueness and counts the document.
    fn admit(&mut self, doc: Document) -> std::result::Result<Document, RecordError> {
        if let Some(first) = self.seen.check(&doc.id, &doc.origin) {
            return Err(RecordError {
                kind: RecordErrorKind::DuplicateId { id: doc.id, first },
                origin: doc.origin,
            });
        }
        self.stats.bytes += doc.body.len() as u64;
        Ok(doc)
    }

    /// Opens a stream and starts reading it as `kind` (or what its content
    /// says). Single-document formats yield their document at once.
    /// `file` is the file the stream reads from byte `start` on (`None` for
    /// standard input): the records of an uncompressed JSONL file get their
    /// places in it.
    fn open(
        &mut self,
        reader: impl Read + Send + 'static,
        kind: Option<Kind>,
        source: &str,
        single: Option<(String, Option<String>)>,
        file: Option<(&std::path::Path, u64)>,
    ) -> Option<std::result::Result<Document, RecordError>> {
        let origin = Origin { source: source.into(), line: None, record: None };
        let fail = |e: std::io::Error| RecordError {
            origin: origin.clone(),
            kind: RecordErrorKind::Unreadable(e),
        };
        let (mut stream, compression) = match decompressed(reader, self.options.max_expansion) {
            Ok(opened) => opened,
            Err(e) => return Some(Err(fail(e))),
        };
        let kind = match kind {
            Some(kind) => kind,
            None => match stream.fill_buf() {
                Ok(head) => walk::kind_from_content(head),
                Err(e) => return Some(Err(fail(e))),
            },
        };
        // A stream without a name (standard input) holds records.
        let kind = match (kind, &single) {
            (Kind::Text | Kind::Html, None) => Kind::Jsonl,
            _ => kind,
        };
        let source: std::sync::Arc<str> = source.into();
        match kind {
            Kind::Jsonl => {
                let mut records = JsonlRecords::new(stream, source, self.options.clone());
                if let (Some((path, start)), Compression::None) = (file, compression) {
                    records.read_back_from(Arc::new(RecordSource::new(path, &self.options)), start);
                }
                self.current = Some(Records::Jsonl(records))
            }
            Kind::Warc => {
                self.current =
                    Some(Records::Warc(WarcRecords::new(stream, source, self.options.clone())))
            }
            Kind::Text | Kind::Html => {
                let (id, date) = single.unwrap_or_else(|| (source.to_string(), None));
                return Some(
                    text::read_document(stream, id, kind, origin, date, &self.options)
                        .and_then(|d| self.admit(d)),
                );
            }
        }
        None
    }

    /// The modification time of a file as a date, when asked for.
    fn mtime_date(&self, path: &std::path::Path) -> Option<String> {
        if !self.options.dates_from_mtime {
            return None;
        }
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        jiff::Timestamp::try_from(modified).ok().map(|t| t.to_string())
    }
}

impl Iterator for DocumentReader {
    type Item = std::result::Result<Document, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(records) = &mut self.current {
                let item = match records {
                    Records::Jsonl(r) => r.next(),
                    Records::Warc(r) => r.next(),
                };
                match item {
                    Some(Ok(doc)) => return Some(self.admit(doc)),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {
                        if let Some(Records::Warc(r)) = self.current.take() {
                            self.stats.ignored_records += r.ignored;
                        }
                    }
                }
            }
            let pending = self.queue.pop_front()?;
            let outcome = match pending {
                Pending::Problem(e) => Some(Err(e)),
                Pending::File { path, id, kind, lines, .. } => {
                    // A file split between shares counts once, in the first.
                    self.stats.files += u64::from(lines.is_none_or(|l| l.first));
                    let source = display_path(&path);
                    let opened = std::fs::File::open(&path).and_then(|file| match lines {
                        Some(lines) => lines.open(file),
                        None => Ok(Box::new(file) as Box<dyn Read + Send>),
                    });
                    match opened {
                        Ok(file) => {
                            let date = self.mtime_date(&path);
                            let file =
                                Counting { inner: file, read: Arc::clone(&self.progress.read) };
                            let start = lines.map_or(0, |l| l.start);
                            let first = self.open(
                                file,
                                kind,
                                &source,
                                Some((id, date)),
                                Some((&path, start)),
                            );
                            if let (Some(lines), Some(Records::Jsonl(records))) =
                                (lines, &mut self.current)
                            {
                                records.start_after_line(lines.lines_before);
                            }
                            first
                        }
                        Err(e) => Some(Err(RecordError {
                            origin: Origin::file(&path),
                            kind: RecordErrorKind::Unreadable(e),
                        })),
                    }
                }
                Pending::Stdin => {
                    // Standard input holds records, never a single document.
                    let stdin =
                        Counting { inner: std::io::stdin(), read: Arc::clone(&self.progress.read) };
                    let mut head = std::io::BufReader::new(stdin);
                    let kind = match head.fill_buf() {
                        Ok(bytes)
                            if super::compress::sniff(bytes)
                                == super::compress::Compression::None =>
                        {
                            Some(match walk::kind_from_content(bytes) {
                                Kind::Warc => Kind::Warc,
                                _ => Kind::Jsonl,
                            })
                        }
                        _ => None,
                    };
                    self.open(head, kind, STDIN_NAME, None, None)
                }
            };
            if let Some(item) = outcome {
                return Some(item);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Body;
    use super::*;
    use std::io::Write;

    fn read_all(inputs: Vec<Input>) -> (Vec<Document>, Vec<RecordError>, ReadStats) {
        let mut reader = DocumentReader::new(inputs, ReadOptions::default()).unwrap();
        let (mut docs, mut errors) = (Vec::new(), Vec::new());
        for item in reader.by_ref() {
            match item {
                Ok(d) => docs.push(d),
                Err(e) => errors.push(e),
            }
        }
        (docs, errors, reader.stats())
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn directory_ids_are_relative_paths_and_formats_follow_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.txt"), "bee").unwrap();
        std::fs::write(dir.path().join("sub/a.md"), "ay").unwrap();
        std::fs::write(dir.path().join("sub/c.html"), "<html><body>page</body></html>").unwrap();
        std::fs::write(dir.path().join("d.txt.gz"), gzip(b"zipped text")).unwrap();
        std::fs::write(
            dir.path().join("e.jsonl.gz"),
            gzip(b"{\"id\":\"j\",\"text\":\"from jsonl\"}\n"),
        )
        .unwrap();
        std::fs::write(dir.path().join("skip.bin"), "x").unwrap();
        let (docs, errors, stats) = read_all(vec![Input::Path(dir.path().to_path_buf())]);
        assert!(errors.is_empty(), "{errors:?}");
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["b.txt", "d.txt.gz", "j", "sub/a.md", "sub/c.html"]);
        assert!(matches!(&docs[1].body, Body::Text(t) if t == "zipped text"));
        assert!(matches!(&docs[4].body, Body::Html { .. }));
        assert_eq!(stats.ignored_files, 1);
    }

    #[test]
    fn a_named_file_without_extension_is_sniffed() {
        let dir = tempfile::tempdir().unwrap();
        let warc = dir.path().join("crawl-data");
        let http = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>";
        let record = format!(
            "WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nContent-Length: {}\r\n\r\n{http}\r\n\r\n",
            http.len()
        );
        std::fs::write(&warc, gzip(record.as_bytes())).unwrap();
        let (docs, errors, _) = read_all(vec![Input::Path(warc)]);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(docs[0].id, "urn:uuid:1");
    }

    #[test]
    fn duplicate_ids_are_skipped_and_name_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        std::fs::write(&path, "{\"id\":\"x\",\"text\":\"one\"}\n{\"id\":\"x\",\"text\":\"two\"}\n")
            .unwrap();
        let (docs, errors, _) = read_all(vec![Input::Path(path)]);
        assert_eq!(docs.len(), 1);
        assert_eq!(errors.len(), 1);
        let msg = errors[0].to_string();
        assert!(msg.contains("d.jsonl:2") && msg.contains("d.jsonl:1"), "{msg}");
    }

    #[test]
    fn missing_paths_fail_up_front() {
        let err = DocumentReader::new(
            vec![Input::Path("/definitely/not/here".into())],
            ReadOptions::default(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("/definitely/not/here"));
        assert!(
            DocumentReader::new(vec![Input::Stdin, Input::Stdin], ReadOptions::default()).is_err()
        );
    }
}
