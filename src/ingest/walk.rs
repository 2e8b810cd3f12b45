//! Directory traversal: which files under a directory are documents.
//!
//! `walkdir` (BurntSushi; used by ripgrep's ancestors and cargo) does the
//! walking: sorted entries make the document order, and therefore every
//! output, independent of the file system; it detects symlink loops when
//! links are followed. Hidden files and directories (names starting with
//! `.`) are skipped, as are files whose extension is neither text nor JSONL;
//! the latter are counted so the user can tell that something was left out.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::{JSONL_EXTENSIONS, Origin, TEXT_EXTENSIONS, display_path};

/// One item found under a directory.
pub(super) enum Entry {
    /// A text document and its id (path relative to the root).
    Text { path: PathBuf, id: String },
    /// A JSONL file.
    Jsonl(PathBuf),
    /// An entry that could not be visited.
    Problem { origin: Origin, message: String },
}

/// Everything found under one root.
pub(super) struct Listing {
    pub entries: Vec<Entry>,
    pub ignored: u64,
}

fn extension(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase())
}

/// Returns true if and only if the file name says JSONL.
pub(super) fn is_jsonl(path: &Path) -> bool {
    extension(path).is_some_and(|e| JSONL_EXTENSIONS.contains(&e.as_str()))
}

fn is_text(path: &Path) -> bool {
    extension(path).is_some_and(|e| TEXT_EXTENSIONS.contains(&e.as_str()))
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Lists the documents under `root`, sorted by path.
pub(super) fn list_files(root: &Path, follow_symlinks: bool) -> Listing {
    let mut listing = Listing { entries: Vec::new(), ignored: 0 };
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
            listing.ignored += 1;
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let path = entry.into_path();
        if is_jsonl(&path) {
            listing.entries.push(Entry::Jsonl(path));
        } else if is_text(&path) {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let id = display_path(relative);
            listing.entries.push(Entry::Text { path, id });
        } else {
            listing.ignored += 1;
        }
    }
    listing
}
