//! Stage 1 of the pipeline: inputs → [`Document`]s.
//!
//! An input is a file, a directory (walked recursively, in sorted order) or
//! standard input. The formats are recognised by file name and, where the name
//! says nothing, by content:
//!
//! | format | names | one document per |
//! |---|---|---|
//! | plain text, Markdown | `.txt`, `.text`, `.md`, `.markdown` | file |
//! | HTML | `.html`, `.htm`, `.xhtml` | file (main text extracted, see [`html`]) |
//! | JSONL | `.jsonl`, `.ndjson` | line |
//! | WARC, WET | `.warc`, `.wet`, `.arc.warc`… | record (see [`warc`]) |
//!
//! Any of them may be compressed with gzip (`.gz`) or zstd (`.zst`). The
//! compression is recognised from the first bytes, and data is decompressed
//! while it is read. Standard input (`-`) holds JSONL or WARC, compressed or
//! not.
//!
//! [`DocumentReader`] streams the documents of all inputs in a fixed order. In
//! place of each record it cannot use (not UTF-8, binary, too large, not JSON,
//! no text field, a broken WARC record, corrupt compressed data, an id seen
//! before), it yields a [`RecordError`] that names the file and line or
//! record, so the caller can report it and go on.
//!
//! Document ids:
//! * a file found under a directory: its path relative to that directory,
//!   with `/` separators (`politics/0042.txt`);
//! * a file named on the command line: the path as given;
//! * a JSONL record: its id field (a string or a number), or `FILE:LINE`
//!   without one;
//! * a WARC record: its `WARC-Record-ID`, or its `WARC-Target-URI` if asked.
//!
//! Ids must be unique across all inputs: a record whose id was already seen
//! is skipped and reported with the place of the first one.

pub mod compress;
pub mod html;
mod jsonl;
pub mod place;
mod problem;
mod reader;
mod share;
mod text;
mod walk;
pub mod warc;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use jsonl::JsonFields;
pub use place::{RecordPlace, RecordSource};
pub use problem::{RecordError, RecordErrorKind};
pub use reader::{DocumentReader, InputProgress, ReadStats};
pub use share::{InputPlan, InputShare, SplitLines};

/// A stream of records held in memory, for [`records_from_bytes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    /// One JSON object per line.
    Jsonl,
    /// WARC or WET records.
    Warc,
}

/// The documents of `bytes`, a JSONL or WARC stream (gzip- or
/// zstd-compressed when its first bytes say so), named `source` in errors.
/// Each item is a document or the error of one record, as
/// [`DocumentReader`] gives them for a file; `Err` only when the stream
/// cannot be opened at all. The fuzz targets read untrusted bytes through
/// this.
pub fn records_from_bytes(
    bytes: Vec<u8>,
    format: RecordFormat,
    source: &str,
    options: ReadOptions,
) -> std::io::Result<Box<dyn Iterator<Item = Result<Document, RecordError>> + Send>> {
    let (stream, _) = compress::decompressed(std::io::Cursor::new(bytes), options.max_expansion)?;
    let source: Arc<str> = source.into();
    Ok(match format {
        RecordFormat::Jsonl => Box::new(jsonl::JsonlRecords::new(stream, source, options)),
        RecordFormat::Warc => Box::new(warc::WarcRecords::new(stream, source, options)),
    })
}

/// Default largest document, in bytes: larger ones are skipped.
pub const DEFAULT_MAX_DOC_BYTES: usize = 64 << 20;

const STDIN_NAME: &str = "<stdin>";

/// The content of a document as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// Text.
    Text(String),
    /// An HTML page: its bytes and the charset its transport declared. The
    /// main text is extracted when the document is processed, in parallel.
    Html {
        /// The page as read.
        bytes: Vec<u8>,
        /// Charset from the HTTP `Content-Type`, if any.
        charset: Option<String>,
        /// Keep the whole visible text instead of extracting the article
        /// ([`ReadOptions::html_full_text`]).
        full_text: bool,
    },
}

impl Body {
    /// The document's text: the text itself, or the main text of the page.
    pub fn into_text(self, url: Option<&str>) -> String {
        match self {
            Body::Text(text) => text,
            Body::Html { bytes, charset, full_text } => {
                let page = html::decode(&bytes, charset.as_deref());
                if full_text { html::full_text(&page) } else { html::main_text(&page, url).text }
            }
        }
    }

    /// Size of the content as read, in bytes.
    pub fn len(&self) -> usize {
        match self {
            Body::Text(t) => t.len(),
            Body::Html { bytes, .. } => bytes.len(),
        }
    }

    /// Returns true if and only if the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One document to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Unique id (see the module docs for how it is chosen).
    pub id: String,
    /// The content.
    pub body: Body,
    /// Publication date, when the input carries one.
    pub date: Option<String>,
    /// Source URL, when the input carries one.
    pub url: Option<String>,
    /// Where the document was read.
    pub origin: Origin,
    /// The record exactly as read (a JSONL line), when
    /// [`ReadOptions::keep_raw`] is set, for output that must keep it.
    pub raw: Option<Vec<u8>>,
    /// Where the record can be read again (a line of an uncompressed JSONL
    /// file), so that its text need not be kept; see [`place`].
    pub place: Option<RecordPlace>,
}

impl Document {
    /// A text document with only an id (origin: `<memory>`).
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Document {
            id: id.into(),
            body: Body::Text(text.into()),
            date: None,
            url: None,
            origin: Origin::memory(),
            raw: None,
            place: None,
        }
    }

    /// The text, if the document was read as text (not HTML).
    pub fn text(&self) -> Option<&str> {
        match &self.body {
            Body::Text(t) => Some(t),
            Body::Html { .. } => None,
        }
    }

    /// An HTML document with only an id (origin: `<memory>`).
    pub fn html(id: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Document {
            body: Body::Html { bytes: bytes.into(), charset: None, full_text: false },
            ..Document::new(id, "")
        }
    }
}

/// Where a record was read: a file (or `<stdin>`) and, for files holding many
/// records, the 1-based line or record number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file as the user would recognise it.
    pub source: Arc<str>,
    /// 1-based line number, for line-oriented formats.
    pub line: Option<u64>,
    /// 1-based record number, for WARC.
    pub record: Option<u64>,
}

impl Origin {
    fn file(path: &Path) -> Self {
        Origin { source: display_path(path).into(), line: None, record: None }
    }

    fn memory() -> Self {
        Origin { source: "<memory>".into(), line: None, record: None }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.record) {
            (Some(line), _) => write!(f, "{}:{line}", self.source),
            (None, Some(record)) => write!(f, "{} record {record}", self.source),
            (None, None) => f.write_str(&self.source),
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
    /// Standard input (JSONL or WARC, possibly compressed).
    Stdin,
}

impl Input {
    /// `-` means standard input; anything else is a path.
    pub fn parse(arg: &str) -> Self {
        if arg == "-" { Input::Stdin } else { Input::Path(PathBuf::from(arg)) }
    }
}

/// Which WARC header names a WARC document.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WarcId {
    /// `WARC-Record-ID`.
    #[default]
    RecordId,
    /// `WARC-Target-URI`.
    TargetUri,
}

/// How inputs are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    /// JSONL field names.
    pub fields: JsonFields,
    /// Documents larger than this many bytes are skipped.
    pub max_doc_bytes: usize,
    /// A compressed input that decompresses to more than this many times its
    /// size (past 64 MiB) is refused as a decompression bomb; 0: no limit.
    pub max_expansion: u64,
    /// Replace invalid UTF-8 with U+FFFD instead of skipping the record.
    pub lossy_utf8: bool,
    /// Follow symbolic links while walking directories (loops are detected).
    pub follow_symlinks: bool,
    /// Give text files their modification time as date (used to name the
    /// original of a story). Off by default: copying files or checking them
    /// out of version control resets the time.
    pub dates_from_mtime: bool,
    /// Which header names a WARC document.
    pub warc_id: WarcId,
    /// Keep each record's raw form ([`Document::raw`]).
    pub keep_raw: bool,
    /// Compare the whole visible text of HTML pages (navigation and all)
    /// instead of the article extracted from them.
    pub html_full_text: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            fields: JsonFields::default(),
            max_doc_bytes: DEFAULT_MAX_DOC_BYTES,
            max_expansion: compress::DEFAULT_MAX_EXPANSION,
            lossy_utf8: false,
            follow_symlinks: false,
            dates_from_mtime: false,
            warc_id: WarcId::default(),
            keep_raw: false,
            html_full_text: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn records_from_bytes_reads_compressed_streams_and_reports_bad_lines() {
        let jsonl =
            b"{\"id\": \"a\", \"text\": \"one\"}\nnot json\n{\"id\": \"b\", \"text\": \"two\"}\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(jsonl).unwrap();
        let gz = gz.finish().unwrap();
        for bytes in [jsonl.to_vec(), gz] {
            let out: Vec<_> =
                records_from_bytes(bytes, RecordFormat::Jsonl, "x.jsonl", ReadOptions::default())
                    .unwrap()
                    .collect();
            let ids: Vec<&str> =
                out.iter().filter_map(|r| r.as_ref().ok()).map(|d| d.id.as_str()).collect();
            assert_eq!(ids, ["a", "b"]);
            let errors: Vec<String> =
                out.iter().filter_map(|r| r.as_ref().err()).map(ToString::to_string).collect();
            assert_eq!(errors.len(), 1);
            assert!(errors[0].contains("x.jsonl") && errors[0].contains('2'), "{}", errors[0]);
        }
    }
}
