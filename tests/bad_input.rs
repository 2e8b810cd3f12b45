//! The bad-input matrix: hostile, broken or extreme inputs and outputs, each
//! with the behaviour users can rely on (a message naming the file and line
//! or record, a documented exit code, nothing lost, never a panic). The
//! table in the README's "Security and limits" section names these tests;
//! cases tested elsewhere are listed there too.

use std::io::Write;
use std::process::Output;

use predicates::prelude::*;

use crate::util::{Dir, neardup, repo};

/// Three unrelated demo articles in a folder.
fn folder() -> Dir {
    let dir = Dir::new();
    for name in ["01-council-budget.txt", "02-bridge-reopening.txt", "03-football-derby.txt"] {
        let text = std::fs::read(repo().join("corpora/demo/articles").join(name)).unwrap();
        dir.write(name, text);
    }
    dir
}

fn stderr(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!text.contains("panicked"), "{text}");
    text
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn an_empty_file_is_an_empty_document_and_never_paired() {
    let dir = folder();
    dir.write("empty.txt", b"");
    dir.write("also-empty.txt", b"");
    neardup()
        .args(["scan"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("4 documents").not())
        .stdout(predicate::str::contains("2 empty"))
        .stdout(predicate::str::contains("0 related pairs"));
    // Only empty documents: scanned, nothing to report, not an error.
    let only = Dir::new();
    only.write("empty.txt", b"");
    neardup().arg("scan").arg(only.path()).assert().success();
}

#[test]
fn a_one_gigabyte_document_is_skipped_by_name_without_being_read_whole() {
    let dir = folder();
    for name in ["huge.txt", "huge.jsonl"] {
        let file = std::fs::File::create(dir.join(name)).unwrap();
        file.set_len(1 << 30).unwrap(); // sparse: costs no disk
    }
    let out = neardup().args(["scan", "--format", "jsonl"]).arg(dir.path()).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("huge.txt: document is more than 67108864 bytes"), "{err}");
    assert!(err.contains("huge.jsonl:1: document is"), "{err}");
    assert!(err.contains("skipped 2 records (2 too large)"), "{err}");
}

#[test]
fn a_document_of_one_repeated_word_is_a_document_like_any_other() {
    let dir = Dir::new();
    let text = "buffalo ".repeat(1_000_000);
    dir.write("a.txt", &text);
    dir.write("b.txt", &text);
    dir.write("c.txt", "bison ".repeat(1_000_000));
    let out = neardup().args(["scan", "--format", "jsonl"]).arg(dir.path()).output().unwrap();
    stderr(&out);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains(r#""a":"a.txt","b":"b.txt","relation":"duplicate""#), "{stdout}");
}

#[test]
fn many_tiny_documents_are_all_read_and_paired_by_their_text() {
    // 200,000 in the debug build CI tests; 1,000,000 are measured in the
    // README (11.9 s in the release build).
    let count = 200_000;
    let mut jsonl = String::new();
    for i in 0..count {
        jsonl.push_str(&format!("{{\"id\": {i}, \"text\": \"note {}\"}}\n", i % (count / 2)));
    }
    let dir = Dir::new();
    let input = dir.write("tiny.jsonl", jsonl);
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--pairs"])
        .arg(dir.join("pairs.jsonl"))
        .arg(&input)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("{} documents", "200,000")), "{err}");
    let pairs = std::fs::read_to_string(dir.join("pairs.jsonl")).unwrap();
    assert_eq!(pairs.lines().count(), count / 2);
    assert!(pairs.lines().all(|l| l.contains(r#""relation":"duplicate""#)));
}

#[test]
fn a_truncated_gzip_keeps_the_records_before_the_cut() {
    let dir = folder();
    let lines: String = (0..2000)
        .map(|i| format!("{{\"id\": \"r{i}\", \"text\": \"record number {i} of the feed\"}}\n"))
        .collect();
    let gz = gzip(lines.as_bytes());
    dir.write("feed.jsonl.gz", &gz[..gz.len() / 2]);
    let out = neardup().args(["scan"]).arg(dir.path()).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let line = regex_line(&err, "feed.jsonl.gz:");
    assert!(line.contains("corrupt gzip data"), "{err}");
    let documents: u64 = err
        .split(" documents,")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .map(|n| n.replace(',', "").parse().unwrap())
        .unwrap();
    assert!(documents > 3 + 500 && documents < 3 + 2000, "{err}");
    neardup().args(["scan", "--strict"]).arg(dir.path()).assert().code(2);
}

/// The first line of `text` that contains `needle`.
fn regex_line<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}: {text}"))
}

#[test]
fn a_gzip_bomb_is_cut_off_with_a_message_naming_it() {
    let dir = folder();
    // One line of 80 MiB of spaces in about 80 KB: past the 64 MiB that any
    // stream may yield, at a ratio of about 1,000, and under the line limit
    // (twice --max-doc-bytes), so the expansion limit is what stops it.
    // (Lifting it with --max-expansion 0 is unit-tested in `ingest::compress`.)
    let bomb = gzip(&vec![b' '; 80 << 20]);
    dir.write("bomb.jsonl.gz", &bomb);
    let out = neardup().args(["scan", "--strict"]).arg(dir.path()).output().unwrap();
    let err = stderr(&out);
    let line = regex_line(&err, "bomb.jsonl.gz:");
    assert!(line.contains("decompression bomb") && line.contains("--max-expansion"), "{err}");
    assert!(err.contains("skipped 1 records (1 unreadable)"), "{err}");
    // Skipped and counted: only --strict makes it a failure.
    assert_eq!(out.status.code(), Some(2), "{err}");
}

#[test]
fn deeply_nested_html_is_read_without_a_tree() {
    let dir = folder();
    let article = std::fs::read_to_string(dir.join("01-council-budget.txt")).unwrap();
    let depth = 100_000;
    let page = format!(
        "<html><body>{}<p>{}</p>{}</body></html>",
        "<div>".repeat(depth),
        article.replace('\n', " "),
        "</div>".repeat(depth)
    );
    dir.write("deep.html", page);
    let out = neardup().args(["scan", "--format", "jsonl"]).arg(dir.path()).output().unwrap();
    stderr(&out);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(r#""01-council-budget.txt","b":"deep.html""#), "{stdout}");
}

#[cfg(unix)]
#[test]
fn symbolic_link_loops_and_dangling_links_are_reported_and_skipped() {
    let dir = folder();
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/loop")).unwrap();
    std::os::unix::fs::symlink("/no/such/file.txt", dir.join("dangling.txt")).unwrap();
    neardup()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("ignored 2 symbolic links"));
    let out = neardup().args(["scan", "--follow-symlinks"]).arg(dir.path()).output().unwrap();
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(regex_line(&err, "sub/loop").contains("loop"), "{err}");
    assert!(regex_line(&err, "dangling.txt").contains("No such file"), "{err}");
    assert!(err.contains("3 documents"), "{err}");
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_reported_and_skipped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder();
    let secret = dir.write("secret.txt", "not for you");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&secret).is_ok() {
        eprintln!("skipping: permissions do not apply to this user (root)");
        return;
    }
    neardup()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("secret.txt"))
        .stderr(predicate::str::contains("ermission denied"));
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_or_read_only_output_location_is_an_error_naming_it() {
    let demo = repo().join("corpora/demo");
    neardup()
        .args(["scan", "--quiet", "--pairs", "/dev/full"])
        .arg(&demo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/dev/full"))
        .stderr(predicate::str::contains("No space left"));
    // sysfs refuses new files even to root.
    neardup()
        .args(["scan", "--quiet", "--pairs", "/sys/pairs.jsonl"])
        .arg(&demo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/sys/pairs.jsonl"));
}

/// Builds an index of the demo articles in `dir/index`.
fn demo_index(dir: &Dir) -> std::path::PathBuf {
    let index = dir.join("index");
    neardup()
        .args(["index", "add", "--quiet", "--index"])
        .arg(&index)
        .arg(repo().join("corpora/demo/articles"))
        .assert()
        .success();
    index
}

/// A copy of the index folder `from` at `to`.
fn copy_index(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

/// `index add` of the demo copies to `index`: its exit code, its report of
/// new pairs and its messages.
fn add_copies(index: &std::path::Path, report: &std::path::Path) -> (Option<i32>, String, String) {
    let _ = std::fs::remove_file(report);
    let out = neardup()
        .args(["index", "add", "--quiet", "--index"])
        .arg(index)
        .arg("--pairs")
        .arg(report)
        .arg(repo().join("corpora/demo/copies"))
        .output()
        .unwrap();
    let err = stderr(&out);
    (out.status.code(), std::fs::read_to_string(report).unwrap_or_default(), err)
}

#[test]
fn an_index_file_with_a_flipped_byte_is_refused_or_unread_never_misread() {
    let dir = Dir::new();
    let index = demo_index(&dir);
    let segment = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("seg-"))
        .unwrap();
    let name = segment.file_name().unwrap().to_string_lossy().into_owned();
    let good = std::fs::read(&segment).unwrap();
    // What adding the copies reports on the undamaged index.
    let clean = dir.join("clean");
    copy_index(&index, &clean);
    let (code, expected, err) = add_copies(&clean, &dir.join("clean.jsonl"));
    assert_eq!(code, Some(0), "{err}");
    assert!(!expected.is_empty());
    let mut refused = 0;
    for step in 0..16 {
        let at = 20 + step * (good.len() - 21) / 15;
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        std::fs::write(&segment, &bad).unwrap();
        // A full check finds the damage and names the file.
        let out = neardup().args(["index", "verify", "--index"]).arg(&index).output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "byte {at}: {err}");
        assert!(err.contains(&name), "{err}");
        assert!(err.contains("checksum mismatch") || err.contains("damaged"), "{err}");
        // A writer reads only the sections it needs, each checked: it fails
        // on damage it reads, and otherwise reports what the undamaged
        // index gives.
        let trial = dir.join(&format!("trial-{step}"));
        copy_index(&index, &trial);
        match add_copies(&trial, &dir.join("trial.jsonl")) {
            (Some(2), _, err) => {
                assert!(err.contains("checksum mismatch") || err.contains("damaged"), "{err}");
                refused += 1;
            }
            (Some(0), report, err) => assert_eq!(report, expected, "byte {at}: {err}"),
            other => panic!("byte {at}: {other:?}"),
        }
    }
    assert!(refused > 0);
    // Nothing was lost: with the byte restored, the index is whole.
    std::fs::write(&segment, &good).unwrap();
    neardup().args(["index", "verify", "--index"]).arg(&index).assert().success();
}

#[test]
fn an_index_of_another_format_version_is_refused_by_name() {
    let dir = Dir::new();
    let index = demo_index(&dir);
    let manifest = index.join("MANIFEST");
    let mut bytes = std::fs::read(&manifest).unwrap();
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    for (other, advice) in [(version + 1, "upgrade neardup"), (version - 1, "rebuild the index")] {
        bytes[8..12].copy_from_slice(&other.to_le_bytes());
        std::fs::write(&manifest, &bytes).unwrap();
        neardup()
            .args(["index", "stats", "--index"])
            .arg(&index)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!("index format version {other}")))
            .stderr(predicate::str::contains(advice));
    }
}

#[cfg(unix)]
#[test]
fn a_scan_killed_while_writing_leaves_the_old_output_or_the_whole_new_one() {
    let demo = repo().join("corpora/demo");
    let dir = Dir::new();
    let reference = dir.join("reference.jsonl");
    let started = std::time::Instant::now();
    neardup().args(["scan", "--quiet", "--pairs"]).arg(&reference).arg(&demo).assert().success();
    let run = started.elapsed();
    let reference = std::fs::read(&reference).unwrap();
    assert!(!reference.is_empty());
    let out = dir.join("pairs.jsonl");
    let mut outcomes = [0usize; 2];
    for i in 0..12u32 {
        std::fs::write(&out, b"previous run\n").unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
            .args(["scan", "--quiet", "--pairs"])
            .arg(&out)
            .arg(&demo)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Spread the kills over the whole run, the end included.
        std::thread::sleep(run.mul_f64(f64::from(i) / 10.0));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        let now = std::fs::read(&out).unwrap();
        if now == b"previous run\n" {
            outcomes[0] += 1;
        } else {
            assert_eq!(now, reference, "kill {i}: a half-written output took the old one's place");
            outcomes[1] += 1;
        }
    }
    assert!(outcomes[0] > 0, "{outcomes:?}");
}

#[test]
fn a_batch_over_the_memory_limit_is_refused_before_anything_is_stored() {
    let dir = Dir::new();
    let index = demo_index(&dir);
    let before = std::fs::read(index.join("MANIFEST")).unwrap();
    neardup()
        .args(["index", "add", "--quiet", "--max-batch-docs", "5", "--index"])
        .arg(&index)
        .arg(repo().join("corpora/demo/copies"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("more than 5 documents (--max-batch-docs)"))
        .stderr(predicate::str::contains("nothing was added"));
    assert_eq!(std::fs::read(index.join("MANIFEST")).unwrap(), before);
    // Within the limit, the same batch goes in.
    neardup()
        .args(["index", "add", "--quiet", "--max-batch-docs", "1000", "--index"])
        .arg(&index)
        .arg(repo().join("corpora/demo/copies"))
        .assert()
        .success();
    assert_ne!(std::fs::read(index.join("MANIFEST")).unwrap(), before);
}
