//! Directory traversal: which files under a directory are documents, and in
//! which format.
//!
//! `walkdir` (BurntSushi; used by ripgrep's ancestors and cargo) does the
//! walking: sorted entries make the document order, and therefore every
//! output, independent of the file system; it detects symlink loops when
//! links are followed. Hidden files and directories (names starting with
//! `.`) are skipped, as are files whose name names no known format; the
//! latter are counted so the user can tell that something was left out.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{Origin, display_path};

/// The formats a file can hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// One text document.
    Text,
    /// One HTML page.
    Html,
    /// JSONL records.
    Jsonl,
    /// WARC or WET records.
    Warc,
}

/// The format a file name announces, once a compression suffix is removed.
pub(super) fn kind_from_name(path: &Path) -> Option<Kind> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let name = ["gz", "gzip", "zst", "zstd"]
        .iter()
        .find_map(|suffix| name.strip_suffix(&format!(".{suffix}")))
        .unwrap_or(&name);
    let ext = name.rsplit_once('.')?.1;
    Some(match ext {
        "txt" | "text" | "md" | "markdown" => Kind::Text,
        "html" | "htm" | "xhtml" => Kind::Html,
        "jsonl" | "ndjson" => Kind::Jsonl,
        "warc" | "wet" | "arc" => Kind::Warc,
        _ => return None,
    })
}

/// The format of a stream from its first (decompressed) bytes.
pub(super) fn kind_from_content(head: &[u8]) -> Kind {
    let start =
        head.iter().position(|b| !b.is_ascii_whitespace()).map_or(&head[..0], |p| &head[p..]);
    if start.starts_with(b"WARC/") {
        return Kind::Warc;
    }
    if start.starts_with(b"{") {
        return Kind::Jsonl;
    }
    let lower: Vec<u8> = start.iter().take(1024).map(u8::to_ascii_lowercase).collect();
    if start.starts_with(b"<")
        && (memchr::memmem::find(&lower, b"<html").is_some()
            || memchr::memmem::find(&lower, b"<!doctype html").is_some())
    {
        return Kind::Html;
    }
    Kind::Text
}

/// One item found under a directory.
pub(super) enum Entry {
    /// A file in a known format; `id` is its path relative to the root.
    File { path: PathBuf, id: String, kind: Kind, size: u64 },
    /// An entry that could not be visited.
    Problem { origin: Origin, message: String },
}

/// Everything found under one root.
pub(super) struct Listing {
    pub entries: Vec<Entry>,
    /// Files whose names name no format.
    pub ignored: u64,
    /// Symbolic links, not followed.
    pub links: u64,
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Lists the documents under `root`, sorted by path.
pub(super) fn list_files(root: &Path, follow_symlinks: bool) -> Listing {
    let mut listing = Listing { entries: Vec::new(), ignored: 0, links: 0 };
    let walker = WalkDir::new(root)
        .follow_links(follow_symlinks)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in walker {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                let path = err.path().unwrap_or(root).to_path_buf();
                listing.entries.push(Entry::Problem {
                    origin: Origin::file(&path),
                    message: err
                        .io_error()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| err.to_string()),
                });
                continue;
            }
        };
        if entry.file_type().is_symlink() {
            // Only reached when links are not followed.
            listing.links += 1;
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let size = entry.metadata().map_or(0, |m| m.len());
        let path = entry.into_path();
        match kind_from_name(&path) {
            Some(kind) => {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let id = display_path(relative);
                listing.entries.push(Entry::File { path, id, kind, size });
            }
            None => listing.ignored += 1,
        }
    }
    listing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_announce_formats() {
        let k = |n: &str| kind_from_name(Path::new(n));
        assert_eq!(k("a.txt"), Some(Kind::Text));
        assert_eq!(k("a.MD"), Some(Kind::Text));
        assert_eq!(k("page.html.gz"), Some(Kind::Html));
        assert_eq!(k("shard-0001.jsonl.zst"), Some(Kind::Jsonl));
        assert_eq!(k("CC-MAIN-2024.warc.wet.gz"), Some(Kind::Warc));
        assert_eq!(k("crawl.warc.gz"), Some(Kind::Warc));
        assert_eq!(k("notes.csv"), None);
        assert_eq!(k("README"), None);
    }

    #[test]
    fn content_announces_formats() {
        assert_eq!(kind_from_content(b"WARC/1.0\r\n"), Kind::Warc);
        assert_eq!(kind_from_content(b"  {\"id\": 1}"), Kind::Jsonl);
        assert_eq!(kind_from_content(b"<!DOCTYPE html><html>"), Kind::Html);
        assert_eq!(kind_from_content(b"Just a story."), Kind::Text);
        assert_eq!(kind_from_content(b"<not really html"), Kind::Text);
    }
}
