//! neardup finds copies of articles in large text collections: exact and
//! edited reprints, articles carried inside bigger pages, synonym-spun
//! rewrites and OCR'd reprints.
//!
//! # Pipeline
//!
//! Each stage is one module with a small interface; data flows left to
//! right:
//!
//! | stage | module | in → out |
//! |---|---|---|
//! | ingest | [`ingest`] | files, directories, JSONL, stdin → [`Document`] |
//! | normalize | [`normalize`] | text → normalized tokens with their byte spans |
//! | shingle | [`shingle`] | tokens → [`shingle::ShingleSet`] (hashed word n-grams) |
//! | sketch | [`sketch`] | shingle set → MinHash [`sketch::Signature`] |
//! | candidates | [`candidates`] | signatures → candidate pairs (LSH bands) |
//! | verify | [`verify`] | candidate pair → exact [`verify::PairScores`] |
//! | relate / cluster | [`relate`], [`cluster`] | scores → [`Relation`]s → clusters |
//! | report | [`report`] | outcome → JSONL, CSV, text |
//! | store | [`index`] | committed batches on disk (segments + manifest) |
//!
//! [`scan`] runs the stages in order; [`eval`] scores pairs against labelled
//! truth. `ARCHITECTURE.md` in the repository describes what flows between
//! the stages and why each is built the way it is.
//!
//! # Example
//!
//! ```
//! use neardup::{Document, ScanConfig, Scanner, Relation};
//!
//! let article = "The council approved the new bridge on Tuesday after a long debate \
//!                about its cost, its design and the years of traffic it would bring.";
//! let docs = vec![
//!     Document::new("original", article),
//!     Document::new("reprint", article.replace("Tuesday", "Wednesday")),
//!     Document::new("other", "A completely different story about a chess tournament."),
//! ];
//! let outcome = Scanner::new(ScanConfig::default())?.scan(docs)?;
//! let edge = &outcome.edges[0];
//! assert_eq!((outcome.id(edge.a), outcome.id(edge.b)), ("original", "reprint"));
//! assert_eq!(edge.relation, Relation::NearDuplicate);
//! assert_eq!(outcome.clusters.len(), 1);
//! # Ok::<(), neardup::Error>(())
//! ```
//!
//! The library never prints, exits or draws progress: it returns data and
//! errors, and the `neardup` binary decides what the user sees.

#![deny(missing_docs)]

pub mod attribute;
pub mod boilerplate;
pub mod candidates;
pub mod cluster;
#[cfg(feature = "cluster")]
pub mod dataflow;
pub mod dedup;
pub mod duplicates;
mod error;
pub mod eval;
pub mod evidence;
pub mod features;
pub mod hash_lanes;
pub mod index;
pub mod ingest;
pub mod normalize;
pub mod passage;
pub mod progress;
pub mod relate;
pub mod report;
pub mod scan;
pub mod shingle;
pub mod sketch;
pub mod spill;
pub mod spin;
pub mod verify;

pub use error::{Error, Result};
pub use ingest::Document;
pub use relate::Relation;
pub use scan::{ScanConfig, ScanOutcome, Scanner};
