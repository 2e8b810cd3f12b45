//! Options shared by the commands that read documents and detect copies.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};
use neardup::boilerplate::BoilerplateConfig;
use neardup::candidates::{BandingStrategy, LshParams};
use neardup::ingest::{
    DocumentReader, Input, JsonFields, ReadOptions, ReadStats, RecordError, WarcId,
};
use neardup::normalize::NormalizeOptions;
use neardup::passage::PassageConfig;
use neardup::relate::RelateConfig;
use neardup::spill::{Resources, Spill};
use neardup::spin::SpinConfig;
use neardup::{Document, ScanConfig};

use super::progress::Console;

/// Where documents come from and how they are read.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Input")]
pub struct InputArgs {
    /// Files or folders to read, or - for standard input. Folders are read
    /// recursively. Formats, by name or content: .txt/.md and .html/.htm
    /// (one document per file), .jsonl (one per line), .warc/.wet (one per
    /// record); any of them .gz or .zst compressed. Standard input holds
    /// JSONL or WARC.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<String>,
    /// JSONL field holding the document id (a string or a number).
    #[arg(long, default_value = "id", value_name = "NAME")]
    pub id_field: String,
    /// JSONL field holding the document text.
    #[arg(long, default_value = "text", value_name = "NAME")]
    pub text_field: String,
    /// JSONL field holding the publication date.
    #[arg(long, default_value = "date", value_name = "NAME")]
    pub date_field: String,
    /// JSONL field holding the source URL.
    #[arg(long, default_value = "url", value_name = "NAME")]
    pub url_field: String,
    /// Skip documents larger than this many bytes.
    #[arg(long, default_value_t = neardup::ingest::DEFAULT_MAX_DOC_BYTES, value_name = "BYTES")]
    pub max_doc_bytes: usize,
    /// Refuse a compressed input that grows more than this many times its
    /// size when decompressed (checked past 64 MiB): a decompression bomb
    /// fails the run with a message naming the file. 0: no limit.
    #[arg(long, default_value_t = neardup::ingest::compress::DEFAULT_MAX_EXPANSION, value_name = "RATIO")]
    pub max_expansion: u64,
    /// Decode invalid UTF-8 with replacement characters instead of skipping.
    #[arg(long)]
    pub lossy_utf8: bool,
    /// Follow symbolic links inside folders (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Use text files' modification times as their dates (the earliest copy
    /// of a story is named its original). Off by default because copying and
    /// checking out files resets these times.
    #[arg(long)]
    pub dates_from_mtime: bool,
    /// Which WARC header names a WARC document: its record id, or the
    /// URI it was fetched from.
    #[arg(long, value_enum, default_value = "record-id", value_name = "HEADER")]
    pub warc_id: WarcIdArg,
    /// Compare the whole visible text of HTML pages (navigation, teasers
    /// and all) instead of the article extracted from each page. With
    /// extraction (the default) a page and a clean copy of its article are
    /// near-duplicates; with the full text the page contains the article.
    #[arg(long)]
    pub html_full_text: bool,
    /// Exit with code 2 if any record had to be skipped.
    #[arg(long)]
    pub strict: bool,
}

/// Which WARC header names a WARC document.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum WarcIdArg {
    /// WARC-Record-ID.
    RecordId,
    /// WARC-Target-URI.
    Uri,
}

/// Where scratch data goes, and how much memory sorting may use.
#[derive(Args, Debug)]
#[command(next_help_heading = "Resources")]
pub struct ResourceArgs {
    /// Folder for scratch files (texts, shingle sets and sort runs; they are
    /// deleted even if neardup is killed). Plan for about 3 times the size
    /// of the text. Default: the system's temporary folder.
    #[arg(long, value_name = "DIR")]
    pub temp_dir: Option<PathBuf>,
    /// Memory for sorting one batch of scratch entries, in MiB. Peak memory
    /// is about this plus 120 MiB, plus the ids and about 50 bytes per
    /// document.
    #[arg(long, default_value_t = 128, value_name = "MIB")]
    pub sort_memory: usize,
}

impl ResourceArgs {
    /// The resources these flags describe.
    pub fn resources(&self) -> anyhow::Result<Resources> {
        if self.sort_memory == 0 {
            anyhow::bail!("--sort-memory must be at least 1 MiB");
        }
        let dir = self.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
        let meta = std::fs::metadata(&dir)
            .with_context(|| format!("{}: cannot use as scratch folder", dir.display()))?;
        if !meta.is_dir() {
            anyhow::bail!("{}: not a folder (--temp-dir)", dir.display());
        }
        Ok(Resources { spill: Spill::Dir(dir), sort_memory: self.sort_memory << 20 })
    }
}

impl InputArgs {
    /// Opens the inputs; `keep_raw` keeps each record as read (for output
    /// that passes records through).
    pub fn open(&self, keep_raw: bool) -> anyhow::Result<DocumentReader> {
        DocumentReader::new(self.inputs(), self.read_options(keep_raw)).context("cannot read input")
    }

    /// The inputs named.
    pub fn inputs(&self) -> Vec<Input> {
        self.paths.iter().map(|p| Input::parse(p)).collect()
    }

    /// How to read them.
    pub fn read_options(&self, keep_raw: bool) -> ReadOptions {
        ReadOptions {
            fields: JsonFields {
                id: self.id_field.clone(),
                text: self.text_field.clone(),
                date: self.date_field.clone(),
                url: self.url_field.clone(),
            },
            max_doc_bytes: self.max_doc_bytes,
            max_expansion: self.max_expansion,
            lossy_utf8: self.lossy_utf8,
            follow_symlinks: self.follow_symlinks,
            dates_from_mtime: self.dates_from_mtime,
            warc_id: match self.warc_id {
                WarcIdArg::RecordId => WarcId::RecordId,
                WarcIdArg::Uri => WarcId::TargetUri,
            },
            keep_raw,
            html_full_text: self.html_full_text,
        }
    }
}

/// How bucket keys are grouped (see `neardup::candidates`).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BandingArg {
    /// Parallel sort of (key, document) pairs.
    Sort,
    /// Concurrent hash map (DashMap).
    Map,
}

/// What counts as a copy, and how candidates are found.
#[derive(Args, Debug)]
#[command(next_help_heading = "Detection")]
pub struct DetectArgs {
    /// Word-shingle Jaccard similarity at which two texts are near-duplicates.
    #[arg(short, long, default_value_t = neardup::relate::DEFAULT_NEAR_THRESHOLD, value_name = "J")]
    pub threshold: f64,
    /// Words per shingle.
    #[arg(long, default_value_t = neardup::scan::DEFAULT_SHINGLE_SIZE, value_name = "N")]
    pub shingle_size: usize,
    /// Hash functions per MinHash signature.
    #[arg(long, default_value_t = neardup::sketch::DEFAULT_NUM_HASHES, value_name = "K")]
    pub num_hashes: usize,
    /// LSH bands (with --rows; default: derived from --threshold).
    #[arg(long, requires = "rows", value_name = "B")]
    pub bands: Option<usize>,
    /// Rows per LSH band (with --bands).
    #[arg(long, requires = "bands", value_name = "R")]
    pub rows: Option<usize>,
    /// Buckets with more documents than this are paired through one hub
    /// document instead of all pairs (they reflect boilerplate).
    #[arg(long, default_value_t = neardup::candidates::DEFAULT_BUCKET_CAP, value_name = "N")]
    pub bucket_cap: usize,
    /// Bucketing implementation.
    #[arg(long, value_enum, default_value = "sort")]
    pub banding: BandingArg,
    /// Share of the smaller document that must be inside the larger one for
    /// the pair to be `contained` (a page carrying an article).
    #[arg(long, default_value_t = neardup::relate::DEFAULT_CONTAINED_THRESHOLD, value_name = "C")]
    pub contained_threshold: f64,
    /// Share of each document that must be inside the other for a
    /// `near_duplicate` (below it, the larger one carries other text).
    #[arg(long, default_value_t = neardup::relate::DEFAULT_NEAR_MIN_CONTAINMENT, value_name = "C")]
    pub near_min_containment: f64,
    /// Smallest document, in content shingles, that can be `contained`.
    #[arg(long, default_value_t = neardup::relate::DEFAULT_MIN_CONTAINED_SHINGLES, value_name = "N")]
    pub min_contained_shingles: u32,
    /// Passage fingerprint window, in shingles: a shared run of this many
    /// shingles always yields a shared fingerprint.
    #[arg(long, default_value_t = neardup::passage::DEFAULT_WINNOW_WINDOW, value_name = "W")]
    pub winnow_window: usize,
    /// Shared passage fingerprints that make two documents a candidate pair.
    #[arg(long, default_value_t = neardup::passage::DEFAULT_MIN_SHARED, value_name = "N")]
    pub min_shared_passages: u32,
    /// Text in at least this many documents is boilerplate where it forms
    /// short runs (see --boilerplate-run).
    #[arg(long, default_value_t = neardup::boilerplate::DEFAULT_MIN_DF, value_name = "N")]
    pub boilerplate_df: u32,
    /// Repeated runs of at least this many words are content, not
    /// boilerplate (a story syndicated to many sites stays findable).
    #[arg(long, default_value_t = neardup::boilerplate::DEFAULT_MAX_RUN_TOKENS, value_name = "WORDS")]
    pub boilerplate_run: usize,
    /// Switch off the spun view (immutable-word and character candidates and
    /// the rewrite verifier): faster, but spun and OCR-noisy copies are
    /// missed.
    #[arg(long)]
    pub no_spun_view: bool,
    /// Do not apply Unicode NFKC normalization.
    #[arg(long)]
    pub no_nfkc: bool,
    /// Keep letter case.
    #[arg(long)]
    pub keep_case: bool,
    /// Keep typographic quotes, apostrophes and dashes as they are.
    #[arg(long)]
    pub keep_typography: bool,
}

impl DetectArgs {
    /// The scan configuration these flags describe.
    pub fn config(&self) -> ScanConfig {
        ScanConfig {
            normalize: NormalizeOptions {
                nfkc: !self.no_nfkc,
                lowercase: !self.keep_case,
                fold_typography: !self.keep_typography,
                collapse_whitespace: true,
            },
            shingle_size: self.shingle_size,
            num_hashes: self.num_hashes,
            relate: RelateConfig {
                near_threshold: self.threshold,
                near_min_containment: self.near_min_containment,
                contained_threshold: self.contained_threshold,
                min_contained_shingles: self.min_contained_shingles,
            },
            winnow_window: self.winnow_window,
            passage: PassageConfig {
                min_shared: self.min_shared_passages,
                ..PassageConfig::default()
            },
            boilerplate: BoilerplateConfig {
                min_df: self.boilerplate_df,
                max_run_tokens: self.boilerplate_run,
            },
            spin: SpinConfig { enabled: !self.no_spun_view, ..SpinConfig::default() },
            lsh: self.bands.zip(self.rows).map(|(bands, rows)| LshParams { bands, rows }),
            bucket_cap: self.bucket_cap,
            banding: match self.banding {
                BandingArg::Sort => BandingStrategy::SortGroup,
                BandingArg::Map => BandingStrategy::ConcurrentMap,
            },
            ..ScanConfig::default()
        }
    }
}

/// Shown in full before the rest are only counted.
const WARNINGS_SHOWN: usize = 20;

/// Yields the readable documents of a reader, reporting the others.
pub struct ReportingReader {
    reader: DocumentReader,
    console: Arc<Console>,
    skipped: BTreeMap<&'static str, u64>,
    shown: usize,
    fatal: Option<RecordError>,
    /// Counts of other readers merged into this one ([`Self::absorb`]).
    absorbed: ReadStats,
}

impl ReportingReader {
    /// Wraps `reader`; warnings go to `console`.
    pub fn new(reader: DocumentReader, console: Arc<Console>) -> Self {
        console.follow_input(reader.progress());
        ReportingReader {
            reader,
            console,
            skipped: BTreeMap::new(),
            shown: 0,
            fatal: None,
            absorbed: ReadStats::default(),
        }
    }

    /// The error that stopped reading, if one did.
    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub fn fatal_message(&self) -> Option<String> {
        self.fatal.as_ref().map(ToString::to_string)
    }

    /// Adds the counts of `other` (another share's reader) to these.
    #[cfg(feature = "cluster")]
    pub fn absorb(&mut self, other: ReportingReader) {
        for (kind, n) in other.skipped {
            *self.skipped.entry(kind).or_default() += n;
        }
        self.fatal = self.fatal.take().or(other.fatal);
        let (a, b) = (&mut self.absorbed, other.reader.stats());
        a.files += b.files + other.absorbed.files;
        a.bytes += b.bytes + other.absorbed.bytes;
        a.ignored_files += b.ignored_files + other.absorbed.ignored_files;
        a.ignored_links += b.ignored_links + other.absorbed.ignored_links;
        a.ignored_records += b.ignored_records + other.absorbed.ignored_records;
    }

    /// How far reading got.
    pub fn progress(&self) -> neardup::ingest::InputProgress {
        self.reader.progress()
    }

    /// Number of records skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Counts a skipped record, and shows it unless many were shown.
    pub fn report(&mut self, err: &RecordError) {
        *self.skipped.entry(err.kind.label()).or_default() += 1;
        if self.shown < WARNINGS_SHOWN {
            self.console.warn(&format!(
                "neardup: warning: {}",
                neardup::report::terminal_safe(&err.to_string())
            ));
        } else if self.shown == WARNINGS_SHOWN {
            self.console.warn("neardup: warning: further warnings are only counted");
        }
        self.shown += 1;
    }

    /// Prints what was skipped and ignored, then fails on a fatal read
    /// error, on an empty input, or (when `strict`) on any skipped record.
    pub fn finish(self, documents: u64, strict: bool) -> anyhow::Result<()> {
        if let Some(fatal) = self.fatal {
            anyhow::bail!("{fatal}");
        }
        let mut stats = self.reader.stats();
        stats.ignored_files += self.absorbed.ignored_files;
        stats.ignored_links += self.absorbed.ignored_links;
        let skipped = self.skipped();
        if skipped > 0 {
            let kinds: Vec<String> = self.skipped.iter().map(|(k, n)| format!("{n} {k}")).collect();
            self.console
                .warn(&format!("neardup: skipped {skipped} records ({})", kinds.join(", ")));
        }
        if stats.ignored_files > 0 {
            self.console.warn(&format!(
                "neardup: ignored {} files whose names name no known format \
                 (.txt .md .html .htm .jsonl .warc .wet, optionally .gz or .zst)",
                stats.ignored_files
            ));
        }
        if stats.ignored_links > 0 {
            self.console.warn(&format!(
                "neardup: ignored {} symbolic links inside folders (--follow-symlinks follows \
                 them)",
                stats.ignored_links
            ));
        }
        if documents == 0 {
            anyhow::bail!(
                "no documents found in the input{}",
                if skipped + stats.ignored_files + stats.ignored_links > 0 {
                    " (see the messages above)"
                } else {
                    ""
                }
            );
        }
        if strict && skipped > 0 {
            anyhow::bail!("{skipped} records were skipped and --strict is set");
        }
        Ok(())
    }
}

impl Iterator for ReportingReader {
    type Item = Document;

    fn next(&mut self) -> Option<Document> {
        if self.fatal.is_some() {
            return None;
        }
        loop {
            match self.reader.next()? {
                Ok(doc) => return Some(doc),
                Err(err) if err.is_fatal() => {
                    self.fatal = Some(err);
                    return None;
                }
                Err(err) => self.report(&err),
            }
        }
    }
}
