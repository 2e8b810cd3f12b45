//! The distributed scan (feature `cluster`): the same pairs and clusters as a
//! single scan, byte for byte, over threads and over processes on loopback;
//! a failed process leaves no output.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::util::{Dir, devset, neardup, repo};

/// The pairs and clusters files of a single-machine scan.
fn single_scan(input: &Path, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    scan_in_one_process(input, extra)
}

/// The pairs and clusters files of a scan in this process (distributed
/// over threads when `extra` says so).
fn scan_in_one_process(input: &Path, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = Dir::new();
    neardup()
        .args(["scan", "--quiet", "--pairs"])
        .arg(dir.join("p.jsonl"))
        .arg("--clusters")
        .arg(dir.join("c.jsonl"))
        .args(extra)
        .arg(input)
        .assert()
        .success();
    (std::fs::read(dir.join("p.jsonl")).unwrap(), std::fs::read(dir.join("c.jsonl")).unwrap())
}

/// Free loopback ports for `n` processes (taken by binding to port 0; the
/// listeners are closed before the processes start).
fn hostfile(dir: &Dir, n: usize) -> PathBuf {
    let listeners: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    let lines: Vec<String> =
        listeners.iter().map(|l| format!("127.0.0.1:{}", l.local_addr().unwrap().port())).collect();
    dir.write("hosts.txt", lines.join("\n") + "\n")
}

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("neardup")
}

/// Starts process `process` of `processes`, each with 2 workers.
fn start(input: &Path, hosts: &Path, processes: usize, process: usize, extra: &[&str]) -> Child {
    Command::new(binary())
        .args(["scan", "--quiet", "--workers", "2", "--processes"])
        .arg(processes.to_string())
        .arg("--process")
        .arg(process.to_string())
        .arg("--hostfile")
        .arg(hosts)
        .args(extra)
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The pairs and clusters files of a scan over `processes` processes of 2
/// workers each, on loopback; process 0 writes them.
fn cluster_scan(input: &Path, processes: usize, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let dir = Dir::new();
    let hosts = hostfile(&dir, processes);
    let others: Vec<Child> =
        (1..processes).map(|i| start(input, &hosts, processes, i, extra)).collect();
    let pairs = dir.join("p.jsonl");
    let clusters = dir.join("c.jsonl");
    let mut first_args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    first_args.extend([
        "--pairs".into(),
        pairs.display().to_string(),
        "--clusters".into(),
        clusters.display().to_string(),
    ]);
    let first_args: Vec<&str> = first_args.iter().map(String::as_str).collect();
    let first = start(input, &hosts, processes, 0, &first_args).wait_with_output().unwrap();
    assert!(first.status.success(), "process 0: {}", String::from_utf8_lossy(&first.stderr));
    for (i, child) in others.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "process {}: {}",
            i + 1,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (std::fs::read(pairs).unwrap(), std::fs::read(clusters).unwrap())
}

/// The same with one process of `workers` threads.
fn threads_scan(input: &Path, workers: usize, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let workers = workers.to_string();
    let args: Vec<&str> =
        ["--workers", workers.as_str()].into_iter().chain(extra.iter().copied()).collect();
    scan_in_one_process(input, &args)
}

/// Asserts that two (pairs, clusters) outputs are the same, showing the
/// first line that differs rather than both outputs.
fn assert_same(got: &(Vec<u8>, Vec<u8>), want: &(Vec<u8>, Vec<u8>), what: &str) {
    for (name, g, w) in [("pairs", &got.0, &want.0), ("clusters", &got.1, &want.1)] {
        let (g, w) = (String::from_utf8_lossy(g), String::from_utf8_lossy(w));
        if let Some((i, (a, b))) = g.lines().zip(w.lines()).enumerate().find(|(_, (a, b))| a != b) {
            panic!("{what}: {name} line {} differs:\n  got  {a}\n  want {b}", i + 1);
        }
        assert_eq!(g.lines().count(), w.lines().count(), "{what}: number of {name} lines");
    }
}

fn line_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
}

#[test]
fn a_cluster_scan_writes_what_a_scan_writes() {
    let demo = repo().join("corpora/demo");
    let single = single_scan(&demo, &[]);
    // Every relation of the demo corpus: exact and near copies, contained
    // articles, spun copies.
    assert!(line_count(&single.0) > 100 && line_count(&single.1) > 10);
    assert_same(&threads_scan(&demo, 1, &[]), &single, "1 worker");
    assert_same(&threads_scan(&demo, 3, &[]), &single, "1 process, 3 workers");
    for processes in [1, 2, 3] {
        let what = format!("{processes} processes of 2 workers");
        assert_same(&cluster_scan(&demo, processes, &[]), &single, &what);
    }
}

#[test]
fn oversized_buckets_are_paired_through_the_same_hub() {
    // A bucket cap of 2 makes most buckets oversized: their pairs go
    // through a hub, which only a whole bucket on one worker can choose as
    // a single scan does.
    let demo = repo().join("corpora/demo");
    let extra = ["--bucket-cap", "2"];
    let single = single_scan(&demo, &extra);
    let dir = Dir::new();
    let stats = dir.join("stats.json");
    let with_stats = ["--bucket-cap", "2", "--stats", stats.to_str().unwrap()];
    assert_same(&threads_scan(&demo, 3, &with_stats), &single, "3 workers");
    let stats: serde_json::Value = serde_json::from_slice(&std::fs::read(&stats).unwrap()).unwrap();
    assert!(stats["oversized_groups"].as_u64().unwrap() > 0, "no bucket was oversized: {stats}");
    assert_same(&cluster_scan(&demo, 2, &extra), &single, "2 processes");
}

#[test]
fn devset_cluster_scan_writes_what_a_scan_writes() {
    let Some(devset) = devset() else { return };
    let mixed = devset.join("mixed/docs");
    let single = single_scan(&mixed, &[]);
    assert!(line_count(&single.0) > 800);
    assert_same(&cluster_scan(&mixed, 2, &[]), &single, "2 processes");
}

#[test]
fn a_failed_process_leaves_no_output() {
    // Process 1 cannot read its input: it fails, and process 0 must not
    // write a result that looks complete.
    let demo = repo().join("corpora/demo");
    let dir = Dir::new();
    let hosts = hostfile(&dir, 2);
    let missing = dir.join("missing.jsonl");
    let other = start(&missing, &hosts, 2, 1, &[]);
    let pairs = dir.join("p.jsonl");
    let first = start(&demo, &hosts, 2, 0, &["--pairs", pairs.to_str().unwrap()])
        .wait_with_output()
        .unwrap();
    let other = other.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(2), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(String::from_utf8_lossy(&first.stderr).contains("failed; no output written"));
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("missing.jsonl"));
    assert!(!pairs.exists());
}

#[test]
fn cluster_flags_are_checked() {
    let demo = repo().join("corpora/demo");
    let dir = Dir::new();
    for (args, message) in [
        (vec!["--workers", "0"], "at least 1"),
        (vec!["--processes", "2", "--process", "2"], "process 2 does not exist"),
        (vec!["--workers", "2", "--format", "csv"], "--format csv"),
    ] {
        neardup()
            .arg("scan")
            .args(&args)
            .arg(&demo)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(message));
    }
    let short = dir.write("hosts.txt", "127.0.0.1:1\n");
    neardup()
        .args(["scan", "--processes", "2", "--hostfile"])
        .arg(&short)
        .arg(&demo)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("1 addresses for 2 processes"));
    neardup()
        .args(["scan", "--workers", "2", "-"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("standard input"));
}
