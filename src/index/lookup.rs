//! Documents read back from an index: by number for reports, by id for
//! `neardup explain --index`.
//!
//! Segments hold their documents' records and compressed texts in document
//! number order, so a lookup opens only the segments whose number range
//! holds a wanted document.

use std::collections::HashMap;

use super::Index;
use crate::Result;

/// A stored document: its id and its text as it was scanned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredDocument {
    /// The document id.
    pub id: String,
    /// Its text (for HTML, the extracted text).
    pub text: String,
}

impl Index {
    /// The documents with global numbers `numbers` (any order; unknown
    /// numbers are left out).
    pub fn documents(&self, numbers: &[u32]) -> Result<HashMap<u32, StoredDocument>> {
        self.walk(numbers, true)
    }

    /// The ids of documents `numbers`, without reading their texts.
    pub fn ids(&self, numbers: &[u32]) -> Result<HashMap<u32, String>> {
        Ok(self.walk(numbers, false)?.into_iter().map(|(n, d)| (n, d.id)).collect())
    }

    fn walk(&self, numbers: &[u32], with_texts: bool) -> Result<HashMap<u32, StoredDocument>> {
        let mut wanted = numbers.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut out = HashMap::with_capacity(wanted.len());
        for seg in &self.segments {
            let meta = seg.meta();
            let end = meta.first_doc + meta.docs;
            let from = wanted.partition_point(|&d| d < meta.first_doc);
            let here: Vec<u32> = wanted[from..].iter().copied().take_while(|&d| d < end).collect();
            if here.is_empty() {
                continue;
            }
            let records = seg.docs()?;
            let locals: Vec<u32> = here.iter().map(|&d| d - meta.first_doc).collect();
            let mut texts = if with_texts { seg.texts(&locals)? } else { Vec::new() }.into_iter();
            for (&number, &local) in here.iter().zip(&locals) {
                let id = records[local as usize].id.clone();
                let text = texts.next().unwrap_or_default();
                out.insert(number, StoredDocument { id, text });
            }
        }
        Ok(out)
    }

    /// The global number of the live document with id `id`: its newest
    /// version (a changed document replaces the old one).
    pub fn number_of(&self, id: &str) -> Result<Option<u32>> {
        for seg in self.segments.iter().rev() {
            let meta = seg.meta();
            if let Some(local) = seg.docs()?.iter().rposition(|d| d.id == id) {
                return Ok(Some(meta.first_doc + local as u32));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Document;
    use crate::index::lock::{Wait, WriterLock};
    use crate::index::matcher::match_batch;
    use crate::scan::ScanConfig;
    use crate::spill::Resources;

    fn add(index: &mut Index, lock: &WriterLock, docs: Vec<Document>) {
        let matched =
            match_batch(index, docs.into_iter(), &Resources::default(), &crate::progress::Silent)
                .unwrap();
        index.commit(lock, matched.segment, &matched.state).unwrap();
    }

    #[test]
    fn documents_come_back_by_number_and_by_id_newest_version_first() {
        let dir = tempfile::tempdir().unwrap();
        let lock = WriterLock::acquire(dir.path(), Wait::No).unwrap();
        let mut index = Index::open_or_create(dir.path(), ScanConfig::default(), &lock).unwrap();
        let first = vec![Document::new("a", "alpha text one"), Document::new("b", "beta text")];
        add(&mut index, &lock, first);
        let second = vec![Document::new("a", "alpha text two, changed")];
        add(&mut index, &lock, second);
        let a = index.number_of("a").unwrap().unwrap();
        let docs = index.documents(&[a, 1, 99]).unwrap();
        assert_eq!(docs[&a].text, "alpha text two, changed");
        assert_eq!(docs[&1].id, "b");
        assert!(!docs.contains_key(&99));
        assert_eq!(index.number_of("zzz").unwrap(), None);
        assert_eq!(index.ids(&[1]).unwrap()[&1], "b");
    }
}
