//! Error types of the library.
//!
//! Two kinds of failure exist and are kept apart:
//!
//! * [`Error`] stops an operation: a configuration that cannot work, an input
//!   that cannot be opened at all, a truth file that cannot be parsed.
//! * [`crate::ingest::RecordError`] describes one bad record (a file that is not
//!   text, a JSONL line that is not JSON). Readers yield it in place of the
//!   record, callers count it and go on; it never ends a scan by itself.
//!
//! Every variant that concerns a file names it, so that the message printed by
//! the command-line tool is enough to find the problem.

use std::path::PathBuf;

/// Errors that stop a library operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An I/O error on a stream without a path (standard input or output).
    #[error("{what}: {source}")]
    Stream {
        /// What was being read or written, e.g. "standard input".
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A truth or group file could not be understood.
    #[error("{}: {message}", path.display())]
    Truth {
        /// The truth file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The same document id was given to the scanner twice.
    #[error("duplicate document id {0:?}: document ids must be unique")]
    DuplicateId(String),
    /// An index cannot be used: damaged, of another format version or
    /// configuration, or locked by another writer.
    #[error("index: {0}")]
    Index(String),
    /// A distributed run could not start or did not finish: a process did
    /// not connect, was started with other settings, or failed.
    #[error("cluster: {0}")]
    Cluster(String),
    /// More documents than the engine can address (2^32 - 1).
    #[error("too many documents: the limit is {limit}")]
    TooManyDocuments {
        /// The maximum number of documents in one scan.
        limit: u64,
    },
}

/// Result type of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}
