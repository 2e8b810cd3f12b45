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
