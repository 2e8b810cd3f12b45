//! `neardup scan` through the real binary.

use predicates::prelude::*;

use crate::util::{Dir, article, drop_paragraph, jsonl, neardup, pair_triples, read_jsonl};

/// Article 01, an upper-case CRLF copy, a copy without one paragraph, and an
/// unrelated article.
fn family() -> Dir {
    let dir = Dir::new();
    let original = article("01");
    dir.write("a.txt", &original);
    dir.write("b.txt", original.to_uppercase().replace('\n', "\r\n"));
    dir.write("c.txt", drop_paragraph(&original, 3));
    dir.write("d.txt", article("02"));
    dir
}

fn t(a: &str, b: &str, r: &str) -> (String, String, String) {
    (a.into(), b.into(), r.into())
}

#[test]
fn scan_reports_pairs_and_clusters() {
    let dir = family();
    let (pairs, clusters) = (dir.join("pairs.jsonl"), dir.join("clusters.jsonl"));
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--pairs"])
        .arg(&pairs)
        .arg("--clusters")
        .arg(&clusters)
        .arg(dir.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let records = read_jsonl(&pairs);
    assert_eq!(
        pair_triples(&records),
        [
            t("a.txt", "b.txt", "duplicate"),
            t("a.txt", "c.txt", "near_duplicate"),
            t("b.txt", "c.txt", "near_duplicate"),
        ]
    );
    // stdout in JSONL is the same list.
    assert_eq!(jsonl(&String::from_utf8(out).unwrap()), records);
    let dup = &records[0];
    assert_eq!(dup["jaccard"], 1.0);
    assert_eq!(dup["containment_a_in_b"], 1.0);
    let near = &records[1];
    let j = near["jaccard"].as_f64().unwrap();
    assert!(j > 0.4 && j < 1.0, "jaccard {j}");
    // c lost a paragraph: nearly all of c is in a (only the shingles that
    // span the gap are new), while a's dropped paragraph is not in c.
    let c_in_a = near["containment_b_in_a"].as_f64().unwrap();
    let a_in_c = near["containment_a_in_b"].as_f64().unwrap();
    assert!(c_in_a > 0.97 && a_in_c < c_in_a, "{c_in_a} {a_in_c}");

    let clusters = read_jsonl(&clusters);
    assert_eq!(clusters.len(), 1);
    assert_eq!(clusters[0]["size"], 3);
    assert_eq!(clusters[0]["members"], serde_json::json!(["a.txt", "b.txt", "c.txt"]));
    assert_eq!(records[0]["cluster"], clusters[0]["id"]);
}

#[test]
fn ids_are_paths_relative_to_the_folder() {
    let dir = Dir::new();
    let text = article("03");
    dir.write("news/2024/one.txt", &text);
    dir.write("news/two.md", &text);
    dir.write("news/.hidden/three.txt", &text);
    let out =
        neardup().args(["scan", "--format", "jsonl"]).arg(dir.join("news")).assert().success();
    let records = jsonl(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    assert_eq!(pair_triples(&records), [t("2024/one.txt", "two.md", "duplicate")]);
}

#[test]
fn a_file_named_on_the_command_line_keeps_its_path_as_id() {
    let dir = family();
    let a = dir.join("a.txt");
    let b = dir.join("b.txt");
    let out = neardup().args(["scan", "--format", "csv"]).arg(&a).arg(&b).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let row = text.lines().nth(1).unwrap();
    assert!(row.starts_with(&format!("{},{},duplicate,1,", a.display(), b.display())), "{row}");
}

#[test]
fn jsonl_input_with_custom_fields_and_numeric_ids() {
    let dir = Dir::new();
    let text = article("04");
    let lines = [
        serde_json::json!({"doc": 1, "body": text, "extra": {"x": [1, 2]}}),
        serde_json::json!({"doc": 2, "body": drop_paragraph(&text, 2)}),
        serde_json::json!({"doc": 3, "body": article("05")}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    dir.write("docs.jsonl", body);
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--id-field", "doc", "--text-field", "body"])
        .arg(dir.join("docs.jsonl"))
        .assert()
        .success();
    let records = jsonl(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    assert_eq!(pair_triples(&records), [t("1", "2", "near_duplicate")]);
}

#[test]
fn jsonl_on_standard_input() {
    let text = article("06");
    let input = format!(
        "{}\n{}\n",
        serde_json::json!({"id": "x", "text": text}),
        serde_json::json!({"id": "y", "text": text.replace("bakery", "Bakery")})
    );
    let out =
        neardup().args(["scan", "-", "--format", "jsonl"]).write_stdin(input).assert().success();
    let records = jsonl(&String::from_utf8(out.get_output().stdout.clone()).unwrap());
    assert_eq!(pair_triples(&records), [t("x", "y", "duplicate")]);
}

#[test]
fn text_summary_lists_the_cluster() {
    let dir = family();
    neardup()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("4 documents"))
        .stdout(predicate::str::contains("3 related pairs: duplicate 1, near_duplicate 2"))
        .stdout(predicate::str::contains("1 clusters · sizes 3: 1"))
        .stdout(predicate::str::contains("b.txt  duplicate       jaccard 1.000  with a.txt"));
}

#[test]
fn missing_input_is_a_usage_error_naming_the_path() {
    neardup()
        .args(["scan", "/no/such/folder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/no/such/folder"));
    // The cause is said once, not repeated by the error chain.
    let out = neardup().args(["scan", "/no/such/folder"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(stderr.matches("/no/such/folder").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("(os error 2)").count(), 1, "{stderr}");
}

#[test]
fn bad_flags_exit_with_code_2() {
    neardup().arg("scan").assert().code(2);
    neardup().args(["scan", "--no-such-flag", "."]).assert().code(2);
    neardup().args(["scan", "--threshold", "abc", "."]).assert().code(2);
    let dir = family();
    for (flags, message) in [
        (&["--threshold", "1.5"][..], "threshold"),
        (&["--shingle-size", "0"], "shingle size"),
        (&["--bands", "100", "--rows", "2"], "100 bands"),
        (&["--bucket-cap", "1"], "bucket cap"),
        (&["--threads", "0"], "--threads"),
    ] {
        neardup()
            .arg("scan")
            .args(flags)
            .arg(dir.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
}

#[test]
fn a_folder_without_documents_is_an_error() {
    let dir = Dir::new();
    dir.write("notes.csv", "a,b\n");
    neardup()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no documents found"))
        .stderr(predicate::str::contains("ignored 1 files"));
}

#[test]
fn bad_records_are_skipped_with_a_message_naming_file_and_line() {
    let dir = family();
    dir.write("latin1.txt", b"caf\xe9 cr\xe8me br\xfbl\xe9e\n");
    dir.write("image.txt", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    dir.write(
        "records.jsonl",
        "{\"id\": \"j1\", \"text\": \"fine\"}\nnot json at all\n{\"id\": \"j3\"}\n{\"id\": \"a.txt\", \"text\": \"clash\"}\n",
    );
    let assert = neardup()
        .args(["scan", "--format", "jsonl"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "latin1.txt: not valid UTF-8 (first bad byte at offset 3)",
        ))
        .stderr(predicate::str::contains("image.txt: looks like a binary file"))
        .stderr(predicate::str::contains("records.jsonl:2: not a JSON object"))
        .stderr(predicate::str::contains("records.jsonl:3: no \"text\" field"))
        .stderr(predicate::str::contains("records.jsonl:4: duplicate id \"a.txt\""))
        .stderr(predicate::str::contains("skipped 5 records"));
    // The good documents were still scanned.
    let records = jsonl(&String::from_utf8(assert.get_output().stdout.clone()).unwrap());
    assert_eq!(records.len(), 3);
    // --strict turns skipped records into a failure.
    neardup().args(["scan", "--strict"]).arg(dir.path()).assert().code(2);
    // --lossy-utf8 keeps the Latin-1 file.
    neardup()
        .args(["scan", "--lossy-utf8"])
        .arg(dir.path())
        .assert()
        .success()
        .stderr(predicate::str::contains("latin1.txt").not());
}

#[test]
fn oversized_documents_are_skipped() {
    let dir = family();
    neardup()
        .args(["scan", "--max-doc-bytes", "100"])
        .arg(dir.path())
        .assert()
        .code(2) // every document is over the limit: nothing left to scan
        .stderr(predicate::str::contains("over the limit of 100"))
        .stderr(predicate::str::contains("no documents found"));
}

#[test]
fn output_files_are_complete_and_leave_no_temporary_files() {
    let dir = family();
    let out = Dir::new();
    neardup()
        .args(["scan", "--pairs"])
        .arg(out.join("pairs.jsonl"))
        .arg("--clusters")
        .arg(out.join("clusters.jsonl"))
        .arg(dir.path())
        .assert()
        .success();
    let mut names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["clusters.jsonl", "pairs.jsonl"]);
}

#[cfg(unix)]
#[test]
fn a_named_pipe_or_link_as_output_is_written_through_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = family();
    let out = Dir::new();
    // A named pipe stands for /dev/null, /dev/stdout and other special files
    // a user may name: replacing one by renaming a regular file over it
    // would break the system (a test cannot safely use /dev/null itself).
    let fifo = out.join("pairs.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let real = out.join("real.jsonl");
    std::fs::write(&real, "old contents\n").unwrap();
    let link = out.join("link.jsonl");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    neardup()
        .args(["scan", "--pairs"])
        .arg(&fifo)
        .arg("--clusters")
        .arg(&link)
        .arg(dir.path())
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    let piped = reader.join().unwrap();
    assert_eq!(
        pair_triples(&jsonl(&piped)),
        [
            t("a.txt", "b.txt", "duplicate"),
            t("a.txt", "c.txt", "near_duplicate"),
            t("b.txt", "c.txt", "near_duplicate"),
        ]
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let clusters = std::fs::read_to_string(&real).unwrap();
    assert!(clusters.contains("\"members\""), "{clusters}");
}

#[test]
fn an_unwritable_output_is_an_error_naming_it() {
    let dir = family();
    neardup()
        .args(["scan", "--pairs", "/no/such/dir/pairs.jsonl"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/no/such/dir/pairs.jsonl"));
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let dir = family();
    // Reading nothing of the output: the pipe closes at once.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_neardup"))
        .args(["scan", "--format", "jsonl"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn help_is_written_for_people() {
    neardup()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("scan"))
        .stdout(predicate::str::contains("eval"));
    neardup()
        .args(["scan", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--threshold"))
        .stdout(predicate::str::contains("Detection"));
}
