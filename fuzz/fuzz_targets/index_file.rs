//! Index files: the manifest, segments and the state file.
//!
//! The first byte picks the kind of file and whether the rest is written as
//! it is (headers, lengths and checksums must then survive the mutations)
//! or framed: cut into sections (`u16` length, bytes) and given a valid
//! header and checksums, so that the decoders behind the checksums are
//! reached. The file is then opened and read the way `neardup index` does.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::ScanConfig;
use neardup::index::format::{self, FileKind};
use neardup::index::manifest::{MANIFEST_FILE, config_fingerprint};
use neardup::index::segment::SECTIONS;
use neardup::index::{Index, IndexState, Manifest, Section, Segment};

fn sections(mut data: &[u8], count: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let Some((len, rest)) = data.split_first_chunk::<2>() else { break };
        let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
        out.push(&rest[..len]);
        data = &rest[len..];
    }
    out.resize(count, &[]);
    out
}

fn read_segment(path: &std::path::Path, fingerprint: u64) {
    let Ok(segment) = Segment::open(path, fingerprint) else { return };
    let _ = segment.verify();
    let _ = segment.docs();
    let _ = segment.replaced();
    let _ = segment.links();
    let _ = segment.report_frames();
    for section in [Section::Bands, Section::Passages, Section::Postings] {
        let _ = segment.entries(section);
    }
    let locals: Vec<u32> = (0..segment.meta().docs.min(8)).collect();
    let _ = segment.texts(&locals);
    let _ = segment.load();
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let dir = tempfile::tempdir().expect("a scratch folder");
    let fingerprint = config_fingerprint(&ScanConfig::default());
    let (kind, name, count) = match mode % 3 {
        0 => (FileKind::Manifest, MANIFEST_FILE, 1),
        1 => (FileKind::Segment, "segment.ndx", SECTIONS),
        _ => (FileKind::Clusters, "state.ndx", 1),
    };
    let bytes = if mode & 0x80 == 0 {
        rest.to_vec()
    } else {
        let parts = sections(rest, count);
        let fingerprint = match kind {
            // A manifest's header carries the fingerprint of its own
            // configuration.
            FileKind::Manifest => {
                postcard::from_bytes::<Manifest>(parts[0]).map_or(fingerprint, |m| m.fingerprint())
            }
            _ => fingerprint,
        };
        format::encode(kind, fingerprint, &parts)
    };
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("a scratch file");
    match kind {
        FileKind::Manifest => {
            if Manifest::read(dir.path()).is_ok()
                && let Ok(index) = Index::open(dir.path())
            {
                let _ = index.verify();
                let _ = index.stats();
            }
        }
        FileKind::Segment => read_segment(&path, fingerprint),
        FileKind::Clusters => {
            if let Ok(state) = IndexState::read(&path, fingerprint) {
                let _ = state.cluster_of();
            }
        }
    }
});
