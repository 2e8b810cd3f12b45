//! The last stage of a distributed deduplication: every worker writes the
//! kept records of its own share.
//!
//! The workers that scanned components decided which documents to drop
//! (`components`); each dropped document's number goes to the worker that
//! read it, which then writes the others, in reading order, from the
//! sketches it stored (they hold the record as read). Shares are stretches
//! of the input in reading order, so the workers' outputs, one after the
//! other, are what a single `dedup` writes.

use std::io::Write;

use crate::dedup::{DropReason, KeptRecord, write_kept_record};
use crate::{Error, Result};

use super::stages::{WorkerScan, load_sketch};

/// Where a worker writes its kept records.
pub type KeptWriter = Box<dyn Write + Send>;

impl WorkerScan<'_, '_> {
    /// Tells the owners of the `removed` documents (those this worker's
    /// components drop) to leave them out, then writes this worker's other
    /// documents to `out`.
    pub fn write_kept(&mut self, removed: &[(u32, String, DropReason)], out: Option<KeptWriter>) {
        let records: Vec<(usize, u32)> =
            removed.iter().map(|r| (self.ownership.owner(r.0), r.0)).collect();
        let mut dropped: Vec<u32> = Vec::new();
        self.net.round("dropped documents", records, |batch| dropped.extend(batch));
        dropped.sort_unstable();
        let Some(mut out) = out.filter(|_| !self.net.failed()) else { return };
        let written = self.write_owned_except(&dropped, &mut out);
        self.net.attempt(|| written);
    }

    /// Writes every stored document but `dropped` (sorted) to `out`.
    fn write_owned_except(&self, dropped: &[u32], out: &mut KeptWriter) -> Result<()> {
        let fail = |e: std::io::Error| Error::Stream { what: "the kept records", source: e };
        for owned in self.owned.iter().filter(|o| dropped.binary_search(&o.doc).is_err()) {
            let s = load_sketch(&self.sketches, owned.sketch)?;
            let record = KeptRecord {
                id: &s.id,
                url: s.url.as_deref(),
                date: s.date.as_deref(),
                text: &s.text,
            };
            write_kept_record(out, &record, s.raw.as_deref()).map_err(fail)?;
        }
        out.flush().map_err(fail)
    }
}
