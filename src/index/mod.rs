//! The persistent index (store): documents added batch by batch, kept on
//! disk between runs, for scheduled scans.
//!
//! ```text
//! DIR/MANIFEST        the committed segments (replaced atomically)
//! DIR/seg-<gen>.nds   one immutable segment per committed batch
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
//! Status: `add`, `query`, `stats`, `verify` and `pairs` work; `compact`
//! (merging segments) is not built yet, and each batch reads every segment
//! (up to four passes), so the cost of an add grows with the index.

pub mod format;
pub mod lock;
pub mod manifest;
pub mod matcher;
pub mod segment;
pub mod state;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::scan::ScanConfig;
use crate::{Error, Result};

pub use lock::{Wait, WriterLock};
pub use manifest::{Manifest, SegmentEntry};
pub use matcher::{BatchCounts, BatchMatch, match_batch};
pub use segment::{DocRecord, SegmentData, StoredLink};
pub use state::{IndexState, StoredCluster, StoredPair};

/// An index folder and its committed manifest.
#[derive(Clone, Debug)]
pub struct Index {
    dir: PathBuf,
    manifest: Manifest,
}

/// Sizes and counts of an index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexStats {
    /// Commits so far.
    pub generation: u64,
    /// Committed segments.
    pub segments: usize,
    /// Documents stored (replaced versions included).
    pub documents: u64,
    /// Bytes of all committed files.
    pub bytes: u64,
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
        Ok(Index { dir: dir.to_path_buf(), manifest })
    }

    /// Opens the committed state of the index in `dir`.
    pub fn open(dir: &Path) -> Result<Index> {
        if !dir.join(manifest::MANIFEST_FILE).exists() {
            return Err(Error::Index(format!("{} holds no index", dir.display())));
        }
        Ok(Index { dir: dir.to_path_buf(), manifest: Manifest::read(dir)? })
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

    /// Reads one committed segment.
    pub fn segment(&self, entry: &SegmentEntry) -> Result<SegmentData> {
        SegmentData::read(&self.dir.join(&entry.file), self.manifest.fingerprint())
    }

    /// Sizes and counts.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            generation: self.manifest.generation,
            segments: self.manifest.segments.len(),
            documents: self.manifest.segments.iter().map(|s| u64::from(s.docs)).sum(),
            bytes: self.manifest.segments.iter().map(|s| s.bytes).sum(),
        }
    }

    /// Reads every committed file in full and checks it: checksums,
    /// configuration, sizes and document numbering against the manifest.
    pub fn verify(&self) -> Result<IndexStats> {
        let mut next = 0u32;
        for entry in &self.manifest.segments {
            let path = self.dir.join(&entry.file);
            let bytes = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
            let data = self.segment(entry)?;
            let wrong = |what: &str| {
                Err(Error::Index(format!("{}: {what} differs from the manifest", path.display())))
            };
            if bytes != entry.bytes {
                return wrong("the file size");
            }
            if data.first_doc != entry.first_doc || data.first_doc != next {
                return wrong("the first document number");
            }
            if data.docs.len() != entry.docs as usize || data.texts.len() != data.docs.len() {
                return wrong("the number of documents");
            }
            let end = entry.first_doc + entry.docs;
            let inside = |d: u32| d >= entry.first_doc && d < end;
            if !data.bands.iter().chain(&data.passages).all(|&(_, d)| inside(d)) {
                return wrong("a posting's document");
            }
            if data.links.iter().any(|l| l.a >= end || l.b >= end)
                || data.replaced.iter().any(|&d| d >= entry.first_doc)
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
        Ok(self.stats())
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
        let bytes = data.encode(manifest.fingerprint())?;
        // Written like the manifest, so a file under its final name is
        // always whole.
        format::write_atomically(&self.dir.join(&file), &bytes)?;
        let state_file = format!("state-{:06}.nds", manifest.generation);
        format::write_atomically(
            &self.dir.join(&state_file),
            &state.encode(manifest.fingerprint())?,
        )?;
        manifest.segments.push(SegmentEntry {
            file,
            first_doc: manifest.next_doc,
            docs,
            bytes: bytes.len() as u64,
            generation: manifest.generation,
        });
        manifest.next_doc += docs;
        manifest.state = Some(state_file);
        manifest.commit(&self.dir)?;
        self.manifest = manifest;
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
        for entry in &self.manifest.segments {
            let end = entry.first_doc + entry.docs;
            let from = wanted.partition_point(|&d| d < entry.first_doc);
            if wanted.get(from).is_none_or(|&d| d >= end) {
                continue;
            }
            let seg = self.segment(entry)?;
            for &d in wanted[from..].iter().take_while(|&&d| d < end) {
                ids.insert(d, seg.docs[(d - entry.first_doc) as usize].id.clone());
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
        match &self.manifest.state {
            Some(file) => IndexState::read(&self.dir.join(file), self.manifest.fingerprint()),
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
        let second = index.segment(&index.manifest().segments[1]).unwrap();
        assert_eq!((second.first_doc, second.texts[0].as_str()), (2, "text of c"));
    }

    #[test]
    fn a_batch_killed_before_its_manifest_is_absent_and_cleaned_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::create(dir.path(), ScanConfig::default()).unwrap();
        let lock = WriterLock::acquire(dir.path(), Wait::No).unwrap();
        index.commit(&lock, batch(&["a"]), &IndexState::default()).unwrap();
        // A writer that died after writing its segment, before the rename.
        let orphan = batch(&["b"]).encode(index.manifest().fingerprint()).unwrap();
        std::fs::write(dir.path().join("seg-000002.nds"), orphan).unwrap();
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
