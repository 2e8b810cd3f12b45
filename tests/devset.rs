//! Detection quality on the labelled dev sets (`../shared/devset`). Each test
//! returns early, with a note, when the sets are not present.

use std::path::Path;

use serde_json::Value;

use crate::util::{devset, neardup};

/// Runs `neardup eval` on a dev set and returns the JSON report.
fn eval(set: &Path) -> Value {
    let out = neardup()
        .args(["eval", "--quiet", "--format", "json", "--truth"])
        .arg(set.join("truth.json"))
        .arg("--groups")
        .arg(set.join("meta.json"))
        .arg(set.join("docs"))
        .assert()
        .success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

fn group(e: &Value, name: &str) -> (u64, u64) {
    let g = e["groups"].as_array().unwrap().iter().find(|g| g["name"] == name).unwrap();
    (g["found"].as_u64().unwrap(), g["total"].as_u64().unwrap())
}

#[test]
fn near_set_exact_and_edited_copies() {
    let Some(devset) = devset() else { return };
    let e = eval(&devset.join("near"));
    let (exact, exact_total) = group(&e, "exact_copy");
    let (edited, edited_total) = group(&e, "synthetic_near");
    let recall = (exact + edited) as f64 / (exact_total + edited_total) as f64;
    assert!(recall >= 0.95, "recall on exact and edited copies {recall}");
    assert_eq!(exact, exact_total);
    let precision = e["overall"]["precision"].as_f64().unwrap();
    assert!(precision >= 0.99, "precision {precision}");
}

#[test]
fn same_event_articles_are_never_linked() {
    let Some(devset) = devset() else { return };
    let e = eval(&devset.join("negatives"));
    assert_eq!(e["overall"]["fp"], 0, "false links: {}", e["false_positives"]);
}

#[test]
fn mixed_set_precision_and_natural_republications() {
    let Some(devset) = devset() else { return };
    let e = eval(&devset.join("mixed"));
    let precision = e["overall"]["precision"].as_f64().unwrap();
    assert!(precision >= 0.99, "precision {precision}: {}", e["false_positives"]);
    let (found, total) = group(&e, "natural_duplicates");
    assert!(found as f64 >= 0.95 * total as f64, "natural re-publications {found}/{total}");
}

/// Pairs and clusters of a scan of a dev set.
fn scan(set: &Path) -> (Vec<Value>, Vec<Value>) {
    let dir = crate::util::Dir::new();
    neardup()
        .args(["scan", "--quiet", "--pairs"])
        .arg(dir.join("p.jsonl"))
        .arg("--clusters")
        .arg(dir.join("c.jsonl"))
        .arg(set.join("docs"))
        .assert()
        .success();
    (crate::util::read_jsonl(&dir.join("p.jsonl")), crate::util::read_jsonl(&dir.join("c.jsonl")))
}

#[test]
fn syndication_set_articles_and_teasers_inside_pages() {
    let Some(devset) = devset() else { return };
    let e = eval(&devset.join("syndication"));
    let contained =
        e["relations"].as_array().unwrap().iter().find(|r| r["relation"] == "contained").unwrap();
    let recall = contained["recall"].as_f64().unwrap();
    assert!(recall >= 0.98, "contained recall {recall}");
    let precision = e["overall"]["precision"].as_f64().unwrap();
    assert!(precision >= 0.99, "precision {precision}: {}", e["false_positives"]);
}

/// Neither a pair nor a cluster may join two different stories carried by
/// the same page (unless the truth says they are related).
fn assert_carried_stories_stay_apart(set: &Path) {
    let meta: Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("meta.json")).unwrap()).unwrap();
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(set.join("truth.json")).unwrap()).unwrap();
    let positives: std::collections::HashSet<(String, String)> = truth["positives"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            let (a, b) = (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string());
            [(a.clone(), b.clone()), (b, a)]
        })
        .collect();
    let docs = meta["docs"].as_object().unwrap();
    let source = |id: &str| {
        docs.get(id).and_then(|d| d.get("source")).and_then(Value::as_str).map(str::to_string)
    };
    // For every document, the sources carried by the same pages as its own.
    let mut apart: std::collections::HashMap<String, std::collections::HashSet<String>> =
        Default::default();
    for d in docs.values() {
        let Some(carries) = d.get("carries").and_then(Value::as_array) else { continue };
        let sources: Vec<String> =
            carries.iter().filter_map(|c| c["source"].as_str().map(str::to_string)).collect();
        for s in &sources {
            apart.entry(s.clone()).or_default().extend(sources.iter().filter(|o| *o != s).cloned());
        }
    }
    let forbidden = |a: &str, b: &str| match (source(a), source(b)) {
        (Some(sa), Some(sb)) => {
            apart.get(&sa).is_some_and(|o| o.contains(&sb))
                && !positives.contains(&(a.to_string(), b.to_string()))
        }
        _ => false,
    };
    let (pairs, clusters) = scan(set);
    let mut checked = 0;
    for p in &pairs {
        let (a, b) = (p["a"].as_str().unwrap(), p["b"].as_str().unwrap());
        assert!(!forbidden(a, b), "two stories carried by one page were paired: {p}");
        checked += 1;
    }
    for c in &clusters {
        let members: Vec<&str> =
            c["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                assert!(
                    !forbidden(a, b),
                    "cluster {} joins two stories carried by one page: {a} {b}",
                    c["id"]
                );
            }
        }
    }
    assert!(checked > 100 && !apart.is_empty());
}

#[test]
fn stories_carried_by_one_page_stay_apart() {
    let Some(devset) = devset() else { return };
    assert_carried_stories_stay_apart(&devset.join("syndication"));
    assert_carried_stories_stay_apart(&devset.join("mixed"));
}

#[test]
fn spun_set_every_rate() {
    let Some(devset) = devset() else { return };
    let e = eval(&devset.join("spun"));
    for rate in ["rate_0.20", "rate_0.35", "rate_0.50"] {
        let (found, total) = group(&e, rate);
        assert!(found as f64 >= 0.95 * total as f64, "{rate}: {found}/{total}");
    }
    let precision = e["overall"]["precision"].as_f64().unwrap();
    assert!(precision >= 0.99, "precision {precision}: {}", e["false_positives"]);
}

#[test]
fn near_set_ocr_reprints() {
    let Some(devset) = devset() else { return };
    let e = eval(&devset.join("near"));
    let (found, total) = group(&e, "ocr");
    assert!(found as f64 >= 0.9 * total as f64, "OCR pairs {found}/{total}");
}

#[test]
fn html_pages_are_found_to_hold_their_article() {
    let Some(devset) = devset() else { return };
    let set = devset.join("html");
    let e = eval(&set);
    let contained =
        e["relations"].as_array().unwrap().iter().find(|r| r["relation"] == "contained").unwrap();
    let recall = contained["recall"].as_f64().unwrap();
    assert!(recall >= 0.95, "pages holding their article: recall {recall}");
    let precision = e["overall"]["precision"].as_f64().unwrap();
    assert!(precision >= 0.99, "precision {precision}: {}", e["false_positives"]);
    // Pages of one site share their template and nothing else: no pair of
    // pages is linked.
    let (pairs, _) = scan(&set);
    let pages = pairs.iter().filter(|p| {
        p["a"].as_str().unwrap().ends_with(".html") && p["b"].as_str().unwrap().ends_with(".html")
    });
    assert_eq!(pages.count(), 0);
}

#[test]
fn a_crawl_of_the_mixed_set_finds_the_pairs_of_its_folder() {
    let Some(devset) = devset() else { return };
    let docs = devset.join("mixed/docs");
    // Every document as an HTML page (navigation, article, related links,
    // footer) in a WARC response record, one gzip member per record.
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(devset.join("mixed/truth.json")).unwrap())
            .unwrap();
    let mut warc = Vec::new();
    for (n, id) in truth["docs"].as_array().unwrap().iter().enumerate() {
        let id = id.as_str().unwrap();
        let text = std::fs::read_to_string(docs.join(id)).unwrap();
        let site = ["The Ledger", "Daily Post", "Evening Star"][n % 3];
        let page = crate::util::html_page(site, &text);
        let uri = format!("https://crawl.example/{id}");
        let record =
            crate::util::warc_response(&format!("{n}"), &uri, "2024-05-01T00:00:00Z", &page);
        warc.extend(crate::util::gzip(&record));
    }
    let dir = crate::util::Dir::new();
    let crawl = dir.write("mixed.warc.gz", warc);
    let pairs_of = |args: &[&str], input: &Path| {
        let mut pairs: Vec<(String, String, String)> = crate::util::scan_records(args, input)
            .iter()
            .map(|r| {
                let id = |k: &str| {
                    r[k].as_str().unwrap().trim_start_matches("https://crawl.example/").to_string()
                };
                (id("a"), id("b"), r["relation"].as_str().unwrap().to_string())
            })
            .collect();
        pairs.sort();
        pairs
    };
    let from_folder = pairs_of(&[], &docs);
    let from_crawl = pairs_of(&["--warc-id", "uri"], &crawl);
    assert!(from_folder.len() > 800);
    let only = |a: &[(String, String, String)], b: &[(String, String, String)]| {
        a.iter().filter(|p| !b.contains(p)).cloned().collect::<Vec<_>>()
    };
    let (missed, extra) = (only(&from_folder, &from_crawl), only(&from_crawl, &from_folder));
    assert!(missed.is_empty() && extra.is_empty(), "missed {missed:?}\nextra {extra:?}");
}
