//! Stage 1 of the pipeline: inputs → [`Document`]s.
//!
//! An input is a file, a directory (walked recursively, in sorted order) or
//! standard input. Plain text and Markdown files are one document each; a
//! JSONL file holds one document per line. [`DocumentReader`] streams the
//! documents of all inputs in a fixed order and yields a [`RecordError`] in
//! place of each record it cannot use (not UTF-8, binary, too large, not JSON,
//! no text field, an id seen before), so the caller can report it and go on.
//!
//! Document ids:
//! * a text file found under a directory: its path relative to that
//!   directory, with `/` separators (`politics/0042.txt`);
//! * a text file named on the command line: the path as given;
//! * a JSONL record: its id field (a string or a number); a record without
//!   one gets `FILE:LINE`.
//!
//! Ids must be unique across all inputs: a record whose id was already seen
//! is skipped and reported with the place of the first one.

mod jsonl;
mod text;
mod walk;

use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use jsonl::JsonFields;

use crate::{Error, Result};

/// Default largest document, in bytes: larger ones are skipped.
pub const DEFAULT_MAX_DOC_BYTES: usize = 64 << 20;
/// File extensions read as plain-text documents when walking a directory.
pub const TEXT_EXTENSIONS: &[&str] = &["txt", "text", "md", "markdown"];
/// File extensions read as JSONL when walking a directory.
pub const JSONL_EXTENSIONS: &[&str] = &["jsonl", "ndjson"];

/// One document to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Unique id (see the module docs for how it is chosen).
    pub id: String,
    /// The text, as read.
    pub text: String,
    /// Publication date, when the input carries one (JSONL date field).
    pub date: Option<String>,
    /// Source URL, when the input carries one (JSONL url field).
    pub url: Option<String>,
    /// Where the document was read.
    pub origin: Origin,
}

impl Document {
    /// A document with only an id and a text (origin: `<memory>`).
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            text: text.into(),
            date: None,
            url: None,
            origin: Origin::memory(),
        }
    }
}

/// Where a record was read: a file (or `<stdin>`) and, for files holding many
/// records, the 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file as the user would recognise it.
    pub source: Arc<str>,
    /// 1-based line number for line-oriented formats.
    pub line: Option<u64>,
}

impl Origin {
    fn file(path: &Path) -> Self {
        Origin { source: display_path(path).into(), line: None }
    }

    fn memory() -> Self {
        Origin { source: "<memory>".into(), line: None }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.source),
            None => f.write_str(&self.source),
        }
    }
}

/// A path with `/` separators on every platform.
fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// One input named by the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file or a directory.
    Path(PathBuf),
    /// JSONL on standard input.
    Stdin,
}

impl Input {
    /// `-` means standard input; anything else is a path.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }
}

/// How inputs are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// JSONL field names.
    pub fields: JsonFields,
    /// Documents larger than this many bytes are skipped.
    pub max_doc_bytes: usize,
    /// Replace invalid UTF-8 with U+FFFD instead of skipping the record.
    pub lossy_utf8: bool,
    /// Follow symbolic links while walking directories (loops are detected).
    pub follow_symlinks: bool,
    /// Give text files their modification time as date (used to name the
    /// original of a story). Off by default: copying files or checking them
    /// out of version control resets the time.
    pub dates_from_mtime: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            fields: JsonFields::default(),
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            lossy_utf8: false,
            follow_symlinks: false,
            dates_from_mtime: false,
        }
    }
}

/// A record that could not be used.
#[derive(Debug)]
pub struct RecordError {
    /// Where it was.
    pub origin: Origin,
    /// What was wrong.
    pub kind: RecordErrorKind,
}

/// What was wrong with a record.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordErrorKind {
    /// The file or stream could not be read.
    #[error("cannot read: {0}")]
    Unreadable(#[source] std::io::Error),
    /// A directory entry could not be visited (permissions, symlink loop).
    #[error("cannot walk: {0}")]
    Walk(String),
    /// The bytes are not UTF-8.
    #[error(
        "not valid UTF-8 (first bad byte at offset {offset}); convert it to UTF-8 or use --lossy-utf8"
    )]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// The file looks binary (it holds NUL bytes).
    #[error("looks like a binary file (NUL byte at offset {offset})")]
    Binary {
        /// Byte offset of the first NUL byte.
        offset: usize,
    },
    /// The document exceeds the size limit.
    #[error("document is {size} bytes, over the limit of {limit} (--max-doc-bytes)")]
    TooLarge {
        /// Its size (or a lower bound when it was not read to the end).
        size: u64,
        /// The limit.
        limit: usize,
    },
    /// A JSONL line is not a JSON object.
    #[error("not a JSON object: {0}")]
    InvalidJson(String),
    /// A JSONL record lacks the text field.
    #[error("no {0:?} field (set the field name with --text-field)")]
    MissingText(String),
    /// A JSONL field has the wrong type.
    #[error("field {field:?} must be {expected}")]
    FieldType {
        /// The field.
        field: String,
        /// What it must be.
        expected: &'static str,
    },
    /// The id was already used by an earlier record.
    #[error("duplicate id {id:?} (first seen at {first}); record skipped")]
    DuplicateId {
        /// The id.
        id: String,
        /// Where it was first seen.
        first: Origin,
    },
}

impl RecordErrorKind {
    /// A short name for counting errors of this kind.
    pub fn label(&self) -> &'static str {
        match self {
            RecordErrorKind::Unreadable(_) => "unreadable",
            RecordErrorKind::Walk(_) => "not visited",
            RecordErrorKind::NotUtf8 { .. } => "not UTF-8",
            RecordErrorKind::Binary { .. } => "binary",
            RecordErrorKind::TooLarge { .. } => "too large",
            RecordErrorKind::InvalidJson(_) => "not JSON",
            RecordErrorKind::MissingText(_) => "no text field",
            RecordErrorKind::FieldType { .. } => "wrong field type",
            RecordErrorKind::DuplicateId { .. } => "duplicate id",
        }
    }
}

impl RecordError {
    /// Returns true if and only if reading cannot go on after this error
    /// (a failing standard input).
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, RecordErrorKind::Unreadable(_)) && &*self.origin.source == STDIN_NAME
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.kind)
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

const STDIN_NAME: &str = "<stdin>";

/// Counts of what the reader saw besides documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Files read (text files and JSONL files).
    pub files: u64,
    /// Bytes of document text yielded.
    pub bytes: u64,
    /// Files under a directory skipped because of their extension.
    pub ignored_files: u64,
}

/// What to read next.
enum Pending {
    /// A text file: its path and its id.
    Text(PathBuf, String),
    /// A JSONL file.
    Jsonl(PathBuf),
    /// Standard input, as JSONL.
    Stdin,
    /// A problem found while listing inputs.
    Problem(RecordError),
}

/// Streams the documents of several inputs, in order.
pub struct DocumentReader {
    options: ReadOptions,
    queue: std::collections::VecDeque<Pending>,
    inputs: std::vec::IntoIter<Input>,
    current: Option<jsonl::JsonlRecords<Box<dyn BufRead + Send>>>,
    seen: HashMap<String, Origin>,
    stats: ReadStats,
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
        Ok(DocumentReader {
            options,
            queue: Default::default(),
            inputs: inputs.into_iter(),
            current: None,
            seen: HashMap::new(),
            stats: ReadStats::default(),
        })
    }

    /// Counts so far.
    pub fn stats(&self) -> ReadStats {
        self.stats
    }

    /// Moves to the next input, filling the queue with its files.
    fn expand_next_input(&mut self) -> bool {
        let Some(input) = self.inputs.next() else {
            return false;
        };
        match input {
            Input::Stdin => self.queue.push_back(Pending::Stdin),
            Input::Path(path) => {
                if path.is_dir() {
                    let listing = walk::list_files(&path, self.options.follow_symlinks);
                    self.stats.ignored_files += listing.ignored;
                    self.queue.extend(listing.entries.into_iter().map(|entry| match entry {
                        walk::Entry::Text { path, id } => Pending::Text(path, id),
                        walk::Entry::Jsonl(path) => Pending::Jsonl(path),
                        walk::Entry::Problem { origin, message } => Pending::Problem(RecordError {
                            origin,
                            kind: RecordErrorKind::Walk(message),
                        }),
                    }));
                } else if walk::is_jsonl(&path) {
                    self.queue.push_back(Pending::Jsonl(path));
                } else {
                    let id = display_path(&path);
                    self.queue.push_back(Pending::Text(path, id));
                }
            }
        }
        true
    }

    /// Checks id uniqueness and counts the document.
    fn admit(&mut self, doc: Document) -> std::result::Result<Document, RecordError> {
        if let Some(first) = self.seen.get(&doc.id) {
            return Err(RecordError {
                kind: RecordErrorKind::DuplicateId { id: doc.id, first: first.clone() },
                origin: doc.origin,
            });
        }
        self.seen.insert(doc.id.clone(), doc.origin.clone());
        self.stats.bytes += doc.text.len() as u64;
        Ok(doc)
    }
}

impl Iterator for DocumentReader {
    type Item = std::result::Result<Document, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(records) = &mut self.current {
                match records.next() {
                    Some(Ok(doc)) => return Some(self.admit(doc)),
                    Some(Err(e)) => return Some(Err(e)),
                    None => self.current = None,
                }
            }
            let Some(pending) = self.queue.pop_front() else {
                if self.expand_next_input() {
                    continue;
                }
                return None;
            };
            match pending {
                Pending::Problem(e) => return Some(Err(e)),
                Pending::Text(path, id) => {
                    self.stats.files += 1;
                    return Some(
                        text::read_text_file(&path, id, &self.options).and_then(|d| self.admit(d)),
                    );
                }
                Pending::Jsonl(path) => {
                    self.stats.files += 1;
                    match std::fs::File::open(&path) {
                        Ok(file) => {
                            let reader: Box<dyn BufRead + Send> =
                                Box::new(std::io::BufReader::with_capacity(1 << 16, file));
                            self.current = Some(jsonl::JsonlRecords::new(
                                reader,
                                display_path(&path).into(),
                                self.options.clone(),
                            ));
                        }
                        Err(e) => {
                            return Some(Err(RecordError {
                                origin: Origin::file(&path),
                                kind: RecordErrorKind::Unreadable(e),
                            }));
                        }
                    }
                }
                Pending::Stdin => {
                    let reader: Box<dyn BufRead + Send> =
                        Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()));
                    self.current = Some(jsonl::JsonlRecords::new(
                        reader,
                        STDIN_NAME.into(),
                        self.options.clone(),
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(inputs: Vec<Input>) -> (Vec<Document>, Vec<RecordError>) {
        let mut docs = Vec::new();
        let mut errors = Vec::new();
        for item in DocumentReader::new(inputs, ReadOptions::default()).unwrap() {
            match item {
                Ok(d) => docs.push(d),
                Err(e) => errors.push(e),
            }
        }
        (docs, errors)
    }

    #[test]
    fn directory_ids_are_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("b.txt"), "bee").unwrap();
        std::fs::write(dir.path().join("sub/a.md"), "ay").unwrap();
        std::fs::write(dir.path().join("skip.bin"), "x").unwrap();
        let (docs, errors) = read_all(vec![Input::Path(dir.path().to_path_buf())]);
        assert!(errors.is_empty());
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["b.txt", "sub/a.md"]);
        assert_eq!(docs[1].text, "ay");
    }

    #[test]
    fn duplicate_ids_are_skipped_and_name_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.jsonl");
        std::fs::write(&path, "{\"id\":\"x\",\"text\":\"one\"}\n{\"id\":\"x\",\"text\":\"two\"}\n")
            .unwrap();
        let (docs, errors) = read_all(vec![Input::Path(path)]);
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
