//! What can be wrong with one record, and where it was.

use std::fmt;

use super::Origin;

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
    #[error("document is {}, over the limit of {limit} (--max-doc-bytes)", size_past(*size, *limit))]
    TooLarge {
        /// Its size, or `limit + 1` when reading stopped at the limit.
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
    /// Compressed data that cannot be decoded.
    #[error("{0}")]
    Corrupt(String),
    /// A WARC record that breaks the format.
    #[error("bad WARC record: {0}")]
    Warc(String),
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
            RecordErrorKind::Corrupt(_) => "corrupt compressed data",
            RecordErrorKind::Warc(_) => "bad WARC record",
        }
    }
}

impl RecordError {
    /// Returns true if and only if reading cannot go on after this error
    /// (a failing standard input).
    pub fn is_fatal(&self) -> bool {
        matches!(self.kind, RecordErrorKind::Unreadable(_))
            && &*self.origin.source == super::STDIN_NAME
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

/// A size over `limit`: `limit + 1` stands for a document not read past
/// the limit, whose size is unknown.
fn size_past(size: u64, limit: usize) -> String {
    if size == limit as u64 + 1 {
        format!("more than {limit} bytes")
    } else {
        format!("{size} bytes")
    }
}
