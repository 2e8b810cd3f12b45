//! Scoring detected pairs against labelled truth (`neardup eval`).
//!
//! The truth file is the format of the project's labelled sets:
//! `{"docs": [ids], "positives": [[a, b, relation], ...]}`. Every pair of
//! listed documents that is not a positive is a negative. Scoring follows the
//! reference scorer of the dev sets:
//!
//! * a predicted pair is a true positive when `{a, b}` is a positive in either
//!   order, whatever relation was predicted; any other predicted pair between
//!   two listed documents is a false positive; pairs touching unlisted ids are
//!   ignored;
//! * per **truth** relation `R`: recall = positives labelled `R` that were
//!   predicted (with any relation) / positives labelled `R`;
//! * per **predicted** relation `R`: precision = pairs predicted as `R` that are
//!   positives / pairs predicted as `R`; F1 combines the two;
//! * label agreement: of the positives labelled `R` that were found, the share
//!   predicted as `R` too.
//!
//! An optional groups file (`{"positive_groups": {name: [[a, b], ...]}}`, the
//! `meta.json` of the dev sets) adds recall per named group.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::relate::Relation;
use crate::{Error, Result};

/// Labelled documents and their related pairs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Truth {
    /// Every document id the labels cover.
    pub docs: Vec<String>,
    /// The related pairs.
    pub positives: Vec<(String, String, Relation)>,
}

#[derive(Deserialize)]
struct TruthFile {
    docs: Vec<String>,
    positives: Vec<(String, String, String)>,
}

#[derive(Deserialize)]
struct GroupsFile {
    #[serde(default)]
    positive_groups: BTreeMap<String, Vec<(String, String)>>,
}

/// Ids as the reference scorer compares them: without leading `./`.
fn clean_id(id: &str) -> &str {
    let mut id = id;
    while let Some(rest) = id.strip_prefix("./") {
        id = rest;
    }
    id
}

/// An unordered pair of ids.
fn key(a: &str, b: &str) -> (String, String) {
    let (a, b) = (clean_id(a), clean_id(b));
    if a <= b { (a.to_owned(), b.to_owned()) } else { (b.to_owned(), a.to_owned()) }
}

impl Truth {
    /// Reads a truth file.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&text, path)
    }

    /// Parses a truth file's content; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self> {
        let fail = |message: String| Error::Truth { path: path.to_path_buf(), message };
        let file: TruthFile = serde_json::from_str(text)
            .map_err(|e| fail(format!("not a truth file ({e}); expected {{\"docs\": [...], \"positives\": [[a, b, relation], ...]}}")))?;
        let docs: HashSet<&str> = file.docs.iter().map(|d| clean_id(d)).collect();
        let mut positives = Vec::with_capacity(file.positives.len());
        for (i, (a, b, relation)) in file.positives.into_iter().enumerate() {
            let relation: Relation =
                relation.parse().map_err(|e| fail(format!("positive #{}: {e}", i + 1)))?;
            for id in [&a, &b] {
                if !docs.contains(clean_id(id)) {
                    return Err(fail(format!(
                        "positive #{}: {id:?} is not listed in \"docs\"",
                        i + 1
                    )));
                }
            }
            positives.push((a, b, relation));
        }
        Ok(Truth { docs: file.docs, positives })
    }
}

/// Named subsets of the positives (e.g. `ocr`, `rate_0.35`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Groups {
    /// Group name → its pairs.
    pub groups: BTreeMap<String, Vec<(String, String)>>,
}

impl Groups {
    /// Reads the `positive_groups` of a JSON file such as a dev set's
    /// `meta.json`.
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let file: GroupsFile = serde_json::from_str(&text).map_err(|e| Error::Truth {
            path: path.to_path_buf(),
            message: format!(
                "not a groups file ({e}); expected {{\"positive_groups\": {{name: [[a, b], ...]}}}}"
            ),
        })?;
        Ok(Groups { groups: file.positive_groups })
    }
}

/// Precision, recall and F1 with their counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Score {
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// False negatives (`"fn"` in JSON).
    #[serde(rename = "fn")]
    pub fn_: usize,
    /// tp / (tp + fp); 1 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn); 1 when there is nothing to find.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Score {
    fn new(tp: usize, fp: usize, fn_: usize) -> Self {
        let precision = if tp + fp == 0 { 1.0 } else { tp as f64 / (tp + fp) as f64 };
        let recall = if tp + fn_ == 0 { 1.0 } else { tp as f64 / (tp + fn_) as f64 };
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        Score { tp, fp, fn_, precision, recall, f1 }
    }
}

/// Scores for one relation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelationScore {
    /// The relation.
    pub relation: Relation,
    /// Positives with this relation in the truth.
    pub truth: usize,
    /// Of those, found (with any predicted relation).
    pub found: usize,
    /// Pairs predicted with this relation.
    pub predicted: usize,
    /// Of those, positives (of any truth relation).
    pub correct: usize,
    /// Of the found positives, predicted with this same relation.
    pub same_label: usize,
    /// `found / truth`; `None` when the truth has no such pair.
    pub recall: Option<f64>,
    /// `correct / predicted`; `None` when nothing was predicted as this.
    pub precision: Option<f64>,
    /// Harmonic mean of the two, when both exist.
    pub f1: Option<f64>,
}

/// Recall of one named group of positives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupRecall {
    /// The group name.
    pub name: String,
    /// Pairs in the group.
    pub total: usize,
    /// Pairs found.
    pub found: usize,
}

/// A pair that was wrongly predicted or missed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairOutcome {
    /// First id.
    pub a: String,
    /// Second id.
    pub b: String,
    /// The predicted relation (false positives) or the truth relation
    /// (misses).
    pub relation: Relation,
}

/// The result of scoring.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// Over all relations.
    pub overall: Score,
    /// Per relation that occurs in the truth or the predictions.
    pub relations: Vec<RelationScore>,
    /// Per named group, when groups were given.
    pub groups: Vec<GroupRecall>,
    /// Predicted pairs that are not positives.
    pub false_positives: Vec<PairOutcome>,
    /// Positives that were not predicted.
    pub missed: Vec<PairOutcome>,
}

/// Scores `predicted` pairs `(a, b, relation)` against `truth`.
pub fn evaluate<'p, I>(truth: &Truth, predicted: I, groups: Option<&Groups>) -> Evaluation
where
    I: IntoIterator<Item = (&'p str, &'p str, Relation)>,
{
    let docs: HashSet<&str> = truth.docs.iter().map(|d| clean_id(d)).collect();
    let positives: HashMap<(String, String), Relation> =
        truth.positives.iter().map(|(a, b, r)| (key(a, b), *r)).collect();
    // One prediction per unordered pair (the first one wins).
    let mut predicted_pairs: BTreeMap<(String, String), Relation> = BTreeMap::new();
    for (a, b, relation) in predicted {
        let (ca, cb) = (clean_id(a), clean_id(b));
        if ca == cb || !docs.contains(ca) || !docs.contains(cb) {
            continue;
        }
        predicted_pairs.entry(key(a, b)).or_insert(relation);
    }

    let tp = predicted_pairs.keys().filter(|k| positives.contains_key(*k)).count();
    let overall = Score::new(tp, predicted_pairs.len() - tp, positives.len() - tp);

    let relations = Relation::ALL
        .into_iter()
        .filter_map(|relation| {
            let truth_r: Vec<&(String, String)> =
                positives.iter().filter(|(_, r)| **r == relation).map(|(k, _)| k).collect();
            let found: Vec<&&(String, String)> =
                truth_r.iter().filter(|k| predicted_pairs.contains_key(**k)).collect();
            let same_label = found.iter().filter(|k| predicted_pairs[**k] == relation).count();
            let predicted_r: Vec<&(String, String)> =
                predicted_pairs.iter().filter(|(_, r)| **r == relation).map(|(k, _)| k).collect();
            let correct = predicted_r.iter().filter(|k| positives.contains_key(**k)).count();
            if truth_r.is_empty() && predicted_r.is_empty() {
                return None;
            }
            let ratio = |num: usize, den: usize| (den > 0).then(|| num as f64 / den as f64);
            let recall = ratio(found.len(), truth_r.len());
            let precision = ratio(correct, predicted_r.len());
            let f1 = precision
                .zip(recall)
                .map(|(p, r)| if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) });
            Some(RelationScore {
                relation,
                truth: truth_r.len(),
                found: found.len(),
                predicted: predicted_r.len(),
                correct,
                same_label,
                recall,
                precision,
                f1,
            })
        })
        .collect();

    let groups = groups
        .map(|g| {
            g.groups
                .iter()
                .map(|(name, pairs)| GroupRecall {
                    name: name.clone(),
                    total: pairs.len(),
                    found: pairs
                        .iter()
                        .filter(|(a, b)| predicted_pairs.contains_key(&key(a, b)))
                        .count(),
                })
                .collect()
        })
        .unwrap_or_default();

    let false_positives = predicted_pairs
        .iter()
        .filter(|(k, _)| !positives.contains_key(*k))
        .map(|((a, b), r)| PairOutcome { a: a.clone(), b: b.clone(), relation: *r })
        .collect();
    let mut missed: Vec<PairOutcome> = positives
        .iter()
        .filter(|(k, _)| !predicted_pairs.contains_key(*k))
        .map(|((a, b), r)| PairOutcome { a: a.clone(), b: b.clone(), relation: *r })
        .collect();
    missed.sort_by(|x, y| (&x.a, &x.b).cmp(&(&y.a, &y.b)));

    Evaluation { overall, relations, groups, false_positives, missed }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth() -> Truth {
        Truth::from_json(
            r#"{"docs": ["a","b","c","d","e"],
                "positives": [["a","b","duplicate"],["c","d","near_duplicate"],["a","e","contained"]]}"#,
            Path::new("t.json"),
        )
        .unwrap()
    }

    #[test]
    fn scores_follow_the_reference_scorer() {
        let t = truth();
        let predicted = [
            ("b", "./a", Relation::NearDuplicate), // found, other label, reversed order
            ("c", "d", Relation::NearDuplicate),
            ("b", "c", Relation::NearDuplicate), // false positive
            ("a", "zzz", Relation::Duplicate),   // unknown id: ignored
        ];
        let e = evaluate(&t, predicted, None);
        assert_eq!((e.overall.tp, e.overall.fp, e.overall.fn_), (2, 1, 1));
        assert!((e.overall.precision - 2.0 / 3.0).abs() < 1e-12);
        assert!((e.overall.recall - 2.0 / 3.0).abs() < 1e-12);
        let near = e.relations.iter().find(|r| r.relation == Relation::NearDuplicate).unwrap();
        assert_eq!(
            (near.truth, near.found, near.predicted, near.correct, near.same_label),
            (1, 1, 3, 2, 1)
        );
        assert_eq!(near.precision, Some(2.0 / 3.0));
        let dup = e.relations.iter().find(|r| r.relation == Relation::Duplicate).unwrap();
        assert_eq!((dup.found, dup.same_label), (1, 0));
        // Never predicted as duplicate: no precision, hence no F1.
        assert_eq!((dup.recall, dup.precision, dup.f1), (Some(1.0), None, None));
        assert_eq!(
            e.missed,
            [PairOutcome { a: "a".into(), b: "e".into(), relation: Relation::Contained }]
        );
        assert_eq!(e.false_positives.len(), 1);
    }

    #[test]
    fn groups_report_recall() {
        let t = truth();
        let groups = Groups {
            groups: [("easy".to_string(), vec![("a".to_string(), "b".to_string())])].into(),
        };
        let e = evaluate(&t, [("a", "b", Relation::Duplicate)], Some(&groups));
        assert_eq!(e.groups, [GroupRecall { name: "easy".into(), total: 1, found: 1 }]);
    }

    #[test]
    fn bad_truth_files_are_explained() {
        let p = Path::new("t.json");
        let err = Truth::from_json("{}", p).unwrap_err().to_string();
        assert!(err.starts_with("t.json: not a truth file"), "{err}");
        let err = Truth::from_json(r#"{"docs":["a"],"positives":[["a","b","duplicate"]]}"#, p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"b\" is not listed"), "{err}");
        let err = Truth::from_json(r#"{"docs":["a","b"],"positives":[["a","b","copy"]]}"#, p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown relation"), "{err}");
    }
}
