//! The documents of one scan between its stages: the [`DocTable`], the
//! groups of identical copies, and each distinct document's shingle sets in
//! a [`BlobStore`] (located by the document's record).
//!
//! A distinct document's stored sets are its *content* shingles and, apart,
//! its *boilerplate* shingles (see [`crate::boilerplate`]); their union is
//! the full set. Verification reads both for each candidate pair, so no set
//! is held in memory longer than one comparison.

use crate::Result;
use crate::candidates::BandTags;
use crate::duplicates::DuplicateGroups;
use crate::features::{Featurizer, ShingleSequence};
use crate::shingle::ShingleSet;
use crate::spill::{BlobRef, BlobStore, Spill, bytes_to_u64s, u64s_to_bytes};

use super::docs::DocTable;
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

/// Appends the stored form of a document's sets to `out`.
pub(super) fn encode_sets(content: &[u64], boilerplate: &[u64], out: &mut Vec<u8>) {
    out.extend_from_slice(&(content.len() as u32).to_le_bytes());
    u64s_to_bytes(content, out);
    u64s_to_bytes(boilerplate, out);
}

pub(super) fn decode_sets(bytes: &[u8]) -> Option<DocSets> {
    let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let rest = &bytes[4..];
    let (content, boilerplate) = rest.split_at_checked(n * 8)?;
    Some(DocSets {
        content: ShingleSet::from_hashes(bytes_to_u64s(content)),
        boilerplate: bytes_to_u64s(boilerplate),
    })
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
        if at.is_empty() {
            return Ok(DocSets::default());
        }
        let bytes = self.set_store.read(at).map_err(scratch_error)?;
        decode_sets(&bytes)
            .ok_or_else(|| scratch_error(std::io::Error::other("stored shingle set is corrupt")))
    }

    /// The text of `doc` with its shingle sequence.
    pub fn load_text(&self, doc: u32, featurizer: &Featurizer) -> Result<DocText> {
        let text = self.docs.text(doc)?;
        let sequence = featurizer.sequence(&text);
        Ok(DocText { text, sequence })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_round_trip_and_boilerplate_sharing() {
        let mut buf = Vec::new();
        encode_sets(&[1, 5, 9], &[3], &mut buf);
        let a = decode_sets(&buf).unwrap();
        assert_eq!(a.content.as_slice(), [1, 5, 9]);
        assert!(a.is_boilerplate(3) && !a.is_boilerplate(5));
        let b = DocSets { content: ShingleSet::from_hashes(vec![3, 4]), boilerplate: vec![] };
        let c = DocSets { content: ShingleSet::from_hashes(vec![7]), boilerplate: vec![] };
        assert!(a.share_boilerplate(&b) && b.share_boilerplate(&a));
        assert!(!a.share_boilerplate(&c));
        assert!(decode_sets(&buf[..7]).is_none());
    }
}
