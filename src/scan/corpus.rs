//! The documents of one scan between its stages: the [`DocTable`], the
//! groups of identical copies, and each distinct document's shingle sets in
//! a [`BlobStore`] (located by the document's record).
//!
//! A distinct document's stored sets are its *content* shingles and, apart,
//! its *boilerplate* shingles (see [`crate::boilerplate`]); their union is
//! the full set. The first pass stores the full set; a document found to
//! have boilerplate gets a second record that names the first and lists the
//! boilerplate (see [`encode_with_boilerplate`]). Verification reads both
//! sets for each candidate pair, so no set is held in memory longer than
//! one comparison.

use crate::Result;
use crate::candidates::BandTags;
use crate::duplicates::DuplicateGroups;
use crate::features::{Featurizer, ShingleSequence};
use crate::shingle::ShingleSet;
use crate::spill::{BlobRef, BlobStore, Resources, Spill, bytes_to_u64s, u64s_to_bytes};

use super::docs::{DocRecord, DocTable};
use super::scratch_error;

/// A distinct document's shingles, as read back for verification.
#[derive(Clone, Debug, Default)]
pub(super) struct DocSets {
    /// Content shingles.
    pub content: ShingleSet,
    /// Boilerplate shingles (sorted).
    pub boilerplate: Vec<u64>,
}

impl DocSets {
    /// Returns true if and only if `hash` is a boilerplate shingle here.
    pub fn is_boilerplate(&self, hash: u64) -> bool {
        !self.boilerplate.is_empty() && self.boilerplate.binary_search(&hash).is_ok()
    }

    /// Returns true if and only if the two full sets share a shingle that is
    /// boilerplate in one of them.
    pub fn share_boilerplate(&self, other: &DocSets) -> bool {
        let any_common = |a: &[u64], b: &[u64]| {
            let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            small.iter().any(|h| large.binary_search(h).is_ok())
        };
        (!self.boilerplate.is_empty() || !other.boilerplate.is_empty())
            && (any_common(&self.boilerplate, other.content.as_slice())
                || any_common(&self.boilerplate, &other.boilerplate)
                || any_common(self.content.as_slice(), &other.boilerplate))
    }
}

/// A document's text with its shingles in order.
pub(super) struct DocText {
    pub text: String,
    pub sequence: ShingleSequence,
}

/// The first word of a stored record that holds no set of its own but names
/// the document's full set (stored earlier) and its boilerplate shingles.
/// A full set's first word is its length, which never comes near this.
const WITH_BOILERPLATE: u32 = u32::MAX;

/// Appends the stored form of a document's full shingle set (no
/// boilerplate) to `out`.
pub(super) fn encode_full_set(set: &[u64], out: &mut Vec<u8>) {
    out.extend_from_slice(&(set.len() as u32).to_le_bytes());
    u64s_to_bytes(set, out);
}

/// Appends the stored form of a document with boilerplate to `out`: where
/// its full set is stored and its boilerplate shingles (sorted, all in the
/// full set). Its content shingles are the full set without them.
///
/// Why not the content set itself: the boilerplate pass then neither reads
/// nor writes a whole set a document. On the generated 1M-document corpus
/// 41 % of the documents have boilerplate, and storing their content sets
/// again wrote about 1.7 GB of scratch space; the lists are a few dozen
/// hashes.
pub(super) fn encode_with_boilerplate(full: BlobRef, boilerplate: &[u64], out: &mut Vec<u8>) {
    out.extend_from_slice(&WITH_BOILERPLATE.to_le_bytes());
    out.extend_from_slice(&full.offset().to_le_bytes());
    out.extend_from_slice(&(full.len() as u32).to_le_bytes());
    u64s_to_bytes(boilerplate, out);
}

/// A stored record, decoded.
enum StoredSets {
    Full(ShingleSet),
    WithBoilerplate { full: BlobRef, boilerplate: Vec<u64> },
}

fn decode_record(bytes: &[u8]) -> Option<StoredSets> {
    let (first, rest) = bytes.split_first_chunk::<4>()?;
    match u32::from_le_bytes(*first) {
        WITH_BOILERPLATE => {
            let (offset, rest) = rest.split_first_chunk::<8>()?;
            let (len, rest) = rest.split_first_chunk::<4>()?;
            if rest.len() % 8 != 0 {
                return None;
            }
            let full = BlobRef::new(u64::from_le_bytes(*offset), u32::from_le_bytes(*len));
            Some(StoredSets::WithBoilerplate { full, boilerplate: bytes_to_u64s(rest) })
        }
        n => (rest.len() == n as usize * 8)
            .then(|| StoredSets::Full(ShingleSet::from_hashes(bytes_to_u64s(rest)))),
    }
}

/// Reads the sets stored at `at` in `store` (empty for an empty `at`).
pub(super) fn read_sets(store: &BlobStore, at: BlobRef) -> Result<DocSets> {
    let corrupt = || scratch_error(std::io::Error::other("stored shingle set is corrupt"));
    if at.is_empty() {
        return Ok(DocSets::default());
    }
    let read = |at| -> Result<StoredSets> {
        decode_record(&store.read(at).map_err(scratch_error)?).ok_or_else(corrupt)
    };
    match read(at)? {
        StoredSets::Full(content) => Ok(DocSets { content, boilerplate: Vec::new() }),
        StoredSets::WithBoilerplate { full, boilerplate } => match read(full)? {
            StoredSets::Full(set) => {
                Ok(DocSets { content: set.without(&boilerplate), boilerplate })
            }
            // A full set is never stored this way: the store is corrupt.
            StoredSets::WithBoilerplate { .. } => Err(corrupt()),
        },
    }
}

/// Documents whose band tags are written to scratch space at once.
const TAG_CHUNK_DOCS: usize = 1 << 14;

/// The band tags of every document ([`BandTags`]), kept in scratch space
/// from the first pass to the candidate pass, which loads them whole.
///
/// They take 84 bytes a document for the character view. Held in memory
/// from the first pass on, they raised the peak of a 1M-document scan from
/// 302–328 MiB to 398–408 MiB, because the first two passes have the scan's
/// peak; stored, it was 347–349 MiB.
pub(super) struct StoredBandTags {
    pending: BandTags,
    store: BlobStore,
    chunks: Vec<BlobRef>,
    buf: Vec<u8>,
}

impl StoredBandTags {
    /// Tags of `bands` bands a document (0: none are kept).
    pub fn new(spill: &Spill, bands: usize) -> Result<Self> {
        let store = if bands == 0 { BlobStore::in_memory() } else { BlobStore::new(spill)? };
        Ok(StoredBandTags {
            pending: BandTags::new(bands),
            store,
            chunks: Vec::new(),
            buf: Vec::new(),
        })
    }

    /// Adds the next document's band keys (see [`BandTags::push`]).
    pub fn push(&mut self, keys: impl IntoIterator<Item = u32>) -> Result<()> {
        self.pending.push(keys);
        if self.pending.len() >= TAG_CHUNK_DOCS {
            self.write_pending()?;
        }
        Ok(())
    }

    fn write_pending(&mut self) -> Result<()> {
        if !self.pending.is_empty() {
            self.buf.clear();
            self.pending.drain_bytes_into(&mut self.buf);
            self.chunks.push(self.store.append(&self.buf)?);
        }
        Ok(())
    }

    /// Ends the writing: every document's tags can be loaded.
    pub fn seal(&mut self) -> Result<()> {
        self.write_pending()?;
        self.buf = Vec::new();
        self.store.seal()
    }

    /// The tags of every document, in memory.
    pub fn load(&self) -> Result<BandTags> {
        let bands = self.pending.bands();
        let mut tags = BandTags::new(bands);
        let bytes: usize = self.chunks.iter().map(BlobRef::len).sum();
        tags.reserve_exact(bytes.checked_div(2 * bands).unwrap_or(0));
        let mut buf = Vec::new();
        for &chunk in &self.chunks {
            self.store.read_into(chunk, &mut buf).map_err(scratch_error)?;
            if !tags.extend_from_bytes(&buf) {
                return Err(scratch_error(std::io::Error::other("stored band tags are corrupt")));
            }
        }
        Ok(tags)
    }
}

/// Per-document state of a scan between its stages.
pub(super) struct Corpus {
    pub docs: DocTable,
    pub groups: DuplicateGroups,
    /// Number of content shingles of each distinct document (0 for copies;
    /// the candidate stages weigh documents by it without reading records).
    pub content_len: Vec<u32>,
    /// Character-view band tags of every document: pairs that share one
    /// band of that view stay out of the pair spill (see [`BandTags`]).
    pub char_tags: StoredBandTags,
    pub set_store: BlobStore,
}

impl Corpus {
    /// The representative of `doc` (itself unless it is a copy).
    pub fn rep(&self, doc: u32) -> u32 {
        self.groups.representative_of[doc as usize]
    }

    /// Number of content shingles of `doc` (those of its representative).
    pub fn content_len(&self, doc: u32) -> u32 {
        self.content_len[self.rep(doc) as usize]
    }

    /// The sets of `doc` (those of its representative).
    pub fn load_sets(&self, doc: u32) -> Result<DocSets> {
        self.sets_at(self.docs.record(self.rep(doc))?.sets)
    }

    /// The sets stored at `at` (a distinct document's record says where).
    pub fn sets_at(&self, at: BlobRef) -> Result<DocSets> {
        read_sets(&self.set_store, at)
    }

    /// The full sets of the distinct documents among the `chunk.docs` from
    /// `first` on, as the first pass stored them, read at once (see
    /// [`FullSets`]); fewer documents when their sets are over
    /// `chunk.bytes` ([`FullSets::next`] says where to go on). Call before
    /// the boilerplate pass changes their records, with the store flushed.
    /// The bytes are read into `bytes`, whose content is replaced: reusing
    /// the bytes of a chunk done with spares zeroing fresh memory.
    pub fn full_sets(&self, first: u32, chunk: SetChunk, mut bytes: Vec<u8>) -> Result<FullSets> {
        let corrupt = || scratch_error(std::io::Error::other("stored shingle set is corrupt"));
        let records = self.docs.records_from(first, chunk.docs)?;
        let mut next = first + records.len() as u32;
        let mut docs = Vec::new();
        // The first pass appends the sets in document order: they are one
        // stretch of the store.
        let mut start = None;
        let mut end = 0;
        for (doc, record) in (first..).zip(records).filter(|(_, r)| !r.sets.is_empty()) {
            let first_offset = *start.get_or_insert(record.sets.offset());
            if record.sets.offset() != end && !docs.is_empty() {
                return Err(corrupt());
            }
            let len = record.sets.len() as u64;
            if !docs.is_empty() && record.sets.offset() + len - first_offset > chunk.bytes {
                next = doc;
                break;
            }
            let at = (record.sets.offset() - first_offset) as usize;
            end = record.sets.offset() + len;
            docs.push(FullSet { doc, record, start: at + 4, end: at + len as usize });
        }
        bytes.clear();
        if let Some(start) = start {
            let span = u32::try_from(end - start).map_err(|_| corrupt())?;
            self.set_store
                .read_into(BlobRef::new(start, span), &mut bytes)
                .map_err(scratch_error)?;
        }
        for set in &docs {
            let blob = bytes.get(set.start - 4..set.end).ok_or_else(corrupt)?;
            let (len, hashes) = blob.split_first_chunk::<4>().ok_or_else(corrupt)?;
            if u32::from_le_bytes(*len) as usize * 8 != hashes.len() {
                return Err(corrupt());
            }
        }
        Ok(FullSets { docs, bytes, next })
    }

    /// The text of `doc` with its shingle sequence.
    pub fn load_text(&self, doc: u32, featurizer: &Featurizer) -> Result<DocText> {
        let text = self.docs.text(doc)?;
        let sequence = featurizer.sequence(&text);
        Ok(DocText { text, sequence })
    }
}

/// How many full sets one read takes (at least one document's).
#[derive(Clone, Copy, Debug)]
pub(super) struct SetChunk {
    /// Documents (distinct or not) read at most.
    pub docs: u32,
    /// Bytes of sets read at most, unless one set is larger.
    pub bytes: u64,
}

impl SetChunk {
    /// Chunks of up to 2,048 documents and a sixteenth of the sort memory
    /// (8 MiB by default): two are in memory at once, one worked on and
    /// one being read, as much as one chunk of 16 MiB took before the
    /// next one was read ahead.
    pub fn within(resources: &Resources) -> Self {
        SetChunk { docs: 2048, bytes: (resources.sort_memory as u64 / 16).max(1) }
    }
}

/// One distinct document's full set within [`FullSets`].
pub(super) struct FullSet {
    pub doc: u32,
    pub record: DocRecord,
    /// Where its hashes are in [`FullSets::bytes`].
    start: usize,
    end: usize,
}

/// The full sets of consecutive distinct documents, read at once: the
/// passes that look at every document's shingles read them in order, a
/// chunk of the store at a time, instead of one read a document.
pub(super) struct FullSets {
    /// In document order.
    pub docs: Vec<FullSet>,
    bytes: Vec<u8>,
    /// The first document after those read.
    pub next: u32,
}

/// The full sets of every distinct document in order, a chunk at a time
/// (see [`Corpus::full_sets`]), each chunk read while the one before is
/// worked on, into the bytes of the one before that. Read in turn with the
/// work, the chunks took each pass over the full sets of the 100k corpus
/// about 45 ms on one thread while the other threads waited.
pub(super) struct SetChunks {
    chunk: SetChunk,
    current: Option<FullSets>,
    spare: Vec<u8>,
}

impl SetChunks {
    /// Reads the first chunk.
    pub fn new(corpus: &Corpus, resources: &Resources) -> Result<Self> {
        let chunk = SetChunk::within(resources);
        let current = Some(corpus.full_sets(0, chunk, Vec::new())?);
        Ok(SetChunks { chunk, current, spare: Vec::new() })
    }

    /// Runs `work` on the next chunk while the one after it is read;
    /// `None` once every chunk was worked on.
    pub fn work_next<T: Send>(
        &mut self,
        corpus: &Corpus,
        work: impl FnOnce(&FullSets) -> T + Send,
    ) -> Result<Option<T>> {
        let Some(sets) = self.current.take() else { return Ok(None) };
        let (chunk, spare) = (self.chunk, std::mem::take(&mut self.spare));
        let more = sets.next < corpus.docs.len() as u32;
        let (next, done) = rayon::join(
            || more.then(|| corpus.full_sets(sets.next, chunk, spare)).transpose(),
            || work(&sets),
        );
        self.current = next?;
        self.spare = sets.bytes;
        Ok(Some(done))
    }
}

impl FullSets {
    /// The hashes of `set` (sorted, distinct).
    pub fn hashes(&self, set: &FullSet) -> impl Iterator<Item = u64> + '_ {
        self.bytes[set.start..set.end]
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_round_trip_and_boilerplate_sharing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = BlobStore::in_dir(dir.path()).unwrap();
        let mut buf = Vec::new();
        encode_full_set(&[1, 3, 5, 9], &mut buf);
        let full = store.append(&buf).unwrap();
        buf.clear();
        encode_with_boilerplate(full, &[3], &mut buf);
        let with_boilerplate = store.append(&buf).unwrap();
        store.seal().unwrap();
        let whole = read_sets(&store, full).unwrap();
        assert_eq!(whole.content.as_slice(), [1, 3, 5, 9]);
        assert!(whole.boilerplate.is_empty());
        let a = read_sets(&store, with_boilerplate).unwrap();
        assert_eq!(a.content.as_slice(), [1, 5, 9]);
        assert!(a.is_boilerplate(3) && !a.is_boilerplate(5));
        assert!(read_sets(&store, BlobRef::default()).unwrap().content.is_empty());
        let b = DocSets { content: ShingleSet::from_hashes(vec![3, 4]), boilerplate: vec![] };
        let c = DocSets { content: ShingleSet::from_hashes(vec![7]), boilerplate: vec![] };
        assert!(a.share_boilerplate(&b) && b.share_boilerplate(&a));
        assert!(!a.share_boilerplate(&c));
    }

    #[test]
    fn corrupt_records_are_errors() {
        let mut store = BlobStore::in_memory();
        let mut buf = Vec::new();
        encode_full_set(&[1, 5, 9], &mut buf);
        let cut = store.append(&buf[..buf.len() - 1]).unwrap();
        buf.clear();
        encode_with_boilerplate(BlobRef::new(0, 8), &[1], &mut buf);
        let first = store.append(&buf).unwrap();
        // A record that names another record with boilerplate as its full set.
        buf.clear();
        encode_with_boilerplate(first, &[1], &mut buf);
        let chained = store.append(&buf).unwrap();
        buf.clear();
        encode_with_boilerplate(chained, &[1], &mut buf);
        let twice = store.append(&buf[..buf.len() - 3]).unwrap();
        store.seal().unwrap();
        for at in [cut, first, chained, twice] {
            assert!(read_sets(&store, at).is_err(), "{at:?}");
        }
    }
}
