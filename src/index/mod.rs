//! The persistent index (store): documents added batch by batch, kept on
//! disk between runs, for scheduled scans.
//!
//! ```text
//! DIR/MANIFEST        the committed segments (replaced atomically)
//! DIR/seg-<gen>.nds   one immutable segment per committed batch (or merge)
//! DIR/state-<gen>.nds the live pairs, cluster ids and frequent shingles
//! DIR/LOCK            held by the one writer
//! ```
//!
//! The layout follows search-engine indexes (tantivy): immutable segments
//! plus a manifest that names them, replaced by an atomic rename. Every
//! file has a header (magic, format version, configuration fingerprint) and
//! a checksum checked on open ([`mod@format`]). A batch is committed by writing
//! its segment, flushing it, then replacing the manifest ([`manifest`]);
//! until the rename the old state stands, after it the new one. There is
//! one writer at a time ([`lock`]); readers take no lock and see the last
//! committed manifest.
//!
//! The document registry (id → number and content hash) lives in the
//! segments' document tables and is loaded when the index is opened, so the
//! manifest is the one commit point for everything. An embedded database
//! (redb) would add a second commit point to keep in step with the
//! segment files.
//!
//! A batch is matched against the stored documents by [`matcher`] (the
//! stored documents it could pair with, scanned together with it) and
//! committed as one segment plus a new [`state`] file (live pairs, stable
//! cluster ids, index-wide frequent shingles).
//!
//! Files are read section by section ([`sections`]): an add streams the
//! posting sections it joins against and fetches single texts, each
//! checked by its own checksum; `verify` reads everything. `compact`
//! merges the segments into one ([`compact`]); the clusters a batch
//! created or changed are reported by [`changes`].

pub mod changes;
pub mod compact;
pub mod format;
pub mod lock;
pub mod lookup;
pub mod manifest;
pub mod matcher;
pub mod neighbours;
pub mod sections;
pub mod segment;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::scan::ScanConfig;
use crate::{Error, Result};
use sections::SectionReader;

pub use changes::{ClusterChange, ClusterChangeRecord, cluster_changes};
pub use compact::CompactStats;
pub use lock::{Wait, WriterLock};
pub use manifest::{Manifest, SegmentEntry};
pub use matcher::{BatchCounts, BatchMatch, match_batch};
pub use segment::{DocRecord, Section, Segment, SegmentData, StoredLink};
pub use state::{IndexState, StoredCluster, StoredPair};

/// An index folder, its committed manifest and its open files.
///
/// The segment and state files are opened with the manifest, so a reader
/// keeps the state it opened even if a writer removes those files
/// meanwhile (a compaction, or the clean-up of the next writer).
#[derive(Clone, Debug)]
pub struct Index {
    dir: PathBuf,
    manifest: Manifest,
    segments: Vec<Arc<Segment>>,
    state_file: Option<Arc<SectionReader>>,
}

/// Times a reader retries when a writer replaced the manifest and removed
/// the files it named between the reads.
const OPEN_ATTEMPTS: usize = 5;

/// Sizes and counts of an index.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndexStats {
    /// Commits so far.
    pub generation: u64,
    /// Committed segments.
    pub segments: usize,
    /// Documents stored (replaced versions included).
    pub documents: u64,
    /// Documents replaced by a newer version with the same id.
    pub replaced: u64,
    /// Live pairs.
    pub pairs: u64,
    /// Clusters of copies.
    pub clusters: u64,
    /// Shingles frequent enough to be boilerplate where they form short runs.
    pub frequent_shingles: u64,
    /// Bytes of the committed segments and state file.
    pub bytes: u64,
    /// Where the bytes go.
    pub bytes_by_part: BytesByPart,
    /// The configuration every file was built with.
    pub config: ScanConfig,
}

/// The bytes of an index by what they hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BytesByPart {
    /// Compressed texts and their table.
    pub texts: u64,
    /// `(shingle, holder)` postings, for document frequencies.
    pub shingle_postings: u64,
    /// `(band key, doc)` postings.
    pub band_postings: u64,
    /// `(fingerprint, doc)` postings.
    pub passage_postings: u64,
    /// Document records, pairs found per batch and their reports.
    pub records_and_reports: u64,
    /// The state file (live pairs, clusters, frequent shingles).
    pub state: u64,
}

impl Index {
    /// Creates an empty index in `dir` (created if missing). An existing
    /// index is an error.
    pub fn create(dir: &Path, config: ScanConfig) -> Result<Index> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if dir.join(manifest::MANIFEST_FILE).exists() {
            return Err(Error::Index(format!("{} already holds an index", dir.display())));
        }
        let manifest = Manifest::empty(config);
        manifest.commit(dir)?;
        Ok(Index { dir: dir.to_path_buf(), manifest, segments: Vec::new(), state_file: None })
    }

    /// Opens the committed state of the index in `dir`.
    pub fn open(dir: &Path) -> Result<Index> {
        if !dir.join(manifest::MANIFEST_FILE).exists() {
            return Err(Error::Index(format!("{} holds no index", dir.display())));
        }
        let mut attempt = 1;
        loop {
            let manifest = Manifest::read(dir)?;
            match open_files(dir, &manifest) {
                Ok((segments, state_file)) => {
                    return Ok(Index { dir: dir.to_path_buf(), manifest, segments, state_file });
                }
                Err(Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound && attempt < OPEN_ATTEMPTS =>
                {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Opens the index in `dir`, or creates one with `config` if `dir` holds
    /// none (the writer's way in: the caller holds the writer lock). Files
    /// a killed writer left behind are removed.
    pub fn open_or_create(dir: &Path, config: ScanConfig, lock: &WriterLock) -> Result<Index> {
        let index = if dir.join(manifest::MANIFEST_FILE).exists() {
            Index::open(dir)?
        } else {
            Index::create(dir, config)?
        };
        index.remove_leftovers(lock)?;
        Ok(index)
    }

    /// The committed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The committed segments, in the manifest's order.
    pub fn segments(&self) -> &[Arc<Segment>] {
        &self.segments
    }

    /// Sizes and counts (reads the state and the replacement lists).
    pub fn stats(&self) -> Result<IndexStats> {
        let mut parts = BytesByPart::default();
        let mut replaced = 0;
        for seg in &self.segments {
            let len = |s: Section| seg.section_len(s);
            parts.texts += len(Section::TextTable) + len(Section::Texts);
            parts.shingle_postings += len(Section::Postings);
            parts.band_postings += len(Section::Bands);
            parts.passage_postings += len(Section::Passages);
            replaced += seg.replaced()?.len() as u64;
        }
        let segment_bytes: u64 = self.segments.iter().map(|s| s.file_len()).sum();
        parts.records_and_reports = segment_bytes
            - parts.texts
            - parts.shingle_postings
            - parts.band_postings
            - parts.passage_postings;
        parts.state = self.state_file.as_ref().map_or(0, |f| f.file_len());
        let state = self.state()?;
        Ok(IndexStats {
            generation: self.manifest.generation,
            segments: self.manifest.segments.len(),
            documents: self.manifest.segments.iter().map(|s| u64::from(s.docs)).sum(),
            replaced,
            pairs: state.pairs.len() as u64,
            clusters: state.clusters.len() as u64,
            frequent_shingles: state.frequent.len() as u64,
            bytes: segment_bytes + parts.state,
            bytes_by_part: parts,
            config: self.manifest.config.clone(),
        })
    }

    /// Reads every committed file in full and checks it: checksums,
    /// configuration, sizes and document numbering against the manifest.
    pub fn verify(&self) -> Result<IndexStats> {
        let mut next = 0u32;
        for (entry, seg) in self.manifest.segments.iter().zip(&self.segments) {
            let path = seg.path();
            let bytes = seg.file_len();
            seg.verify()?;
            let wrong = |what: &str| {
                Err(Error::Index(format!("{}: {what} differs from the manifest", path.display())))
            };
            let meta = seg.meta();
            if bytes != entry.bytes {
                return wrong("the file size");
            }
            if meta.first_doc != entry.first_doc || meta.first_doc != next {
                return wrong("the first document number");
            }
            if meta.docs != entry.docs || seg.docs()?.len() != entry.docs as usize {
                return wrong("the number of documents");
            }
            let end = entry.first_doc + entry.docs;
            let inside = |d: u32| d >= entry.first_doc && d < end;
            let mut outside = false;
            for section in [Section::Bands, Section::Passages, Section::Postings] {
                let mut last = (0u64, 0u32);
                let mut first = true;
                seg.for_each_entry(section, |k, d| {
                    outside |= !inside(d) || (!first && (k, d) <= last);
                    (last, first) = ((k, d), false);
                })?;
            }
            if outside {
                return wrong("a posting's document or order");
            }
            if seg.links()?.iter().any(|l| l.a >= end || l.b >= end)
                || seg.replaced()?.iter().any(|&d| d >= end)
            {
                return wrong("a pair's document");
            }
            next = end;
        }
        let state = self.state()?;
        let wrong_pair = state.pairs.iter().any(|p| p.a >= next || p.b >= next || p.a == p.b);
        let wrong_member = state.clusters.iter().any(|c| c.members.iter().any(|&m| m >= next));
        if wrong_pair || wrong_member || !state.frequent.is_sorted() {
            return Err(Error::Index(format!(
                "{}: the state names documents the segments do not hold",
                self.dir.display()
            )));
        }
        if next != self.manifest.next_doc {
            return Err(Error::Index(format!(
                "{}: the manifest counts {} documents, the segments {next}",
                self.dir.display(),
                self.manifest.next_doc
            )));
        }
        self.stats()
    }

    /// Commits `data` as a new segment with the collection's new `state`
    /// (the caller holds the writer lock): writes and flushes the segment
    /// and state files, then replaces the manifest. Returns the generation.
    pub fn commit(
        &mut self,
        _lock: &WriterLock,
        mut data: SegmentData,
        state: &IndexState,
    ) -> Result<u64> {
        let mut manifest = self.manifest.clone();
        manifest.generation += 1;
        data.first_doc = manifest.next_doc;
        data.generation = manifest.generation;
        let docs = u32::try_from(data.docs.len())
            .ok()
            .filter(|&d| manifest.next_doc.checked_add(d).is_some())
            .ok_or(Error::TooManyDocuments { limit: u64::from(u32::MAX) })?;
        let file = format!("seg-{:06}.nds", manifest.generation);
        // Written under a temporary name and flushed before the rename, so
        // a file under its final name is always whole.
        let bytes = data.write(&self.dir.join(&file), manifest.fingerprint())?;
        let segment = Segment::open(&self.dir.join(&file), manifest.fingerprint())?;
        let state_file = format!("state-{:06}.nds", manifest.generation);
        format::write_atomically(
            &self.dir.join(&state_file),
            &state.encode(manifest.fingerprint())?,
        )?;
        let state_reader =
            SectionReader::open(&self.dir.join(&state_file), format::FileKind::Clusters)?;
        manifest.segments.push(SegmentEntry {
            file,
            first_doc: manifest.next_doc,
            docs,
            bytes,
            generation: manifest.generation,
        });
        manifest.next_doc += docs;
        manifest.state = Some(state_file);
        manifest.commit(&self.dir)?;
        self.manifest = manifest;
        self.segments.push(Arc::new(segment));
        self.state_file = Some(Arc::new(state_reader));
        Ok(self.manifest.generation)
    }

    /// Writes every live pair as JSONL: ids, relation, scores and the
    /// stable cluster id, ordered by document number.
    pub fn write_pairs_jsonl(&self, mut w: impl std::io::Write) -> Result<()> {
        let state = self.state()?;
        let mut wanted: Vec<u32> = state.pairs.iter().flat_map(|p| [p.a, p.b]).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut ids: std::collections::HashMap<u32, String> = std::collections::HashMap::new();
        for seg in &self.segments {
            let meta = seg.meta();
            let end = meta.first_doc + meta.docs;
            let from = wanted.partition_point(|&d| d < meta.first_doc);
            if wanted.get(from).is_none_or(|&d| d >= end) {
                continue;
            }
            let docs = seg.docs()?;
            for &d in wanted[from..].iter().take_while(|&&d| d < end) {
                ids.insert(d, docs[(d - meta.first_doc) as usize].id.clone());
            }
        }
        let cluster_of = state.cluster_of();
        let fail = |e: std::io::Error| Error::io("<pairs output>", e);
        for p in &state.pairs {
            let relation = p.relation();
            let cluster = relation
                .is_equivalence()
                .then(|| cluster_of.get(&p.a).map(|&c| state::cluster_name(c)))
                .flatten();
            let record = crate::report::PairRecord::scored(
                &ids[&p.a],
                &ids[&p.b],
                relation,
                &p.scores(),
                cluster.as_deref(),
            );
            serde_json::to_writer(&mut w, &record).map_err(|e| fail(e.into()))?;
            w.write_all(b"\n").map_err(fail)?;
        }
        w.flush().map_err(fail)
    }

    /// The committed state (empty before the first batch).
    pub fn state(&self) -> Result<IndexState> {
        match &self.state_file {
            Some(file) => IndexState::read_from(file, self.manifest.fingerprint()),
            None => Ok(IndexState::default()),
        }
    }

    /// Removes files a killed writer left behind: segments the manifest does
    /// not name, and temporary files (the caller holds the writer lock).
    pub fn remove_leftovers(&self, _lock: &WriterLock) -> Result<usize> {
        let named: std::collections::HashSet<&str> = self
            .manifest
            .segments
            .iter()
            .map(|s| s.file.as_str())
            .chain(self.manifest.state.as_deref())
            .collect();
        let mut removed = 0;
        let entries = std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let segment =
                (name.starts_with("seg-") || name.starts_with("state-")) && name.ends_with(".nds");
            let temporary = name.starts_with(format::TEMP_PREFIX);
            if (segment && !named.contains(name)) || temporary {
                std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// The open files of the segments and the state `manifest` names.
type OpenFiles = (Vec<Arc<Segment>>, Option<Arc<SectionReader>>);

/// Opens the segments and the state file `manifest` names.
fn open_files(dir: &Path, manifest: &Manifest) -> Result<OpenFiles> {
    let segments = manifest
        .segments
        .iter()
        .map(|entry| Segment::open(&dir.join(&entry.file), manifest.fingerprint()).map(Arc::new))
        .collect::<Result<_>>()?;
    let state = match &manifest.state {
        Some(file) => {
            Some(Arc::new(SectionReader::open(&dir.join(file), format::FileKind::Clusters)?))
        }
        None => None,
    };
    Ok((segments, state))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(ids: &[&str]) -> SegmentData {
        SegmentData {
            docs: ids
                .iter()
                .map(|id| DocRecord {
                    id: id.to_string(),
                    content_hash: Some(1),
                    url: None,
                    date: None,
                    tokens: 1,
                })
                .collect(),
            texts: ids.iter().map(|id| format!("text of {id}")).collect(),
            ..SegmentData::default()
        }
    }

    #[test]
    fn committed_batches_survive_reopening_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::create(dir.path(), ScanConfig::default()).unwrap();
        let lock = WriterLock::acquire(dir.path(), Wait::No).unwrap();
        index.commit(&lock, batch(&["a", "b"]), &IndexState::default()).unwrap();
        index.commit(&lock, batch(&["c"]), &IndexState::default()).unwrap();
        drop(lock);
        let index = Index::open(dir.path()).unwrap();
        let stats = index.verify().unwrap();
        assert_eq!((stats.generation, stats.segments, stats.documents), (2, 2, 3));
        let second = &index.segments()[1];
        assert_eq!(second.meta().first_doc, 2);
        assert_eq!(second.texts(&[0]).unwrap(), ["text of c"]);
    }

    #[test]
    fn a_reader_keeps_its_view_while_a_writer_commits_compacts_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::create(dir.path(), ScanConfig::default()).unwrap();
        let lock = WriterLock::acquire(dir.path(), Wait::No).unwrap();
        let first = IndexState { next_cluster: 7, ..IndexState::default() };
        index.commit(&lock, batch(&["a", "b"]), &first).unwrap();
        let reader = Index::open(dir.path()).unwrap();
        index.commit(&lock, batch(&["c"]), &IndexState::default()).unwrap();
        index.compact(&lock).unwrap().expect("two segments merged");
        index.remove_leftovers(&lock).unwrap();
        assert!(!dir.path().join(&reader.manifest().segments[0].file).exists());
        assert!(!dir.path().join(reader.manifest().state.as_ref().unwrap()).exists());
        // The reader still sees generation 1, whole.
        assert_eq!(reader.state().unwrap().next_cluster, 7);
        assert_eq!(reader.segments()[0].texts(&[1]).unwrap(), ["text of b"]);
        assert_eq!(reader.verify().unwrap().documents, 2);
        let now = Index::open(dir.path()).unwrap();
        assert_eq!(now.verify().unwrap().documents, 3);
        assert_eq!(now.segments()[0].texts(&[2]).unwrap(), ["text of c"]);
    }

    #[test]
    fn a_batch_killed_before_its_manifest_is_absent_and_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::create(dir.path(), ScanConfig::default()).unwrap();
        let lock = WriterLock::acquire(dir.path(), Wait::No).unwrap();
        index.commit(&lock, batch(&["a"]), &IndexState::default()).unwrap();
        // A writer that died after writing its segment, before the rename.
        batch(&["b"])
            .write(&dir.path().join("seg-000002.nds"), index.manifest().fingerprint())
            .unwrap();
        std::fs::write(dir.path().join(".neardup-XYZ"), b"half a manifest").unwrap();
        let reopened = Index::open(dir.path()).unwrap();
        assert_eq!(reopened.verify().unwrap().documents, 1);
        assert_eq!(reopened.remove_leftovers(&lock).unwrap(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["LOCK", "MANIFEST", "seg-000001.nds", "state-000001.nds"]);
    }

    #[test]
    fn another_configuration_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Index::create(dir.path(), ScanConfig::default()).unwrap();
        let mut manifest = Manifest::read(dir.path()).unwrap();
        manifest.config.shingle_size = 4;
        let body = postcard::to_stdvec(&manifest).unwrap();
        // The fingerprint in the header is that of the default configuration.
        let bytes = format::encode(
            format::FileKind::Manifest,
            manifest::config_fingerprint(&ScanConfig::default()),
            &[&body],
        );
        std::fs::write(dir.path().join(manifest::MANIFEST_FILE), bytes).unwrap();
        let err = Index::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("configuration"), "{err}");
    }
}
