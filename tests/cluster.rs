//! The distributed scan (feature `cluster`): the same pairs and clusters as a
//! single scan, byte for byte, over threads and over processes on loopback;
//! a failed or killed process leaves no output.

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

/// Starts process `process` of `processes`, each with 2 workers (quiet
/// unless `extra` starts with `--loud`, which is not passed on).
fn start(input: &Path, hosts: &Path, processes: usize, process: usize, extra: &[&str]) -> Child {
    start_command("scan", input, hosts, (processes, process), extra)
}

/// Starts `command` as process `process` of `processes`.
fn start_command(
    command: &str,
    input: &Path,
    hosts: &Path,
    (processes, process): (usize, usize),
    extra: &[&str],
) -> Child {
    let (quiet, extra) = match extra.split_first() {
        Some((&"--loud", rest)) => (None, rest),
        _ => (Some("--quiet"), extra),
    };
    Command::new(binary())
        .arg(command)
        .args(quiet)
        .args(["--workers", "2", "--processes"])
        .arg(processes.to_string())
        .arg("--process")
        .arg(process.to_string())
        .arg("--hostfile")
        .arg(hosts)
        .args(extra)
        .arg(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The pairs and clusters files of a scan over `processes` processes of 2
/// workers each, on loopback; process 0 writes them.
fn cluster_scan(input: &Path, processes: usize, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    cluster_run(input, processes, extra).0
}

/// The same, with what every process printed on stderr.
fn cluster_run(input: &Path, processes: usize, extra: &[&str]) -> ((Vec<u8>, Vec<u8>), String) {
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
    let mut messages = String::from_utf8_lossy(&first.stderr).into_owned();
    for (i, child) in others.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "process {}: {}",
            i + 1,
            String::from_utf8_lossy(&out.stderr)
        );
        messages.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    ((std::fs::read(pairs).unwrap(), std::fs::read(clusters).unwrap()), messages)
}

/// The same with one process of `workers` threads.
fn threads_scan(input: &Path, workers: usize, extra: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let workers = workers.to_string();
    let args: Vec<&str> =
        ["--workers", workers.as_str()].into_iter().chain(extra.iter().copied()).collect();
    scan_in_one_process(input, &args)
}

/// Asserts that two (pairs, clusters) outputs (or kept and removed
/// records) are the same, showing the first line that differs rather than
/// both outputs.
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
fn process_0_writes_only_the_pairs_on_stdout() {
    // Nothing of the connection step may reach stdout, where `--format
    // jsonl` writes the pairs (timely's own connection step prints there).
    let demo = repo().join("corpora/demo");
    let single =
        neardup().args(["scan", "--quiet", "--format", "jsonl"]).arg(&demo).output().unwrap();
    assert!(single.status.success());
    assert!(line_count(&single.stdout) > 100);
    let dir = Dir::new();
    let hosts = hostfile(&dir, 2);
    // Process 0 starts first and waits for process 1.
    let first = start(&demo, &hosts, 2, 0, &["--format", "jsonl"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let other = start(&demo, &hosts, 2, 1, &[]).wait_with_output().unwrap();
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(other.status.success(), "{}", String::from_utf8_lossy(&other.stderr));
    assert!(first.stdout == single.stdout, "{}", String::from_utf8_lossy(&first.stdout));
    assert!(other.stdout.is_empty(), "{}", String::from_utf8_lossy(&other.stdout));
}

#[test]
fn a_process_that_never_starts_fails_the_run_in_time() {
    let demo = repo().join("corpora/demo");
    let dir = Dir::new();
    let hosts = hostfile(&dir, 3);
    let pairs = dir.join("p.jsonl");
    let flags = ["--connect-timeout", "1", "--pairs", pairs.to_str().unwrap()];
    let began = std::time::Instant::now();
    let first = start(&demo, &hosts, 3, 0, &flags).wait_with_output().unwrap();
    let message = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(2), "{message}");
    assert!(message.contains("waited 1 s for process 1 (127.0.0.1:"), "{message}");
    assert!(message.contains("process 2 (127.0.0.1:"), "{message}");
    assert!(began.elapsed() < std::time::Duration::from_secs(30));
    assert!(!pairs.exists());
}

#[test]
fn processes_started_with_other_commands_are_refused() {
    let demo = repo().join("corpora/demo");
    let dir = Dir::new();
    let hosts = hostfile(&dir, 2);
    let kept = dir.join("kept.jsonl");
    let other =
        start_command("dedup", &demo, &hosts, (2, 1), &["--output", kept.to_str().unwrap()]);
    let first = start(&demo, &hosts, 2, 0, &[]).wait_with_output().unwrap();
    let other = other.wait_with_output().unwrap();
    for (out, peer) in [(first, 1), (other, 0)] {
        let message = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{message}");
        assert!(message.contains(&format!("process {peer} runs another command")), "{message}");
    }
    assert!(!kept.exists());
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

/// A JSONL file of the demo corpus's text files, in their reading order,
/// with records the shares must read as one reader does: records without
/// an id (named FILE:LINE, so line numbers must run on across shares),
/// lines that are not JSON, and, at the end, a record repeating the first
/// one's id and text (skipped, as a single scan skips it: were it kept, it
/// would be an exact copy of the first).
fn demo_as_jsonl(dir: &Dir) -> (PathBuf, String, usize) {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![repo().join("corpora/demo")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "txt") {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut lines, mut bad) = (Vec::new(), 0);
    let mut first = None;
    for (i, path) in files.iter().enumerate() {
        let text = std::fs::read_to_string(path).unwrap();
        let id = path.file_stem().unwrap().to_string_lossy().into_owned();
        let record = if i % 5 == 0 {
            serde_json::json!({ "text": text })
        } else {
            serde_json::json!({ "id": id, "text": text })
        };
        if i == 1 {
            first = Some(record.clone());
        }
        lines.push(record.to_string());
        if i % 9 == 0 {
            lines.push("this line is not JSON".into());
            bad += 1;
        }
    }
    let first = first.unwrap();
    lines.push(first.to_string());
    let path = dir.write("demo.jsonl", lines.join("\n") + "\n");
    (path, first["id"].as_str().unwrap().to_owned(), bad)
}

#[test]
fn split_files_are_read_as_one_reader_reads_them() {
    let dir = Dir::new();
    let (jsonl, repeated, bad) = demo_as_jsonl(&dir);
    let single = single_scan(&jsonl, &[]);
    assert!(line_count(&single.0) > 50);
    // Ids of records without one name their line: the shares number lines
    // as one reader does.
    assert!(String::from_utf8_lossy(&single.0).contains("demo.jsonl:"));
    assert_same(&threads_scan(&jsonl, 4, &[]), &single, "1 process, 4 workers");
    for processes in [2, 3] {
        let (got, messages) = cluster_run(&jsonl, processes, &["--loud"]);
        assert_same(&got, &single, &format!("{processes} processes"));
        // The repeated id is reported by the process whose share holds it,
        // with the place of the first record.
        let repeat = format!("duplicate id \"{repeated}\"");
        assert_eq!(messages.matches(&repeat).count(), 1, "{messages}");
        // Every bad line is reported once: no line is read by two shares.
        assert_eq!(messages.matches("not a JSON object").count(), bad, "{messages}");
    }
}

/// The kept records and removed rows of a `dedup` of `input` over
/// `processes` processes of 2 workers (their parts of the kept records
/// joined in order; decompressed when `gz`).
fn cluster_dedup(input: &Path, processes: usize, flags: &[&str], gz: bool) -> (Vec<u8>, Vec<u8>) {
    let dir = Dir::new();
    let hosts = hostfile(&dir, processes);
    let kept = dir.join(if gz { "kept.jsonl.gz" } else { "kept.jsonl" });
    let removed = dir.join("removed.jsonl");
    let mut args: Vec<&str> = vec!["--output", kept.to_str().unwrap()];
    args.extend(flags);
    let mut children: Vec<Child> = (1..processes)
        .map(|i| start_command("dedup", input, &hosts, (processes, i), &args))
        .collect();
    args.extend(["--removed", removed.to_str().unwrap()]);
    children.insert(0, start_command("dedup", input, &hosts, (processes, 0), &args));
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "process {i}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let mut joined = Vec::new();
    for i in 0..processes {
        let part = if processes == 1 {
            kept.clone()
        } else {
            let ext = if gz { "jsonl.gz" } else { "jsonl" };
            dir.join(&format!("kept-{i:05}-of-{processes:05}.{ext}"))
        };
        joined.extend(std::fs::read(part).unwrap());
    }
    if gz {
        // Concatenated gzip files are one gzip stream.
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&joined[..]), &mut plain)
            .unwrap();
        joined = plain;
    }
    (joined, std::fs::read(removed).unwrap())
}

#[test]
fn a_cluster_dedup_writes_what_a_dedup_writes() {
    let dir = Dir::new();
    let (jsonl, _, _) = demo_as_jsonl(&dir);
    let demo = repo().join("corpora/demo");
    let flags = ["--drop-aggregators", "--drop-contained"];
    for input in [demo.as_path(), jsonl.as_path()] {
        let single = Dir::new();
        let (kept, removed) = (single.join("kept.jsonl"), single.join("removed.jsonl"));
        neardup()
            .args(["dedup", "--quiet", "--output"])
            .arg(&kept)
            .arg("--removed")
            .arg(&removed)
            .args(flags)
            .arg(input)
            .assert()
            .success();
        let want = (std::fs::read(&kept).unwrap(), std::fs::read(&removed).unwrap());
        // Copies, aggregators and contained documents are all dropped.
        let removed_text = String::from_utf8_lossy(&want.1).into_owned();
        for reason in ["\"copy\"", "\"aggregator\"", "\"contained\""] {
            assert!(removed_text.contains(reason), "no {reason} in {removed_text}");
        }
        let what = input.display();
        assert_same(&cluster_dedup(input, 1, &flags, false), &want, &format!("{what}: 1 process"));
        assert_same(
            &cluster_dedup(input, 3, &flags, false),
            &want,
            &format!("{what}: 3 processes"),
        );
        assert_same(
            &cluster_dedup(input, 2, &flags, true),
            &want,
            &format!("{what}: 2 processes, gz"),
        );
    }
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

/// A process killed mid-run stops the others with an error and no output,
/// instead of leaving them waiting or aborting them.
#[cfg(unix)]
#[test]
fn a_killed_process_stops_the_others_cleanly() {
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    let dir = Dir::new();
    // Shares are cut by size in reading order: of 4 workers, the text file
    // goes to worker 2 and the named pipe after it (size 0) to worker 3,
    // both of process 1. Process 1 then waits on the pipe, connected and
    // mid-run, until it is killed.
    let text = dir.write("a.txt", "A short article that only fills a share.\n");
    let pipe = dir.join("b.txt");
    assert!(Command::new("mkfifo").arg(&pipe).status().unwrap().success());
    let hosts = hostfile(&dir, 2);
    let text = text.to_str().unwrap();
    let mut other = start(&pipe, &hosts, 2, 1, &[text]);
    let pairs = dir.join("p.jsonl");
    let mut first = start(&pipe, &hosts, 2, 0, &[text, "--pairs", pairs.to_str().unwrap()]);
    // Opening the pipe for writing returns once process 1 opens it.
    let (opened, writer) = mpsc::channel();
    let path = pipe.clone();
    std::thread::spawn(move || opened.send(std::fs::File::create(path)));
    let writer = writer.recv_timeout(Duration::from_secs(60));
    other.kill().unwrap();
    other.wait().unwrap();
    let writer = writer.expect("process 1 did not open its share within 60 s").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while first.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            first.kill().unwrap();
            panic!("process 0 still ran 60 s after process 1 was killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(writer);
    let first = first.wait_with_output().unwrap();
    let message = String::from_utf8_lossy(&first.stderr);
    assert_eq!(first.status.code(), Some(2), "{message}");
    assert!(message.contains("the cluster stopped"), "{message}");
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
        (vec!["--processes", "2", "--connect-timeout", "0"], "not a number of seconds"),
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
