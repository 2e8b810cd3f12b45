//! The output must not depend on the number of threads.

use std::path::Path;

use crate::util::{Dir, devset, neardup, repo};

/// Pairs, clusters and stdout of a scan with `threads` threads.
fn scan_with(threads: &str, input: &Path) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let dir = Dir::new();
    let out = neardup()
        .env("RAYON_NUM_THREADS", threads)
        .args(["scan", "--quiet", "--max-clusters", "0", "--pairs"])
        .arg(dir.join("p.jsonl"))
        .arg("--clusters")
        .arg(dir.join("c.jsonl"))
        .arg(input)
        .assert()
        .success();
    (
        std::fs::read(dir.join("p.jsonl")).unwrap(),
        std::fs::read(dir.join("c.jsonl")).unwrap(),
        out.get_output().stdout.clone(),
    )
}

#[test]
fn demo_output_is_identical_on_one_and_two_threads() {
    let demo = repo().join("corpora/demo");
    let one = scan_with("1", &demo);
    assert!(!one.0.is_empty());
    assert_eq!(one, scan_with("2", &demo));
    assert_eq!(one, scan_with("4", &demo));
}

#[test]
fn devset_output_is_identical_on_one_and_two_threads() {
    let Some(devset) = devset() else { return };
    let mixed = devset.join("mixed/docs");
    let one = scan_with("1", &mixed);
    assert!(one.0.len() > 1000);
    assert_eq!(one, scan_with("2", &mixed));
}
