//! Pass 1 of a scan: stream the documents, sketch them in parallel batches
//! and write what the later stages need to scratch storage.
//!
//! ```text
//! reader thread ──batches──▶ rayon: extract text (HTML), featurize, band keys
//!                                 ──▶ writer thread: table, stores, spills
//! ```
//!
//! Three threads overlap reading (and decompressing, and parsing), sketching
//! and writing; bounded channels keep at most a few batches in flight, so
//! memory does not depend on the input size. Exact copies are recognised as
//! they arrive (by content hash): only the first of each is written to the
//! shingle store and the spills.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::sync_channel;

use rayon::prelude::*;

use crate::attribute::parse_date;
use crate::candidates::band_entry_key;
use crate::duplicates::DuplicateGroups;
use crate::ingest::{Document, RecordPlace};
use crate::progress::{Progress, Stage};
use crate::shingle::ShingleSet;
use crate::sketch::Signature;
use crate::spill::{BlobRef, BlobStore, EntrySpill, KeySpill, Resources, Spill};
use crate::spin::MIN_REWRITE_TOKENS;
use crate::{Error, Result};

use super::Scanner;
use super::candidate_pass::CHAR_VIEW;
use super::corpus::{Corpus, StoredBandTags, encode_full_set};
use super::docs::{DocCounts, DocRecord, DocTable, StoredDoc, StoredText};
use super::frequencies::{KEY_PARTITIONS, push_keys};
use super::text_sources::TextSources;

/// Documents sketched together.
const BATCH_DOCS: usize = 2048;
/// Bytes of content sketched together (whichever limit comes first).
const BATCH_BYTES: usize = 32 << 20;
/// Most documents in one scan: the top bit of a document index marks
/// removed passage entries.
pub(crate) const MAX_DOCS: u64 = (1 << 31) - 1;
/// Partitions of each scratch spill on disk. A partition larger than one
/// batch of the grouping stages (half the sort budget, 4M entries by
/// default: see [`EntrySpill::drain`]) is split before it is sorted, one
/// more write and read of it: 128 partitions hold about 540M entries
/// unsplit. (Measured when shingle frequencies were such entries, 530 a
/// document of the generated 1M-document corpus: with 32 partitions that
/// scan spent 34 s more in the frequency stage than ten 100k scans; 256
/// partitions cost 5 % of a 100k scan and 25 MB more peak memory.)
const DISK_PARTITIONS: usize = 128;

/// The number of partitions of a spill kept as `spill` says.
pub(super) fn partitions_for(spill: &Spill) -> usize {
    match spill {
        Spill::Memory => 1,
        Spill::Dir(_) => DISK_PARTITIONS,
    }
}

/// The entries pass 1 spreads for the grouping stages.
pub(super) struct Spills {
    /// A key for each shingle of each distinct document: document
    /// frequencies (`None` when the frequent shingles are known).
    pub shingle_keys: Option<KeySpill>,
    /// `(fingerprint, doc)`: passage candidates.
    pub passages: EntrySpill,
    /// `(band entry key, doc)` of every view: LSH candidates.
    pub bands: EntrySpill,
}

/// Counts of pass 1.
#[derive(Default)]
pub(super) struct SketchCounts {
    pub input_bytes: u64,
    pub text_bytes: u64,
    /// Distinct non-empty contents.
    pub distinct: u64,
    pub empty_documents: u64,
}

/// One document after sketching: what pass 1 keeps of it. A distributed
/// scan sends it between processes, hence the serde derives.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DocSketch {
    /// The document id.
    pub id: String,
    /// Its URL, if known.
    pub url: Option<String>,
    /// Its date as written in the input.
    pub date: Option<String>,
    /// The record as read, when the reader kept it.
    pub raw: Option<Vec<u8>>,
    /// The text (extracted, for HTML).
    pub text: String,
    /// Where the text can be read again, when it need not be stored (not
    /// sent between processes: a sketch received from another keeps its
    /// text).
    #[serde(skip)]
    pub place: Option<RecordPlace>,
    /// Bytes of the input record.
    pub input_bytes: u64,
    /// Hash of the normalized tokens (`None`: no tokens).
    pub content_hash: Option<u128>,
    /// Number of tokens.
    pub tokens: u32,
    /// Word shingles.
    pub shingles: ShingleSet,
    /// Passage fingerprints.
    #[serde(with = "crate::shingle::hash_bytes")]
    pub fingerprints: Vec<u64>,
    /// `(view << 8 | band, key)` of every band of every view.
    pub band_keys: Vec<(u16, u32)>,
}

impl DocSketch {
    /// The band keys as grouping keys (see [`band_entry_key`]), sorted.
    pub fn band_entries(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self
            .band_keys
            .iter()
            .map(|&(band, key)| band_entry_key(usize::from(band), key))
            .collect();
        out.sort_unstable();
        out
    }
}

impl Scanner {
    /// Pass 1: sketches every input (`sketch`; `size` estimates its bytes
    /// for batching) and writes the scratch data. Inputs are documents, or
    /// sketches made earlier (the index matcher sketches its batch first).
    pub(super) fn sketch_all<T, I>(
        &self,
        documents: I,
        size: impl Fn(&T) -> usize + Send,
        sketch: impl Fn(T) -> DocSketch + Sync,
        resources: &Resources,
        progress: &dyn Progress,
    ) -> Result<(Corpus, Spills, SketchCounts)>
    where
        T: Send,
        I: Iterator<Item = T> + Send,
    {
        progress.start(Stage::Sketching, None);
        let char_bands = if self.config.spin.enabled && self.config.spin.char_ngram > 0 {
            self.char_lsh().bands
        } else {
            0
        };
        let builder = CorpusBuilder::new(resources, char_bands, self.known_frequent.is_none())?;
        let built = std::thread::scope(|scope| {
            let (batch_tx, batch_rx) = sync_channel::<Vec<T>>(1);
            scope.spawn(move || {
                let mut documents = documents;
                loop {
                    let mut batch = Vec::with_capacity(BATCH_DOCS);
                    let mut bytes = 0;
                    for doc in documents.by_ref() {
                        bytes += size(&doc);
                        batch.push(doc);
                        if batch.len() >= BATCH_DOCS || bytes >= BATCH_BYTES {
                            break;
                        }
                    }
                    if batch.is_empty() || batch_tx.send(batch).is_err() {
                        return;
                    }
                }
            });
            let (out_tx, out_rx) = sync_channel::<Vec<DocSketch>>(1);
            let writer = scope.spawn(move || -> Result<CorpusBuilder> {
                let mut builder = builder;
                for batch in out_rx {
                    for sketched in batch {
                        builder.add(sketched)?;
                    }
                }
                Ok(builder)
            });
            for batch in batch_rx {
                let count = batch.len() as u64;
                let sketched: Vec<DocSketch> = batch.into_par_iter().map(&sketch).collect();
                if out_tx.send(sketched).is_err() {
                    break; // The writer stopped on an error; it reports it.
                }
                progress.advance(count);
            }
            drop(out_tx);
            match writer.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })?;
        progress.finish();
        built.finish()
    }

    /// Extracts the text (for HTML) and computes everything pass 1 keeps of
    /// one document (content hash, shingles, fingerprints, band keys).
    pub fn sketch(&self, doc: Document) -> DocSketch {
        let input_bytes = doc.body.len() as u64;
        let text = doc.body.into_text(doc.url.as_deref());
        let f = self.featurizer.featurize(&text);
        let mut band_keys = Vec::new();
        if f.content_hash.is_some() {
            let mut views: Vec<(&Signature, crate::candidates::LshParams)> =
                vec![(&f.signature, self.lsh)];
            if self.config.spin.enabled && f.tokens >= MIN_REWRITE_TOKENS {
                views.push((&f.spin_signature, self.spin_lsh()));
                if self.config.spin.char_ngram > 0 {
                    views.push((&f.char_signature, self.char_lsh()));
                }
            }
            let mut keys = Vec::new();
            for (view, (signature, params)) in views.into_iter().enumerate() {
                // A view with nothing in it (no immutable words) has an
                // all-empty signature that would put every such document in
                // one bucket; it gives no candidates instead.
                if signature.as_slice().iter().all(|&m| m == u32::MAX) {
                    continue;
                }
                keys.clear();
                params.band_keys_into(signature, &mut keys);
                band_keys.extend(
                    keys.iter().enumerate().map(|(band, &k)| (((view << 8) | band) as u16, k)),
                );
            }
        }
        DocSketch {
            id: doc.id,
            url: doc.url,
            date: doc.date,
            raw: doc.raw,
            text,
            place: doc.place,
            input_bytes,
            content_hash: f.content_hash,
            tokens: f.tokens,
            shingles: f.shingles,
            fingerprints: f.fingerprints,
            band_keys,
        }
    }
}

/// Writes sketched documents, in input order, to the table, the stores and
/// the spills.
struct CorpusBuilder {
    docs: DocTable,
    doc_store: BlobStore,
    text_sources: TextSources,
    set_store: BlobStore,
    content_len: Vec<u32>,
    representative_of: Vec<u32>,
    /// Content hash → first document with that content: the low 64 bits of
    /// the hash as key, the next 32 as a check (16 bytes per distinct
    /// document instead of 32 for the whole hash).
    seen: HashMap<u64, (u32, u32)>,
    spills: Spills,
    char_tags: StoredBandTags,
    counts: SketchCounts,
    buf: Vec<u8>,
}

impl CorpusBuilder {
    /// A builder; `char_bands` is the number of bands of the character view
    /// (0: the view is off); `count_shingles`: whether document frequencies
    /// are counted.
    fn new(resources: &Resources, char_bands: usize, count_shingles: bool) -> Result<Self> {
        let spill = &resources.spill;
        let partitions = partitions_for(spill);
        Ok(CorpusBuilder {
            docs: DocTable::new(BlobStore::new(spill)?),
            doc_store: BlobStore::new(spill)?,
            text_sources: TextSources::default(),
            set_store: BlobStore::new(spill)?,
            content_len: Vec::new(),
            representative_of: Vec::new(),
            seen: HashMap::new(),
            spills: Spills {
                shingle_keys: count_shingles.then(|| resources.key_spill(KEY_PARTITIONS)),
                passages: resources.entry_spill(partitions)?,
                bands: resources.entry_spill(partitions)?,
            },
            char_tags: StoredBandTags::new(spill, char_bands)?,
            counts: SketchCounts::default(),
            buf: Vec::new(),
        })
    }

    fn add(&mut self, s: DocSketch) -> Result<()> {
        let doc = self.docs.len() as u64;
        if doc >= MAX_DOCS {
            return Err(Error::TooManyDocuments { limit: MAX_DOCS });
        }
        let doc = doc as u32;
        self.buf.clear();
        let text = match &s.place {
            Some(place) => StoredText::Place(self.text_sources.place_of(place, &s.text)),
            None => StoredText::Inline(&s.text),
        };
        StoredDoc::encode(
            s.url.as_deref(),
            s.date.as_deref(),
            s.raw.as_deref(),
            text,
            &mut self.buf,
        );
        let stored = self.doc_store.append(&self.buf)?;
        let mut record = DocRecord {
            stored,
            counts: DocCounts {
                bytes: s.text.len() as u64,
                tokens: s.tokens,
                shingles: s.shingles.len() as u32,
                boilerplate: 0,
            },
            date: s.date.as_deref().and_then(parse_date).map_or(i64::MIN, |t| t.as_second()),
            sets: BlobRef::default(),
        };
        self.counts.input_bytes += s.input_bytes;
        self.counts.text_bytes += record.counts.bytes;

        let representative = match s.content_hash {
            None => {
                self.counts.empty_documents += 1;
                doc
            }
            Some(hash) => {
                let (key, check) = (hash as u64, (hash >> 64) as u32);
                match *self.seen.entry(key).or_insert((check, doc)) {
                    (seen, first) if seen == check => first,
                    // Same key, other content (odds 2^-64 a pair): a
                    // distinct document, left out of the table.
                    _ => doc,
                }
            }
        };
        self.representative_of.push(representative);
        self.char_tags.push(
            s.band_keys.iter().filter(|&&(vb, _)| u32::from(vb >> 8) == CHAR_VIEW).map(|&(_, k)| k),
        )?;
        if representative != doc || s.content_hash.is_none() {
            self.content_len.push(0);
            return self.docs.push(&s.id, &record);
        }
        self.buf.clear();
        encode_full_set(s.shingles.as_slice(), &mut self.buf);
        record.sets = self.set_store.append(&self.buf)?;
        self.counts.distinct += 1;
        self.docs.push(&s.id, &record)?;
        self.content_len.push(s.shingles.len() as u32);
        let spills = &mut self.spills;
        if let Some(keys) = &mut spills.shingle_keys {
            push_keys(keys, s.shingles.as_slice())?;
        }
        for &fp in &s.fingerprints {
            spills.passages.push(spills.passages.partition_of_hash(fp), fp, doc)?;
        }
        for &(band, key) in &s.band_keys {
            let entry = band_entry_key(usize::from(band), key);
            spills.bands.push(spills.bands.partition_of_hash(entry), entry, doc)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<(Corpus, Spills, SketchCounts)> {
        self.doc_store.seal()?;
        self.char_tags.seal()?;
        self.docs.seal(Arc::new(self.doc_store), self.text_sources)?;
        if let Some(id) = self.docs.first_repeated_id() {
            return Err(Error::DuplicateId(id.to_owned()));
        }
        let docs = self.docs;
        let groups =
            DuplicateGroups::from_representatives(self.representative_of, self.counts.distinct);
        let corpus = Corpus {
            docs,
            groups,
            content_len: self.content_len,
            char_tags: self.char_tags,
            set_store: self.set_store,
        };
        Ok((corpus, self.spills, self.counts))
    }
}
