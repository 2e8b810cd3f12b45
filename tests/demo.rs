//! The demo corpus: reproducible, and fully detected.

use std::path::{Path, PathBuf};

use crate::util::{Dir, neardup, repo};

/// The demo-corpus generator, built by `cargo test` with the examples.
fn generator() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/integration-<hash> → target/<profile>/examples/
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    examples.join(format!("demo-corpus{}", std::env::consts::EXE_SUFFIX))
}

fn files_under(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir(root)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(root).unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walkdir(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn committed_variants_match_a_fresh_generator_run() {
    let out = Dir::new();
    let status = std::process::Command::new(generator())
        .arg("--out")
        .arg(out.path())
        .status()
        .expect("the demo-corpus example is built by cargo test");
    assert!(status.success());
    let demo = repo().join("corpora/demo");
    let generated = files_under(out.path());
    assert!(!generated.is_empty());
    for (name, bytes) in &generated {
        let committed = std::fs::read(demo.join(name)).unwrap_or_default();
        assert!(
            committed == *bytes,
            "corpora/demo/{name} differs from the generator's output; run `cargo run --example demo-corpus`"
        );
    }
    let committed_copies = files_under(&demo.join("copies"));
    let generated_copies = files_under(&out.join("copies"));
    assert_eq!(
        committed_copies.len(),
        generated_copies.len(),
        "stale files in corpora/demo/copies"
    );
}

#[test]
fn every_labelled_pair_of_the_demo_is_found_and_nothing_else() {
    let demo = repo().join("corpora/demo");
    let out = neardup()
        .args(["eval", "--format", "json", "--truth"])
        .arg(demo.join("truth.json"))
        .arg(&demo)
        .assert()
        .success();
    let e: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(e["overall"]["fp"], 0, "{e}");
    assert_eq!(e["overall"]["fn"], 0, "{e}");
    assert!(e["overall"]["tp"].as_u64().unwrap() >= 40);
}
