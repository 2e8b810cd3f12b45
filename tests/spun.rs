//! Spun and noisy copies: the spun view through the real binary.

use crate::util::{Dir, jsonl, neardup, repo};

fn demo(path: &str) -> String {
    std::fs::read_to_string(repo().join("corpora/demo").join(path)).unwrap()
}

/// Mimics OCR: letters misread, words split at line ends.
fn ocr_noise(text: &str) -> String {
    let mut out = String::new();
    for (i, word) in text.split(' ').enumerate() {
        let noisy = match i % 7 {
            0 => word.replacen('e', "c", 1),
            2 => word.replacen('h', "b", 1),
            4 if word.len() > 6 => format!("{}- {}", &word[..3], &word[3..]),
            5 => word.replacen('o', "0", 1),
            _ => word.to_string(),
        };
        out.push_str(&noisy);
        out.push(' ');
    }
    out
}

#[test]
fn a_spun_copy_is_found_with_its_substitutions_and_a_same_event_report_is_not() {
    let dir = Dir::new();
    dir.write("original.txt", demo("articles/05-river-otters.txt"));
    dir.write("spun.txt", demo("copies/05-river-otters--spun.txt"));
    dir.write("other-outlet.txt", demo("same-event/04-comet-discovery.txt"));
    dir.write("comet.txt", demo("articles/04-comet-discovery.txt"));
    let out = neardup().args(["scan", "--format", "jsonl"]).arg(dir.path()).assert().success();
    let pairs = jsonl(&String::from_utf8_lossy(&out.get_output().stdout));
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    let p = &pairs[0];
    assert_eq!((p["a"].as_str(), p["b"].as_str()), (Some("original.txt"), Some("spun.txt")));
    assert_eq!(p["relation"], "spun");
    // The word view alone would not link them.
    assert!(p["jaccard"].as_f64().unwrap() < 0.4);
    assert!(p["aligned_share"].as_f64().unwrap() > 0.9);
    assert_eq!(p["sentences"].as_array().unwrap().len(), 2);
    let subs = p["substitutions"].as_array().unwrap();
    assert!(!subs.is_empty() && subs.len() <= 20);
    // Every substitution replaces words of the original by words of the copy.
    let (orig, spun) = (
        demo("articles/05-river-otters.txt").to_lowercase(),
        demo("copies/05-river-otters--spun.txt").to_lowercase(),
    );
    for s in subs {
        assert!(orig.contains(s["from"].as_str().unwrap()), "{s}");
        assert!(spun.contains(s["to"].as_str().unwrap()), "{s}");
    }
}

#[test]
fn the_summary_shows_a_few_substitutions() {
    let dir = Dir::new();
    dir.write("a.txt", demo("articles/09-hospital-wing.txt"));
    dir.write("b.txt", demo("copies/09-hospital-wing--spun.txt"));
    neardup()
        .arg("scan")
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicates::str::contains("spun: 1 pairs"))
        .stdout(
            predicates::str::is_match(r"~ b\.txt · \d+/\d+ sentences aligned · \w+ → \w+").unwrap(),
        );
}

#[test]
fn an_ocr_noisy_reprint_is_a_near_duplicate() {
    let dir = Dir::new();
    let clean = demo("articles/11-city-marathon.txt");
    dir.write("clean.txt", &clean);
    dir.write("scanned.txt", ocr_noise(&clean));
    let out = neardup().args(["scan", "--format", "jsonl"]).arg(dir.path()).assert().success();
    let pairs = jsonl(&String::from_utf8_lossy(&out.get_output().stdout));
    assert_eq!(pairs.len(), 1, "{pairs:?}");
    assert_eq!(pairs[0]["relation"], "near_duplicate");
    assert!(pairs[0]["jaccard"].as_f64().unwrap() < 0.4, "only the spun view can find this pair");
}

#[test]
fn the_spun_view_can_be_switched_off() {
    let dir = Dir::new();
    dir.write("original.txt", demo("articles/05-river-otters.txt"));
    dir.write("spun.txt", demo("copies/05-river-otters--spun.txt"));
    let out = neardup()
        .args(["scan", "--format", "jsonl", "--no-spun-view"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(out.get_output().stdout.is_empty());
}
