//! Test helpers: temporary folders, the binary, the corpora.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The `neardup` binary built for this test run.
pub fn neardup() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neardup"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/devset`, when this checkout has it.
pub fn devset() -> Option<PathBuf> {
    let path = repo().join("../shared/devset");
    if path.join("near/truth.json").exists() {
        Some(path)
    } else {
        eprintln!("skipping: ../shared/devset is not present");
        None
    }
}

/// The text of a hand-written demo article, by file-name prefix (`"07"`).
pub fn article(prefix: &str) -> String {
    let dir = repo().join("corpora/demo/articles");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    names.sort();
    std::fs::read_to_string(&names[0]).unwrap()
}

/// A temporary folder that files can be written into.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir { tmp: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `contents` to `name` (creating parent folders) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

/// Parses JSON lines.
pub fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Reads a JSONL file.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    jsonl(&std::fs::read_to_string(path).unwrap())
}

/// `(a, b, relation)` of each pair record.
pub fn pair_triples(records: &[Value]) -> Vec<(String, String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["a"].as_str().unwrap().to_string(),
                r["b"].as_str().unwrap().to_string(),
                r["relation"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Drops the paragraph at `index` (paragraphs are separated by blank lines).
pub fn drop_paragraph(text: &str, index: usize) -> String {
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    paragraphs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, p)| *p)
        .collect::<Vec<_>>()
        .join("\n\n")
}
