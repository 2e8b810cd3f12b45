//! `neardup index`: batches added one after another find what one scan
//! finds, report only what is new, and keep cluster ids.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{Dir, neardup, repo};

/// The demo corpus as JSONL batches: documents dealt round-robin, ids their
/// paths under `corpora/demo`.
fn demo_batches(dir: &Dir, batches: usize) -> Vec<(PathBuf, BTreeSet<String>)> {
    let root = repo().join("corpora/demo");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    (0..batches)
        .map(|b| {
            let mut ids = BTreeSet::new();
            let mut jsonl = String::new();
            for path in files.iter().skip(b).step_by(batches) {
                let id = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(path).unwrap();
                jsonl.push_str(&serde_json::json!({"id": id, "text": text}).to_string());
                jsonl.push('\n');
                ids.insert(id);
            }
            (dir.write(&format!("batch{b}.jsonl"), jsonl), ids)
        })
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "txt" || e == "md") {
            out.push(path);
        }
    }
}

fn pairs(jsonl: &str) -> BTreeSet<(String, String, String)> {
    jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap().to_owned();
            (s("a"), s("b"), s("relation"))
        })
        .collect()
}

#[test]
fn batches_added_one_after_another_find_what_one_scan_finds() {
    let dir = Dir::new();
    let batches = demo_batches(&dir, 3);
    let index = dir.path().join("index");
    let scan = neardup()
        .args(["scan", "--quiet", "--format", "jsonl"])
        .args(batches.iter().map(|b| &b.0))
        .output()
        .unwrap();
    assert!(scan.status.success());
    let expected = pairs(&String::from_utf8(scan.stdout).unwrap());
    assert!(expected.len() > 10, "the demo corpus has pairs");

    let mut reported = BTreeSet::new();
    for (path, ids) in &batches {
        let report = dir.path().join("new.jsonl");
        neardup()
            .args(["index", "add", "--quiet", "--index"])
            .arg(&index)
            .arg(path)
            .arg("--pairs")
            .arg(&report)
            .assert()
            .success();
        let new = pairs(&std::fs::read_to_string(&report).unwrap());
        for (a, b, _) in &new {
            assert!(ids.contains(a) || ids.contains(b), "{a} {b}: not in this batch");
        }
        reported.extend(new);
    }
    let all = neardup().args(["index", "pairs", "--index"]).arg(&index).output().unwrap();
    assert!(all.status.success());
    let stored = pairs(&String::from_utf8(all.stdout).unwrap());
    assert_eq!(stored, expected);
    assert_eq!(reported, expected, "every pair reported once, when it was new");
    neardup().args(["index", "verify", "--index"]).arg(&index).assert().success();
}

#[test]
fn a_batch_added_again_adds_nothing_and_fail_on_new_says_when_there_is_news() {
    let dir = Dir::new();
    let batches = demo_batches(&dir, 2);
    let index = dir.path().join("index");
    let add = |path: &Path| {
        neardup()
            .args(["index", "add", "--quiet", "--fail-on-new", "--index"])
            .arg(&index)
            .arg(path)
            .output()
            .unwrap()
    };
    assert_eq!(add(&batches[0].0).status.code(), Some(1), "the first batch has pairs");
    let again = add(&batches[0].0);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).starts_with("new pairs: 0"));
    let stats = |index: &Path| -> Value {
        let out = neardup().args(["index", "stats", "--index"]).arg(index).output().unwrap();
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = stats(&index);
    assert_eq!(before["generation"], 1, "nothing committed for an unchanged batch");
    // A query reports the second batch's pairs without adding it.
    let query = neardup()
        .args(["index", "query", "--quiet", "--fail-on-new", "--index"])
        .arg(&index)
        .arg(&batches[1].0)
        .output()
        .unwrap();
    assert_eq!(query.status.code(), Some(1));
    assert_eq!(stats(&index), before);
}

#[test]
fn a_changed_document_replaces_the_old_version() {
    let dir = Dir::new();
    let index = dir.path().join("index");
    let story = crate::util::article("01");
    let other = crate::util::article("02");
    let first = dir.write(
        "first.jsonl",
        format!(
            "{}\n{}\n",
            serde_json::json!({"id": "x", "text": story}),
            serde_json::json!({"id": "y", "text": story})
        ),
    );
    let second =
        dir.write("second.jsonl", format!("{}\n", serde_json::json!({"id": "y", "text": other})));
    for path in [&first, &second] {
        neardup()
            .args(["index", "add", "--quiet", "--index"])
            .arg(&index)
            .arg(path)
            .assert()
            .success();
    }
    let all = neardup().args(["index", "pairs", "--index"]).arg(&index).output().unwrap();
    assert!(pairs(&String::from_utf8(all.stdout).unwrap()).is_empty(), "y no longer copies x");
    neardup().args(["index", "verify", "--index"]).arg(&index).assert().success();
}

#[test]
fn compaction_merges_segments_and_changes_no_answer() {
    let dir = Dir::new();
    let batches = demo_batches(&dir, 3);
    // A replacement: the first document of batch 0 gets a new text.
    let replaced = batches[0].1.iter().next().unwrap().clone();
    let change = dir.write(
        "change.jsonl",
        format!("{}\n", serde_json::json!({"id": replaced, "text": crate::util::article("03")})),
    );
    let add = |index: &Path, path: &Path| {
        let report = dir.path().join("new.jsonl");
        neardup()
            .args(["index", "add", "--quiet", "--index"])
            .arg(index)
            .arg(path)
            .arg("--pairs")
            .arg(&report)
            .assert()
            .success();
        pairs(&std::fs::read_to_string(&report).unwrap())
    };
    let index_pairs = |index: &Path| {
        let out = neardup().args(["index", "pairs", "--index"]).arg(index).output().unwrap();
        assert!(out.status.success());
        pairs(&String::from_utf8(out.stdout).unwrap())
    };
    let (plain, compacted) = (dir.path().join("plain"), dir.path().join("compacted"));
    for index in [&plain, &compacted] {
        add(index, &batches[0].0);
        add(index, &batches[1].0);
        add(index, &change);
    }
    let before = index_pairs(&compacted);
    let out = neardup().args(["index", "compact", "--index"]).arg(&compacted).output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(said.contains("3 segments") && said.contains("1 replaced"), "{said}");
    neardup().args(["index", "verify", "--index"]).arg(&compacted).assert().success();
    assert_eq!(index_pairs(&compacted), before);
    let files: Vec<String> = std::fs::read_dir(&compacted)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("seg-"))
        .collect();
    assert_eq!(files.len(), 1, "the merged segment replaces the others: {files:?}");
    // The next batch finds the same new pairs with or without compaction.
    assert_eq!(add(&compacted, &batches[2].0), add(&plain, &batches[2].0));
    assert_eq!(index_pairs(&compacted), index_pairs(&plain));
    neardup().args(["index", "verify", "--index"]).arg(&compacted).assert().success();
}

#[test]
fn the_clusters_report_names_new_and_grown_clusters_with_their_new_members() {
    let dir = Dir::new();
    let index = dir.path().join("index");
    let (one, two) = (crate::util::article("01"), crate::util::article("02"));
    let line = |id: &str, text: &str| serde_json::json!({"id": id, "text": text}).to_string();
    let first = dir.write("first.jsonl", format!("{}\n{}\n", line("x", &one), line("y", &one)));
    let second = dir.write(
        "second.jsonl",
        format!("{}\n{}\n{}\n", line("z", &one), line("v", &two), line("w", &two)),
    );
    let add = |path: &Path| -> Vec<Value> {
        let report = dir.path().join("clusters.jsonl");
        neardup()
            .args(["index", "add", "--quiet", "--index"])
            .arg(&index)
            .arg(path)
            .arg("--clusters")
            .arg(&report)
            .assert()
            .success();
        let text = std::fs::read_to_string(&report).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let first = add(&first);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["change"], "new");
    assert_eq!(first[0]["members"], serde_json::json!(["x", "y"]));
    assert_eq!(first[0]["original"], "x");
    let id = first[0]["id"].clone();
    let mut second = add(&second);
    second.sort_by_key(|r| r["members"][0].as_str().unwrap().to_owned());
    assert_eq!(second.len(), 2, "{second:?}");
    let (new, grown) = (&second[0], &second[1]);
    assert_eq!((&new["change"], &new["members"]), (&"new".into(), &serde_json::json!(["v", "w"])));
    assert_ne!(new["id"], id);
    assert_eq!(grown["change"], "grown");
    assert_eq!(grown["id"], id, "a cluster keeps its id when it grows");
    assert_eq!(grown["members"], serde_json::json!(["x", "y", "z"]));
    assert_eq!(grown["new_members"], serde_json::json!(["z"]));
}

#[test]
fn a_second_writer_is_refused_naming_the_holder_while_readers_go_on() {
    let dir = Dir::new();
    let batches = demo_batches(&dir, 2);
    let index = dir.path().join("index");
    neardup()
        .args(["index", "add", "--quiet", "--index"])
        .arg(&index)
        .arg(&batches[0].0)
        .assert()
        .success();
    // This test process holds the writer lock, as a running `add` would.
    let lock = neardup::index::WriterLock::acquire(&index, neardup::index::Wait::No).unwrap();
    let second = neardup()
        .args(["index", "add", "--index"])
        .arg(&index)
        .arg(&batches[1].0)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains(&format!("pid {}", std::process::id())), "{err}");
    let compact = neardup().args(["index", "compact", "--index"]).arg(&index).output().unwrap();
    assert_eq!(compact.status.code(), Some(2), "compact is a writer too");
    // Readers see the last committed state meanwhile.
    for command in ["stats", "verify", "pairs"] {
        neardup().args(["index", command, "--index"]).arg(&index).assert().success();
    }
    neardup()
        .args(["index", "query", "--quiet", "--index"])
        .arg(&index)
        .arg(&batches[1].0)
        .assert()
        .success();
    // Waiting outlasts a holder that lets go.
    let waiter = std::thread::spawn({
        let index = index.clone();
        let batch = batches[1].0.clone();
        move || {
            neardup()
                .args(["index", "add", "--quiet", "--wait", "30", "--index"])
                .arg(&index)
                .arg(&batch)
                .output()
                .unwrap()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    drop(lock);
    assert!(waiter.join().unwrap().status.success());
}
