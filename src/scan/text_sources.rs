//! [`TextSources`]: the input files a scan reads texts back from.
//!
//! A document read from an uncompressed JSONL file is stored with its place
//! in that file instead of its text (see [`crate::ingest::place`]); the
//! scan writes a third less scratch data. Its text is read again, by
//! position, for the few stages that need it. Files are opened on first use
//! and kept open, at most [`OPEN_FILES`] at a time: an input may be a
//! directory of many thousands of shards.

use std::collections::HashMap;
use std::fs::File;
use std::sync::{Arc, Mutex};

use crate::ingest::{RecordPlace, RecordSource, place::text_check};
use crate::{Error, Result};

use super::docs::TextPlace;
use super::scratch_error;

/// Files kept open at once.
const OPEN_FILES: usize = 64;

/// The sources of a scan's documents, numbered as the scan met them.
#[derive(Debug, Default)]
pub(crate) struct TextSources {
    sources: Vec<Arc<RecordSource>>,
    open: Mutex<HashMap<u32, Arc<File>>>,
}

impl TextSources {
    /// The number of `place`'s source, adding it if it is new. Documents
    /// come file by file, so the last source is the one to compare with.
    pub fn number(&mut self, place: &RecordPlace) -> u32 {
        match self.sources.last() {
            Some(last) if Arc::ptr_eq(last, &place.source) => {}
            _ => self.sources.push(Arc::clone(&place.source)),
        }
        (self.sources.len() - 1) as u32
    }

    /// The place of a document's text, checked by the hash of `text`.
    pub fn place_of(&mut self, place: &RecordPlace, text: &str) -> TextPlace {
        TextPlace {
            source: self.number(place),
            offset: place.offset,
            len: place.len,
            line: place.line,
            check: text_check(text),
        }
    }

    /// Reads the text at `place` again; an error names the file and line
    /// if it cannot be read or is not the text first read.
    pub fn read(&self, place: &TextPlace) -> Result<String> {
        let source = self.sources.get(place.source as usize).ok_or_else(|| {
            scratch_error(std::io::Error::other("a stored document names an unknown input"))
        })?;
        let fail = |e: std::io::Error| Error::io(source.path(), e);
        let file = self.file(place.source, source).map_err(fail)?;
        let record = RecordPlace {
            source: Arc::clone(source),
            offset: place.offset,
            len: place.len,
            line: place.line,
        };
        let text = source.read_text(&file, &record).map_err(fail)?;
        if text_check(&text) != place.check {
            return Err(fail(std::io::Error::other(format!(
                "line {} changed while it was scanned",
                place.line
            ))));
        }
        Ok(text)
    }

    fn file(&self, number: u32, source: &RecordSource) -> std::io::Result<Arc<File>> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(file) = open.get(&number) {
            return Ok(Arc::clone(file));
        }
        if open.len() >= OPEN_FILES {
            open.clear();
        }
        let file = Arc::new(source.open()?);
        open.insert(number, Arc::clone(&file));
        Ok(file)
    }
}
