//! The manifest: which segments make up the committed index.
//!
//! A commit writes its new segment files first (each flushed to disk), then
//! replaces `MANIFEST` atomically (see [`super::format::write_atomically`]). A run
//! killed before the rename leaves the old manifest in place, and the new
//! segment files are unreferenced leftovers that the next writer removes; a
//! run killed after it has committed. So the index on disk is always the
//! state after some whole number of batches. This is the commit protocol of
//! tantivy's `meta.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::format::{self, FileKind};
use super::sections::SectionReader;
use crate::scan::ScanConfig;
use crate::{Error, Result};

/// Name of the manifest inside an index folder.
pub const MANIFEST_FILE: &str = "MANIFEST";

/// One committed segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentEntry {
    /// File name inside the index folder.
    pub file: String,
    /// Number of the first document it holds; its documents are numbered
    /// consecutively.
    pub first_doc: u32,
    /// Number of documents it holds.
    pub docs: u32,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The commit that wrote it.
    pub generation: u64,
}

/// The committed state of an index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Incremented by every commit.
    pub generation: u64,
    /// The configuration every segment was built with.
    pub config: ScanConfig,
    /// Segments, oldest first.
    pub segments: Vec<SegmentEntry>,
    /// The number the next document will get.
    pub next_doc: u32,
    /// The file holding the state of this generation (live pairs, cluster
    /// ids, frequent shingles), if any batch was committed.
    pub state: Option<String>,
}

impl Manifest {
    /// The manifest of an empty index with `config`.
    pub fn empty(config: ScanConfig) -> Self {
        Manifest { generation: 0, config, segments: Vec::new(), next_doc: 0, state: None }
    }

    /// A fingerprint of the configuration, stored in every file's header.
    pub fn fingerprint(&self) -> u64 {
        config_fingerprint(&self.config)
    }

    /// Reads the manifest of the index in `dir`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_FILE);
        let file = SectionReader::open(&path, FileKind::Manifest)?;
        let manifest: Manifest = postcard::from_bytes(&file.read(0)?)
            .map_err(|e| Error::Index(format!("{}: unreadable manifest: {e}", path.display())))?;
        // The manifest names the files an index reads, and compaction
        // deletes: a damaged or hostile one must not reach outside the folder.
        let names = manifest.segments.iter().map(|s| &s.file).chain(&manifest.state);
        if let Some(name) = names.into_iter().find(|name| !is_plain_file_name(name)) {
            return Err(Error::Index(format!(
                "{}: damaged manifest: {name:?} is not a file name inside the index",
                path.display()
            )));
        }
        if file.fingerprint() != manifest.fingerprint() {
            return Err(Error::Index(format!(
                "{}: the configuration does not match its fingerprint",
                path.display()
            )));
        }
        Ok(manifest)
    }

    /// Replaces the manifest of the index in `dir` with this one.
    pub fn commit(&self, dir: &Path) -> Result<()> {
        let body = postcard::to_stdvec(self)
            .map_err(|e| Error::Index(format!("cannot encode the manifest: {e}")))?;
        let bytes = format::encode(FileKind::Manifest, self.fingerprint(), &[&body]);
        format::write_atomically(&dir.join(MANIFEST_FILE), &bytes)
    }
}

/// Whether `name` names a file directly inside a folder: no separators, no
/// `..`, not absolute.
fn is_plain_file_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(parts.next(), Some(std::path::Component::Normal(_)))
        && parts.next().is_none()
        && !name.contains(['/', '\\'])
}

/// A fingerprint of everything in `config` that decides what is stored.
pub fn config_fingerprint(config: &ScanConfig) -> u64 {
    let bytes = postcard::to_stdvec(config).unwrap_or_default();
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_committed_manifest_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest::empty(ScanConfig::default());
        m.generation = 3;
        m.next_doc = 10;
        m.segments.push(SegmentEntry {
            file: "seg-3.nds".into(),
            first_doc: 0,
            docs: 10,
            bytes: 123,
            generation: 3,
        });
        m.commit(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), m);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_manifest_naming_files_outside_its_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["../outside", "/etc/passwd", "a/b", "..", "", "a\\b"] {
            let mut manifest = Manifest::empty(ScanConfig::default());
            manifest.state = Some(name.to_string());
            manifest.commit(dir.path()).unwrap();
            let err = Manifest::read(dir.path()).unwrap_err().to_string();
            assert!(err.contains("not a file name inside the index"), "{name}: {err}");
        }
        let mut manifest = Manifest::empty(ScanConfig::default());
        manifest.state = Some("state-1.ndx".to_string());
        manifest.commit(dir.path()).unwrap();
        assert_eq!(Manifest::read(dir.path()).unwrap(), manifest);
    }
}
