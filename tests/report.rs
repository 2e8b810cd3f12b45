//! `neardup report`, `scan --html` and `neardup explain` through the real
//! binary (the report in a browser: `browser.rs`).

use serde_json::Value;

use crate::util::{Dir, article, drop_paragraph, neardup, read_jsonl};

/// Article 03, an edited reprint, a page carrying article 04 among other
/// text, article 04 itself, and an unrelated article.
fn corpus() -> Dir {
    let dir = Dir::new();
    let a3 = article("03");
    dir.write("docs/a3.txt", &a3);
    dir.write("docs/a3-reprint.txt", drop_paragraph(&a3, 2));
    let a4 = article("04");
    dir.write("docs/a4.txt", &a4);
    dir.write("docs/page.txt", format!("{}\n\n{a4}\n\n{}", article("05"), article("06")));
    dir.write("docs/other.txt", article("08"));
    dir
}

/// The JSON data inside a report.
fn report_data(html: &str) -> Value {
    let start = html.find("type=\"application/json\">").unwrap() + 24;
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

#[test]
fn a_report_holds_every_pair_with_both_texts_and_aligned_passages() {
    let dir = corpus();
    let (pairs, clusters, html) =
        (dir.join("pairs.jsonl"), dir.join("clusters.jsonl"), dir.join("r.html"));
    neardup()
        .args(["scan", "--quiet", "--pairs"])
        .arg(&pairs)
        .arg("--clusters")
        .arg(&clusters)
        .arg(dir.join("docs"))
        .assert()
        .success();
    let rows = read_jsonl(&pairs);
    assert!(rows.len() >= 2, "{rows:?}");
    neardup()
        .args(["report", "--pairs"])
        .arg(&pairs)
        .arg("--clusters")
        .arg(&clusters)
        .arg("-o")
        .arg(&html)
        .arg(dir.join("docs"))
        .assert()
        .success();
    let data = report_data(&std::fs::read_to_string(&html).unwrap());
    let shown = data["pairs"].as_array().unwrap();
    assert_eq!(shown.len(), rows.len());
    for (row, pair) in rows.iter().zip(shown) {
        let doc = |k: &str| &data["docs"][pair[k].as_u64().unwrap() as usize];
        assert_eq!(doc("a")["id"], row["a"]);
        assert_eq!(doc("b")["id"], row["b"]);
        assert!(doc("a")["text"].is_string() && doc("b")["text"].is_string());
        assert_eq!(pair["relation"], row["relation"]);
        assert!(!pair["blocks"].as_array().unwrap().is_empty(), "{pair}");
    }
    // The page carries a4: one block that spans all of a4.
    let contained = shown.iter().find(|p| p["relation"] == "contained").unwrap();
    let a = &data["docs"][contained["a"].as_u64().unwrap() as usize];
    let a_len = a["text"].as_str().unwrap().trim_end().encode_utf16().count() as u64;
    let block = &contained["blocks"][0];
    assert!(block[0].as_u64().unwrap() < 5 && block[1].as_u64().unwrap() + 5 > a_len, "{block}");
    assert_eq!(data["clusters"].as_array().unwrap().len(), read_jsonl(&clusters).len());
}

#[test]
fn scan_html_writes_the_same_report_with_the_scanned_count() {
    let dir = corpus();
    let html = dir.join("scan.html");
    neardup()
        .args(["scan", "--quiet", "--html"])
        .arg(&html)
        .arg(dir.join("docs"))
        .assert()
        .success();
    let data = report_data(&std::fs::read_to_string(&html).unwrap());
    assert_eq!(data["scanned"], 5);
    assert!(data["pairs"].as_array().unwrap().len() >= 2);
}

#[test]
fn scan_html_refuses_standard_input_before_reading_it() {
    let dir = Dir::new();
    let out = neardup()
        .args(["scan", "-", "--html"])
        .arg(dir.join("r.html"))
        .write_stdin("{\"id\":\"a\",\"text\":\"x\"}\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("standard input"));
    assert!(!dir.join("r.html").exists());
}

#[test]
fn a_damaged_pairs_file_is_named_with_its_line() {
    let dir = corpus();
    let pairs = dir.write("pairs.jsonl", "{\"a\":\"docs/a3.txt\"}\n");
    let out = neardup()
        .args(["report", "--pairs"])
        .arg(&pairs)
        .arg("-o")
        .arg(dir.join("r.html"))
        .arg(dir.join("docs"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pairs.jsonl:1:") && err.contains("missing field"), "{err}");
    assert!(!dir.join("r.html").exists());
}

#[test]
fn explain_shows_the_relation_passages_and_changed_words() {
    let dir = corpus();
    let out = neardup()
        .arg("explain")
        .arg(dir.join("docs/a4.txt"))
        .arg(dir.join("docs/page.txt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("is carried inside"), "{text}");
    assert!(text.contains("relation contained"), "{text}");
    assert!(text.contains("[1] ") && text.contains("a = b: "), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");
    // Coloured on request: each replaced word in red (a) and green (b).
    let a3 = article("03");
    assert!(a3.contains(" said "));
    let spun = a3.replace(" said ", " stated ");
    dir.write("spun.txt", &spun);
    let out = neardup()
        .args(["explain", "--color", "always"])
        .arg(dir.join("docs/a3.txt"))
        .arg(dir.join("spun.txt"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\x1b[31msaid\x1b[0m"), "{text}");
    assert!(text.contains("\x1b[32mstated\x1b[0m"), "{text}");
}

#[test]
fn explain_exits_1_for_unrelated_documents() {
    let dir = corpus();
    let out = neardup()
        .arg("explain")
        .arg(dir.join("docs/a3.txt"))
        .arg(dir.join("docs/other.txt"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("are not related"));
}

#[test]
fn an_index_report_and_explain_by_id_read_the_stored_texts() {
    let dir = corpus();
    let index = dir.join("index");
    for batch in [["docs/a3.txt", "docs/a4.txt"], ["docs/a3-reprint.txt", "docs/page.txt"]] {
        neardup()
            .args(["index", "add", "--quiet", "--index"])
            .arg(&index)
            .args(batch.map(|p| dir.join(p)))
            .assert()
            .success();
    }
    let out = neardup().args(["index", "pairs", "--index"]).arg(&index).output().unwrap();
    let rows = crate::util::jsonl(&String::from_utf8(out.stdout).unwrap());
    assert!(rows.len() >= 2);
    let html = dir.join("index.html");
    neardup()
        .args(["index", "report", "--quiet", "--index"])
        .arg(&index)
        .arg("-o")
        .arg(&html)
        .assert()
        .success();
    let data = report_data(&std::fs::read_to_string(&html).unwrap());
    assert_eq!(data["pairs"].as_array().unwrap().len(), rows.len());
    assert_eq!(data["scanned"], 4);
    for pair in data["pairs"].as_array().unwrap() {
        let a = &data["docs"][pair["a"].as_u64().unwrap() as usize];
        assert!(a["text"].as_str().is_some_and(|t| !t.is_empty()), "{a}");
        assert!(!pair["blocks"].as_array().unwrap().is_empty());
    }
    // explain by id gives the relation the index holds.
    let (a, b) = (rows[0]["a"].as_str().unwrap(), rows[0]["b"].as_str().unwrap());
    let out = neardup().args(["explain", "--index"]).arg(&index).args([a, b]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let relation = rows[0]["relation"].as_str().unwrap();
    assert!(text.contains(&format!("relation {relation} ")), "{text}");
    // An id the index does not hold is named.
    let out =
        neardup().args(["explain", "--index"]).arg(&index).args([a, "nope.txt"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no document with id \"nope.txt\""));
}

#[test]
fn explain_never_passes_escape_sequences_from_documents_to_the_terminal() {
    let dir = Dir::new();
    let text = format!("\x1b]0;owned\x07\x1b[2J {}", article("03"));
    let a = dir.write("a.txt", &text);
    let b = dir.write("b.txt", text.replace(" said ", " stated "));
    let out = neardup().args(["explain", "--color", "never"]).arg(&a).arg(&b).output().unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(!shown.contains('\x1b') && !shown.contains('\x07'), "{shown:?}");
    assert!(shown.contains("[stated]"), "{shown}");
}
