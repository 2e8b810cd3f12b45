//! `neardup eval` through the real binary.

use predicates::prelude::*;

use crate::util::{Dir, article, neardup};

#[test]
fn eval_scores_pairs_and_lists_misses_with_their_scores() {
    let dir = Dir::new();
    let one = article("07");
    dir.write("docs/a.txt", &one);
    dir.write("docs/b.txt", one.replace("strike", "walkout"));
    dir.write("docs/c.txt", article("08"));
    dir.write("docs/d.txt", article("09"));
    // a~b is found; c~d is labelled but unrelated in fact: a miss.
    dir.write(
        "truth.json",
        r#"{"docs": ["a.txt", "b.txt", "c.txt", "d.txt"],
            "positives": [["a.txt", "b.txt", "near_duplicate"], ["c.txt", "d.txt", "spun"]]}"#,
    );
    dir.write(
        "meta.json",
        r#"{"positive_groups": {"easy": [["a.txt", "b.txt"]], "hard": [["c.txt", "d.txt"]]}}"#,
    );
    neardup()
        .args(["eval", "--truth"])
        .arg(dir.join("truth.json"))
        .arg("--groups")
        .arg(dir.join("meta.json"))
        .arg(dir.join("docs"))
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"near_duplicate\s+1\s+1\s+1\.0000").unwrap())
        .stdout(predicate::str::is_match(r"spun\s+1\s+0\s+0\.0000").unwrap())
        .stdout(predicate::str::is_match(r"overall\s+2\s+1\s+0\.5000\s+1\s+1\s+1\.0000").unwrap())
        .stdout(predicate::str::is_match(r"easy\s+1/1").unwrap())
        .stdout(predicate::str::is_match(r"hard\s+0/1").unwrap())
        .stdout(predicate::str::contains("missed (1 of 1)"))
        .stdout(predicate::str::is_match(r"c\.txt  d\.txt  spun  jaccard 0\.0").unwrap());
}

#[test]
fn a_bad_truth_file_is_a_clear_error() {
    let dir = Dir::new();
    dir.write("docs/a.txt", article("10"));
    dir.write("truth.json", "{\"docs\": [\"a.txt\"]}");
    neardup()
        .args(["eval", "--truth"])
        .arg(dir.join("truth.json"))
        .arg(dir.join("docs"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("truth.json: not a truth file"));
}
