//! Articles inside bigger pages: `contained` pairs, evidence, boilerplate,
//! cluster hygiene and attribution, through the real binary.

use predicates::prelude::*;
use serde_json::Value;

use crate::util::{Dir, article, neardup, read_jsonl};

/// A page of an invented site carrying the given stories between its chrome.
fn page(n: usize, stories: &[&str]) -> String {
    format!(
        "The Kingsmere Post | Home | News | Sport | Weather | Puzzles | Subscribe\nUpdated {n} minutes ago\n\n{}\n\n\
         Download our free app for iPhone and Android. We and our partners use cookies. [Accept] [More options]\n\
         Most read: {n}. Spotted a mistake? Let us know.",
        stories.join("\n\nShare this story\n\n")
    )
}

/// `text` as char-indexed by a span `[start, end)`.
fn slice(text: &str, span: &Value) -> String {
    let (s, e) = (span[0].as_u64().unwrap() as usize, span[1].as_u64().unwrap() as usize);
    text.chars().skip(s).take(e - s).collect()
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[test]
fn an_article_inside_a_page_is_contained_with_spans_that_point_at_it() {
    let dir = Dir::new();
    let (a, b) = (article("05"), article("06"));
    let carrier = page(3, &[&b, &a]);
    dir.write("docs/article.txt", &a);
    dir.write("docs/page.txt", &carrier);
    neardup()
        .args(["scan", "--pairs"])
        .arg(dir.join("pairs.jsonl"))
        .arg(dir.join("docs"))
        .assert()
        .success()
        .stdout(predicate::str::contains("contained: 1 pairs"))
        .stdout(predicate::str::contains("inside page.txt"))
        .stdout(predicate::str::contains("Otters return to the River Wendle"));
    let pairs = read_jsonl(&dir.join("pairs.jsonl"));
    assert_eq!(pairs.len(), 1);
    let p = &pairs[0];
    assert_eq!(
        (p["a"].as_str(), p["b"].as_str(), p["relation"].as_str()),
        (Some("article.txt"), Some("page.txt"), Some("contained"))
    );
    assert!(p["containment_a_in_b"].as_f64().unwrap() > 0.98);
    assert!(p["matched_share"].as_f64().unwrap() > 0.95);
    // Every span covers the same words in both texts, and together the spans
    // cover the article.
    let spans = p["spans"].as_array().unwrap();
    assert!(!spans.is_empty());
    let mut covered = Vec::new();
    for span in spans {
        let (in_a, in_b) = (slice(&a, &span["a"]), slice(&carrier, &span["b"]));
        assert_eq!(words(&in_a), words(&in_b));
        covered.extend(words(&in_a));
    }
    assert_eq!(covered, words(&a));
}

#[test]
fn a_page_links_each_story_it_carries_and_merges_none() {
    let dir = Dir::new();
    let (a, b) = (article("07"), article("08"));
    dir.write("a.txt", &a);
    dir.write("a-copy.txt", a.replace("strike", "walkout"));
    dir.write("b.txt", &b);
    dir.write("b-copy.txt", b.to_uppercase());
    dir.write("page.txt", page(1, &[&a, &b]));
    neardup()
        .args(["scan", "--quiet", "--pairs"])
        .arg(dir.join("pairs.jsonl"))
        .arg("--clusters")
        .arg(dir.join("clusters.jsonl"))
        .arg(dir.path())
        .assert()
        .success();
    let clusters = read_jsonl(&dir.join("clusters.jsonl"));
    let mut members: Vec<Vec<&str>> = clusters
        .iter()
        .map(|c| c["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect())
        .collect();
    members.sort();
    assert_eq!(members, [vec!["a-copy.txt", "a.txt"], vec!["b-copy.txt", "b.txt"]]);
    for c in &clusters {
        assert_eq!(c["carried_by"], serde_json::json!(["page.txt"]));
    }
    // No pair between the two stories.
    for p in read_jsonl(&dir.join("pairs.jsonl")) {
        let ends = [p["a"].as_str().unwrap(), p["b"].as_str().unwrap()];
        assert!(
            !(ends.iter().any(|e| e.starts_with("a")) && ends.iter().any(|e| e.starts_with("b"))),
            "{p}"
        );
    }
}

/// Ten pages of one site whose template is most of each page.
fn template_pages(dir: &Dir) {
    for n in 0..10 {
        let story: String = (0..25).map(|i| format!("w{}{n} ", i * 37 % 101)).collect();
        dir.write(
            &format!("site/p{n}.txt"),
            format!(
                "The Morning Ledger Home News Sport Weather Login Subscribe today for full access to every story {n}\n\n\
                 {story}\n\n\
                 Download the Morning Ledger app for alerts. Follow us on WhatsApp. We use cookies to improve your \
                 experience; by continuing you agree to our cookie policy. Newsletter: sign up for the Ledger daily \
                 briefing. All rights reserved. Contact the newsroom. {n}\n"
            ),
        );
    }
}

#[test]
fn pages_that_share_only_their_template_are_not_linked() {
    let dir = Dir::new();
    template_pages(&dir);
    neardup()
        .args(["scan", "--format", "jsonl"])
        .arg(dir.join("site"))
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    neardup()
        .arg("scan")
        .arg(dir.join("site"))
        .assert()
        .success()
        .stdout(predicate::str::contains("10 with boilerplate removed"))
        .stdout(predicate::str::contains("candidate pairs shared only boilerplate"));
    // The same corpus without boilerplate detection links every page: the
    // template alone would have made 45 false pairs.
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--boilerplate-df", "1000000"])
        .arg(dir.join("site"))
        .assert()
        .success();
    assert_eq!(String::from_utf8_lossy(&out.get_output().stdout).lines().count(), 45);
}

#[test]
fn the_earliest_dated_copy_is_named_the_original() {
    let dir = Dir::new();
    let text = article("09");
    let lines = [
        serde_json::json!({"id": "late", "text": text, "date": "2024-06-03"}),
        serde_json::json!({"id": "early", "text": text.replace("midwives", "nurses"), "date": "2024-06-01T09:00:00Z"}),
        serde_json::json!({"id": "undated", "text": text}),
    ];
    dir.write("docs.jsonl", lines.iter().map(|l| format!("{l}\n")).collect::<String>());
    neardup()
        .args(["scan", "--clusters"])
        .arg(dir.join("c.jsonl"))
        .arg(dir.join("docs.jsonl"))
        .assert()
        .success()
        .stdout(predicate::str::contains("original: early (earliest date)"));
    let clusters = read_jsonl(&dir.join("c.jsonl"));
    assert_eq!(clusters[0]["original"], "early");
    assert_eq!(clusters[0]["original_reason"], "earliest_date");
}

#[test]
fn a_teaser_is_contained_in_its_article() {
    let dir = Dir::new();
    let full = article("10");
    let teaser: Vec<&str> = full.split("\n\n").take(3).collect();
    dir.write("article.txt", &full);
    dir.write(
        "teaser.txt",
        format!("{}\n\nRead the full story at the Redhaven Echo.", teaser.join("\n\n")),
    );
    let out = neardup().args(["scan", "--format", "jsonl"]).arg(dir.path()).assert().success();
    let pairs: Vec<Value> = crate::util::jsonl(&String::from_utf8_lossy(&out.get_output().stdout));
    assert_eq!(pairs.len(), 1);
    assert_eq!(pairs[0]["a"], "teaser.txt");
    assert_eq!(pairs[0]["relation"], "contained");
}
