//! Crawl inputs: WARC and WET (plain and per-record gzip), compressed JSONL,
//! HTML files, standard input; bad records in them; the WARC reader checked
//! against an independent crate. Every fixture is built here from the
//! project's own demo articles.

use std::collections::BTreeSet;
use std::path::Path;

use neardup::ingest::{Body, DocumentReader, Input, ReadOptions};
use predicates::prelude::*;

use crate::util::{
    Dir, article, gzip, html_page, jsonl, neardup, read_jsonl, scan_records, warc_record,
    warc_response, zstd,
};

/// Unordered pairs of a `--pairs` file (or stdout), by id.
fn pairs(records: &[serde_json::Value]) -> BTreeSet<(String, String)> {
    records
        .iter()
        .map(|r| {
            let (a, b) = (r["a"].as_str().unwrap(), r["b"].as_str().unwrap());
            (a.min(b).to_string(), a.max(b).to_string())
        })
        .collect()
}

fn scan_pairs(args: &[&str], input: &Path) -> BTreeSet<(String, String)> {
    pairs(&scan_records(args, input))
}

/// Five documents: an article, its reprint with a paragraph dropped, a
/// second article, a copy of it, and an unrelated third one.
fn stories() -> Vec<(&'static str, String)> {
    let (a, b, c) = (article("02"), article("09"), article("14"));
    vec![
        ("bridge", a.clone()),
        ("bridge-reprint", crate::util::drop_paragraph(&a, 2)),
        ("hospital", b.clone()),
        ("hospital-copy", b.replace("\n\n", "\n\n\n")),
        ("chess", c),
    ]
}

/// The pairs with each id passed through `name` (and put back in order).
fn renamed(
    pairs: BTreeSet<(String, String)>,
    name: impl Fn(&str) -> &str,
) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| {
            let (a, b) = (name(a).to_string(), name(b).to_string());
            (a.clone().min(b.clone()), a.max(b))
        })
        .collect()
}

fn from_uri(id: &str) -> &str {
    id.trim_start_matches("https://example.org/")
}

fn expected_pairs() -> BTreeSet<(String, String)> {
    [("bridge", "bridge-reprint"), ("hospital", "hospital-copy")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// A `.warc.gz` with one gzip member per record, as crawlers write them.
fn warc_gz_of_pages(stories: &[(&str, String)]) -> Vec<u8> {
    let mut out = gzip(&warc_record(
        "warcinfo",
        &[("WARC-Record-ID", "<urn:uuid:info>"), ("WARC-Date", "2024-05-01T07:00:00Z")],
        b"software: neardup tests\r\n",
    ));
    for (i, (name, text)) in stories.iter().enumerate() {
        let site = if i % 2 == 0 { "The Ledger" } else { "Daily Post" };
        let uri = format!("https://example.org/{name}");
        let record = warc_response(name, &uri, "2024-05-01T08:00:00Z", &html_page(site, text));
        out.extend(gzip(&record));
    }
    out
}

#[test]
fn warc_gz_of_html_pages_finds_the_pairs_of_the_text_files() {
    let dir = Dir::new();
    for (name, text) in stories() {
        dir.write(&format!("text/{name}.txt"), text);
    }
    let warc = dir.write("crawl/pages.warc.gz", warc_gz_of_pages(&stories()));
    let from_text = renamed(scan_pairs(&[], &dir.join("text")), |s| s.trim_end_matches(".txt"));
    assert_eq!(from_text, expected_pairs());
    // Record ids name WARC documents by default; --warc-id uri names them
    // by URL.
    let by_uri = renamed(scan_pairs(&["--warc-id", "uri"], &warc), from_uri);
    assert_eq!(by_uri, expected_pairs());
    let by_record = scan_pairs(&[], &warc);
    assert!(by_record.contains(&("urn:uuid:bridge".into(), "urn:uuid:bridge-reprint".into())));
}

#[test]
fn the_page_chrome_is_not_compared() {
    // Pages of one site carrying different articles share navigation,
    // "most read" links and the footer, and nothing else.
    let dir = Dir::new();
    for (i, prefix) in ["04", "06", "11", "13", "16", "19"].iter().enumerate() {
        dir.write(&format!("site/{i}.html"), html_page("The Ledger", &article(prefix)));
    }
    // One article also as clean text: found in its page.
    dir.write("site/clean.txt", article("11"));
    let found = scan_pairs(&[], &dir.join("site"));
    assert_eq!(found, BTreeSet::from([("2.html".to_string(), "clean.txt".to_string())]));
    // The script and the navigation are not part of the text.
    let out = dir.join("kept.jsonl");
    neardup()
        .args(["dedup", "--quiet", "-o"])
        .arg(&out)
        .arg(dir.join("site/0.html"))
        .assert()
        .success();
    let text = read_jsonl(&out)[0]["text"].as_str().unwrap().to_string();
    assert!(!text.contains("do not read me") && !text.contains("Sign in"), "{text}");
    assert!(text.contains(article("04").split("\n\n").nth(1).unwrap().trim()));
}

#[test]
fn wet_conversion_records_keep_their_id_url_and_date() {
    let dir = Dir::new();
    let mut wet = warc_record(
        "warcinfo",
        &[("WARC-Record-ID", "<urn:uuid:wet-info>")],
        b"isPartOf: test\r\n",
    );
    for (name, text) in stories() {
        wet.extend(warc_record(
            "conversion",
            &[
                ("WARC-Record-ID", &format!("<urn:uuid:{name}>")),
                ("WARC-Target-URI", &format!("https://example.org/{name}")),
                ("WARC-Date", "2024-05-02T10:00:00Z"),
                ("Content-Type", "text/plain"),
            ],
            text.as_bytes(),
        ));
    }
    let path = dir.write("CC-MAIN-test.warc.wet.gz", gzip(&wet));
    let found = scan_pairs(&[], &path);
    assert!(found.contains(&("urn:uuid:bridge".into(), "urn:uuid:bridge-reprint".into())));
    let out = dir.join("kept.jsonl");
    neardup().args(["dedup", "--quiet", "-o"]).arg(&out).arg(&path).assert().success();
    let kept = read_jsonl(&out);
    assert_eq!(kept.len(), 3, "one of each pair is dropped: {kept:?}");
    let chess = kept.iter().find(|r| r["id"] == "urn:uuid:chess").unwrap();
    assert_eq!(chess["url"], "https://example.org/chess");
    assert_eq!(chess["date"], "2024-05-02T10:00:00Z");
    assert_eq!(chess["text"], article("14"));
}

#[test]
fn compressed_jsonl_and_standard_input_give_the_same_pairs() {
    let dir = Dir::new();
    let lines: String = stories()
        .iter()
        .map(|(id, text)| serde_json::json!({"id": id, "text": text}).to_string() + "\n")
        .collect();
    let plain = dir.write("plain/docs.jsonl", &lines);
    dir.write("gz/docs.jsonl.gz", gzip(lines.as_bytes()));
    dir.write("zst/docs.jsonl.zst", zstd(lines.as_bytes()));
    // A compressed file whose name says nothing is recognised by content.
    dir.write("sniffed/shard-0001", zstd(lines.as_bytes()));
    let expected = scan_pairs(&[], &plain);
    assert_eq!(expected, expected_pairs());
    for sub in ["gz", "zst"] {
        assert_eq!(scan_pairs(&[], &dir.join(sub)), expected, "{sub}");
    }
    assert_eq!(scan_pairs(&[], &dir.join("sniffed/shard-0001")), expected);
    for stdin in [gzip(lines.as_bytes()), warc_gz_of_pages(&stories())] {
        let out = neardup()
            .args(["scan", "--quiet", "--format", "jsonl", "--warc-id", "uri", "-"])
            .write_stdin(stdin)
            .assert()
            .success();
        let found = pairs(&jsonl(&String::from_utf8_lossy(&out.get_output().stdout)));
        assert_eq!(renamed(found, from_uri), expected);
    }
}

#[test]
fn a_corrupt_gzip_member_costs_only_its_record() {
    let dir = Dir::new();
    let stories = stories();
    let mut bytes = Vec::new();
    let mut members = Vec::new();
    for (name, text) in &stories {
        let member = gzip(&warc_response(
            name,
            &format!("https://example.org/{name}"),
            "2024-05-01",
            &html_page("X", text),
        ));
        members.push(bytes.len()..bytes.len() + member.len());
        bytes.extend(member);
    }
    // Damage the compressed data in the middle of the second member.
    let second = members[1].clone();
    let middle = (second.start + second.end) / 2;
    for b in &mut bytes[middle..middle + 8] {
        *b ^= 0x5a;
    }
    let path = dir.write("damaged.warc.gz", bytes);
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--warc-id", "uri"])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains("damaged.warc.gz"))
        .stderr(predicate::str::contains("skipped 1 records"));
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("corrupt") || stderr.contains("compressed"), "{stderr}");
    // Every other record was read: the hospital pair is still found.
    let found = pairs(&jsonl(&String::from_utf8_lossy(&out.get_output().stdout)));
    assert!(
        found.contains(&(
            "https://example.org/hospital".to_string(),
            "https://example.org/hospital-copy".to_string()
        )),
        "{found:?} {stderr}"
    );
    neardup().args(["scan", "--strict", "--quiet"]).arg(&path).assert().code(2);
}

#[test]
fn truncated_and_lying_warc_records_are_reported_by_number() {
    let dir = Dir::new();
    let stories = stories();
    let record = |i: usize| {
        let (name, text) = &stories[i];
        warc_response(
            name,
            &format!("https://example.org/{name}"),
            "2024-05-01",
            &html_page("X", text),
        )
    };
    // Record 2 claims more bytes than it has, so it swallows the start of
    // record 3; record 5 is cut off by the end of the file.
    let lying = String::from_utf8(record(1)).unwrap();
    let claimed: usize = lying
        .split("Content-Length: ")
        .nth(1)
        .unwrap()
        .split('\r')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let lying = lying.replacen(
        &format!("Content-Length: {claimed}"),
        &format!("Content-Length: {}", claimed + 200),
        1,
    );
    let last = record(4);
    let bytes =
        [record(0), lying.into_bytes(), record(2), record(3), last[..last.len() / 2].to_vec()]
            .concat();
    let path = dir.write("broken.warc", bytes);
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--warc-id", "uri"])
        .arg(&path)
        .assert()
        .success()
        .stderr(predicate::str::contains("broken.warc record 2"))
        .stderr(predicate::str::contains("broken.warc record 5"));
    let found = pairs(&jsonl(&String::from_utf8_lossy(&out.get_output().stdout)));
    assert!(
        found.contains(&(
            "https://example.org/hospital".to_string(),
            "https://example.org/hospital-copy".to_string()
        )),
        "{found:?}"
    );
}

#[test]
fn bad_lines_in_compressed_jsonl_are_skipped_by_line() {
    let dir = Dir::new();
    let mut data = Vec::new();
    data.extend(serde_json::json!({"id": "a", "text": article("02")}).to_string().bytes());
    data.extend(b"\n{\"id\": \"bad\", \"text\": \"caf\xe9\"}\n{\"id\": \"no-text\"}\n");
    data.extend(serde_json::json!({"id": "b", "text": article("02")}).to_string().bytes());
    data.push(b'\n');
    let truncated = gzip(&data);
    dir.write("docs.jsonl.zst", zstd(&data));
    dir.write("cut.jsonl.gz", &truncated[..truncated.len() - 12]);
    neardup()
        .args(["scan", "--format", "jsonl"])
        .arg(dir.join("docs.jsonl.zst"))
        .assert()
        .success()
        .stderr(predicate::str::contains("docs.jsonl.zst:2: not valid UTF-8"))
        .stderr(predicate::str::contains("docs.jsonl.zst:3: no \"text\" field"))
        .stdout(predicate::str::contains("\"relation\":\"duplicate\""));
    // A file cut short loses its end, with a message; what came before is
    // scanned.
    neardup()
        .args(["scan", "--format", "jsonl"])
        .arg(dir.join("cut.jsonl.gz"))
        .assert()
        .success()
        .stderr(predicate::str::contains("cut.jsonl.gz"));
}

/// `(id, url, date, content)` of a WARC record.
type RecordFields = (String, Option<String>, Option<String>, Vec<u8>);

/// Reads a WARC file with neardup's reader: the fields of every document.
fn read_with_neardup(path: &Path) -> Vec<RecordFields> {
    let reader =
        DocumentReader::new(vec![Input::Path(path.to_path_buf())], ReadOptions::default()).unwrap();
    reader
        .map(|d| {
            let d = d.unwrap();
            let content = match d.body {
                Body::Text(t) => t.into_bytes(),
                Body::Html { bytes, .. } => bytes,
            };
            (d.id, d.url, d.date, content)
        })
        .collect()
}

#[test]
fn the_warc_reader_agrees_with_the_warc_crate() {
    use warc::{RecordType, WarcHeader, WarcReader, WarcWriter};
    let dir = Dir::new();
    // Written by the warc crate, read by both.
    let path = dir.join("written-by-warc-crate.warc");
    {
        let mut writer = WarcWriter::new(std::fs::File::create(&path).unwrap());
        for (i, (name, text)) in stories().iter().enumerate() {
            let (kind, block) = if i % 2 == 0 {
                (RecordType::Resource, text.clone().into_bytes())
            } else {
                let html = html_page("Y", text);
                let http = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n{html}");
                (RecordType::Response, http.into_bytes())
            };
            let mut builder = warc::RecordBuilder::default()
                .warc_type(kind)
                .header(WarcHeader::TargetURI, format!("https://example.org/{name}"))
                .body(block);
            if i % 2 == 0 {
                builder = builder.header(WarcHeader::ContentType, "text/plain");
            }
            writer.write(&builder.build().unwrap()).unwrap();
        }
        drop(writer);
    }
    // Plus, our own per-record gzip file.
    let gz = dir.write("ours.warc.gz", warc_gz_of_pages(&stories()));
    for (file, gzipped) in [(&path, false), (&gz, true)] {
        let theirs: Vec<RecordFields> = {
            let opened = std::fs::File::open(file).unwrap();
            let records: Vec<warc::Record<warc::BufferedBody>> = if gzipped {
                // flate2's multi-member decoder, not neardup's own.
                let gz = flate2::read::MultiGzDecoder::new(opened);
                WarcReader::new(std::io::BufReader::new(gz))
                    .iter_records()
                    .map(Result::unwrap)
                    .collect()
            } else {
                let plain = std::io::BufReader::new(opened);
                WarcReader::new(plain).iter_records().map(Result::unwrap).collect()
            };
            records
                .into_iter()
                .filter(|r| matches!(r.warc_type(), RecordType::Response | RecordType::Resource))
                .map(|r| {
                    let body = r.body().to_vec();
                    let content = if *r.warc_type() == RecordType::Response {
                        let split = body.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                        body[split..].to_vec()
                    } else {
                        body
                    };
                    let header =
                        |h: WarcHeader| r.header(h).map(|v| v.trim_matches(['<', '>']).to_string());
                    (
                        header(WarcHeader::RecordID).unwrap(),
                        header(WarcHeader::TargetURI),
                        header(WarcHeader::Date),
                        content,
                    )
                })
                .collect()
        };
        let ours = read_with_neardup(file);
        assert_eq!(ours.len(), theirs.len(), "{}", file.display());
        for (o, t) in ours.iter().zip(&theirs) {
            assert_eq!((&o.0, &o.1, &o.3), (&t.0, &t.1, &t.3), "{}", file.display());
            // Dates are equal instants (the crates format them differently).
            let instant =
                |d: &Option<String>| d.as_deref().map(|s| s.parse::<jiff::Timestamp>().unwrap());
            assert_eq!(instant(&o.2), instant(&t.2));
        }
    }
}
