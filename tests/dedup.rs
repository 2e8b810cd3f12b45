//! `neardup dedup`: kept records, the record of what was dropped and why,
//! keep rules, aggregators and contained documents.

use std::io::Read;

use predicates::prelude::*;
use serde_json::{Value, json};

use crate::util::{Dir, article, drop_paragraph, neardup, read_jsonl};

/// Runs `neardup dedup` on `input` with `args`; returns (kept, removed).
fn dedup(dir: &Dir, input: &std::path::Path, args: &[&str]) -> (Vec<Value>, Vec<Value>) {
    let (out, removed) = (dir.join("kept.jsonl"), dir.join("removed.jsonl"));
    neardup()
        .args(["dedup", "--quiet", "-o"])
        .arg(&out)
        .arg("--removed")
        .arg(&removed)
        .args(args)
        .arg(input)
        .assert()
        .success();
    (read_jsonl(&out), read_jsonl(&removed))
}

fn ids(records: &[Value]) -> Vec<&str> {
    records.iter().map(|r| r["id"].as_str().unwrap()).collect()
}

#[test]
fn jsonl_records_are_written_back_exactly_as_read() {
    let dir = Dir::new();
    let a = article("03");
    // Odd spacing, key order, escapes and extra fields must all survive.
    let lines = [
        format!(
            "{{ \"lang\" : \"en\", \"id\":\"first\",  \"text\": {}, \"score\": 0.5e1 }}",
            json!(a)
        ),
        json!({"id": "copy", "text": a.to_uppercase(), "meta": {"source": "x"}}).to_string(),
        format!("{{\"id\":\"other\",\"text\":{},\"tags\":[\"caf\\u00e9\"]}}", json!(article("15"))),
    ];
    let input = dir.write("in.jsonl", lines.join("\n") + "\n");
    let out = dir.join("kept.jsonl");
    neardup()
        .args(["dedup", "--quiet", "--keep", "first", "-o"])
        .arg(&out)
        .arg(&input)
        .assert()
        .success();
    let kept = std::fs::read_to_string(&out).unwrap();
    assert_eq!(kept, format!("{}\n{}\n", lines[0], lines[2]));
}

#[test]
fn every_dropped_record_names_the_kept_one_with_scores() {
    let dir = Dir::new();
    let a = article("05");
    let docs = [
        json!({"id": "a", "text": a, "date": "2024-03-02"}),
        json!({"id": "a-upper", "text": a.to_uppercase(), "date": "2024-03-01"}),
        json!({"id": "a-cut", "text": drop_paragraph(&a, 3), "date": "2024-03-05"}),
        json!({"id": "b", "text": article("10")}),
    ];
    let input =
        dir.write("in.jsonl", docs.iter().map(|d| d.to_string() + "\n").collect::<String>());
    let (kept, removed) = dedup(&dir, &input, &[]);
    // The original is the earliest dated copy.
    assert_eq!(ids(&kept), ["a-upper", "b"]);
    assert_eq!(ids(&removed), ["a", "a-cut"]);
    for r in &removed {
        assert_eq!(r["reason"], "copy");
        assert_eq!(r["kept"], "a-upper");
        assert!(r["cluster"].is_string());
        assert!(r["jaccard"].as_f64().unwrap() > 0.5);
    }
    assert_eq!(removed[0]["relation"], "duplicate");
    assert_eq!(removed[0]["jaccard"], 1.0);
    assert_eq!(removed[1]["relation"], "near_duplicate");
    // A paragraph shorter: nearly all of it is in the kept copy, less of
    // the kept copy is in it.
    let (inside, of_kept) = (
        removed[1]["containment_in_kept"].as_f64().unwrap(),
        removed[1]["containment_of_kept"].as_f64().unwrap(),
    );
    assert!(inside > 0.95 && of_kept < inside, "{inside} {of_kept}");
}

#[test]
fn keep_rules_choose_which_copy_stays() {
    let dir = Dir::new();
    let a = article("08");
    let longer = format!("{a}\n\nThis report was updated with comments from the school on Friday.");
    let docs = [
        json!({"id": "first", "text": drop_paragraph(&a, 1), "date": "2024-06-03"}),
        json!({"id": "longest", "text": longer, "date": "2024-06-02"}),
        json!({"id": "earliest", "text": a, "date": "2024-06-01T09:00:00Z"}),
    ];
    let input =
        dir.write("in.jsonl", docs.iter().map(|d| d.to_string() + "\n").collect::<String>());
    for (rule, expected) in [
        ("first", "first"),
        ("longest", "longest"),
        ("earliest", "earliest"),
        ("original", "earliest"),
    ] {
        let (kept, removed) = dedup(&dir, &input, &["--keep", rule]);
        assert_eq!(ids(&kept), [expected], "--keep {rule}");
        assert_eq!(removed.len(), 2);
        assert!(removed.iter().all(|r| r["kept"] == expected));
    }
}

#[test]
fn aggregators_and_contained_documents_go_only_when_asked() {
    let dir = Dir::new();
    let (a, b) = (article("12"), article("17"));
    let teaser: String = a.split("\n\n").take(3).collect::<Vec<_>>().join("\n\n");
    let page = format!("Home | News | Sport\n\n{a}\n\n{b}\n\nRead more stories on our site.");
    let docs = [
        json!({"id": "a", "text": a}),
        json!({"id": "b", "text": b}),
        json!({"id": "page", "text": page}),
        json!({"id": "teaser", "text": teaser}),
    ];
    let input =
        dir.write("in.jsonl", docs.iter().map(|d| d.to_string() + "\n").collect::<String>());
    let (kept, removed) = dedup(&dir, &input, &[]);
    assert_eq!(ids(&kept), ["a", "b", "page", "teaser"]);
    assert!(removed.is_empty());

    let (kept, removed) = dedup(&dir, &input, &["--drop-aggregators"]);
    assert_eq!(ids(&kept), ["a", "b", "teaser"]);
    assert_eq!(removed[0]["id"], "page");
    assert_eq!(removed[0]["reason"], "aggregator");
    let carries: Vec<&str> =
        removed[0]["carries"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(carries.contains(&"a") && carries.contains(&"b"), "{carries:?}");
    assert!(removed[0]["coverage"].as_f64().unwrap() > 0.9);

    let (kept, removed) = dedup(&dir, &input, &["--drop-aggregators", "--drop-contained"]);
    assert_eq!(ids(&kept), ["a", "b"]);
    let teaser = removed.iter().find(|r| r["id"] == "teaser").unwrap();
    assert_eq!((&teaser["reason"], &teaser["kept"]), (&json!("contained"), &json!("a")));

    // An aggregator share above what the page reaches keeps it.
    let (kept, _) = dedup(&dir, &input, &["--drop-aggregators", "--aggregator-share", "1.0"]);
    assert!(ids(&kept).contains(&"page"));
}

#[test]
fn output_is_compressed_as_its_name_says() {
    let dir = Dir::new();
    let a = article("20");
    let input = dir.write(
        "in.jsonl",
        format!("{}\n{}\n", json!({"id": "x", "text": a}), json!({"id": "y", "text": a})),
    );
    for (name, decode) in [("kept.jsonl.gz", "gzip"), ("kept.jsonl.zst", "zstd")] {
        let out = dir.join(name);
        neardup().args(["dedup", "--quiet", "-o"]).arg(&out).arg(&input).assert().success();
        let bytes = std::fs::read(&out).unwrap();
        let mut text = String::new();
        match decode {
            "gzip" => flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).unwrap(),
            _ => zstd::Decoder::new(&bytes[..]).unwrap().read_to_string(&mut text).unwrap(),
        };
        assert_eq!(text.lines().count(), 1, "{name}");
        assert!(text.starts_with("{\"id\":\"x\""));
    }
    // Standard output, and a clear error for a place that cannot be written.
    neardup()
        .args(["dedup", "--quiet", "-o", "-"])
        .arg(&input)
        .assert()
        .success()
        .stdout(predicate::str::starts_with("{\"id\":\"x\""));
    neardup()
        .args(["dedup", "-o"])
        .arg(dir.join("no/such/folder/kept.jsonl"))
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/folder/kept.jsonl"));
    neardup()
        .args(["dedup", "-o", "-", "--removed", "-"])
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot both be standard output"));
}
