//! Stage 7c of the pipeline: name the likely original of each story.
//!
//! A story is a cluster of copies. Its likely original is chosen among its
//! distinct versions (one per group of identical copies, the one read first)
//! by the rules below, in order. Each rule only breaks the ties of the rule
//! before it, and the reported reason is the rule that left a single
//! version:
//!
//! 1. **earliest date**: members that carry a date (the JSONL date field, or
//!    file times when asked for) are compared; the earliest wins;
//! 2. **most carried**: the member found inside the most other documents
//!    (`contained` edges). Pages carry the article they copied, not the
//!    page next door;
//! 3. **most contained**: the member whose text is, on average, most
//!    contained in the other members it is linked to. Copies add credits,
//!    footers and headline prefixes more often than they cut text;
//! 4. **first seen**: the member read first (input order).
//!
//! Dates are parsed with `jiff`: RFC 3339 timestamps
//! (`2024-05-01T08:30:00Z`), civil date-times and dates (`2024-05-01`, taken
//! as UTC) and RFC 2822 (`Wed, 1 May 2024 08:30:00 +0000`). A date that does
//! not parse is ignored.

use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::cluster::Cluster;
use crate::duplicates::DuplicateGroups;
use crate::relate::{Edge, Relation};

/// Why a member was named the original.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionReason {
    /// It carries the earliest date.
    EarliestDate,
    /// It is found inside the most other documents.
    MostCarried,
    /// Its text is the most contained in the other copies.
    MostContained,
    /// Nothing else decided: it was read first.
    FirstSeen,
}

impl AttributionReason {
    /// A short phrase for people.
    pub fn describe(self) -> &'static str {
        match self {
            AttributionReason::EarliestDate => "earliest date",
            AttributionReason::MostCarried => "carried by the most other documents",
            AttributionReason::MostContained => "most contained in its copies",
            AttributionReason::FirstSeen => "read first",
        }
    }
}

/// The likely original of a story.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Attribution {
    /// The member document.
    pub original: u32,
    /// The rule that chose it.
    pub reason: AttributionReason,
}

/// Parses a date in one of the accepted forms (see the module docs).
///
/// ```
/// use neardup::attribute::parse_date;
/// assert!(parse_date("2024-05-01") < parse_date("2024-05-01T08:30:00+01:00"));
/// assert!(parse_date("Wed, 1 May 2024 08:30:00 +0000").is_some());
/// assert!(parse_date("yesterday").is_none());
/// ```
pub fn parse_date(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Some(ts);
    }
    if let Ok(dt) = s.parse::<DateTime>() {
        return dt.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    if let Ok(d) = s.parse::<Date>() {
        return d.to_zoned(TimeZone::UTC).ok().map(|z| z.timestamp());
    }
    jiff::fmt::rfc2822::parse(s).ok().map(|z| z.timestamp())
}

/// Chooses the original among `versions`: one member per group of identical
/// copies, the one read first.
///
/// * `date_of(m)`: the version's date, if any;
/// * `carried(m)`: how many other documents contain it;
/// * `containment(m)`: its average containment in the versions it is linked
///   to, if it has links.
pub fn attribute(
    versions: &[u32],
    date_of: impl Fn(u32) -> Option<Timestamp>,
    carried: impl Fn(u32) -> usize,
    containment: impl Fn(u32) -> Option<f64>,
) -> Attribution {
    let mut candidates: Vec<u32> = versions.to_vec();
    candidates.sort_unstable();
    let mut reason = AttributionReason::FirstSeen;
    let mut narrow = |candidates: &mut Vec<u32>, kept: Vec<u32>, why: AttributionReason| {
        if !kept.is_empty() && kept.len() < candidates.len() {
            *candidates = kept;
            if candidates.len() == 1 {
                reason = why;
            }
        }
    };

    let dated: Vec<(u32, Timestamp)> =
        candidates.iter().filter_map(|&m| date_of(m).map(|d| (m, d))).collect();
    if let Some(earliest) = dated.iter().map(|&(_, d)| d).min() {
        let kept = dated.iter().filter(|&&(_, d)| d == earliest).map(|&(m, _)| m).collect();
        narrow(&mut candidates, kept, AttributionReason::EarliestDate);
    }

    let most = candidates.iter().map(|&m| carried(m)).max().unwrap_or(0);
    if most > 0 {
        let kept = candidates.iter().copied().filter(|&m| carried(m) == most).collect();
        narrow(&mut candidates, kept, AttributionReason::MostCarried);
    }

    let scored: Vec<(u32, f64)> =
        candidates.iter().filter_map(|&m| containment(m).map(|c| (m, c))).collect();
    if let Some(best) = scored.iter().map(|&(_, c)| c).max_by(f64::total_cmp) {
        let kept = scored.iter().filter(|&&(_, c)| best - c < 1e-9).map(|&(m, _)| m).collect();
        narrow(&mut candidates, kept, AttributionReason::MostContained);
    }

    Attribution { original: candidates[0], reason }
}

/// Names the likely original of every cluster.
pub fn attribute_clusters(
    clusters: &mut [Cluster],
    date: impl Fn(u32) -> Option<Timestamp>,
    edges: &[Edge],
    groups: &DuplicateGroups,
) {
    // Both tables are keyed by document and hold only linked documents, so
    // they grow with the edges, not with the corpus.
    let mut carried: HashMap<u32, usize> = HashMap::new();
    // Average containment of each document in the other versions it is
    // linked to: (sum, count). Links between identical copies say nothing
    // about direction and are left out.
    let mut contained: HashMap<u32, (f64, u32)> = HashMap::new();
    for e in edges {
        if e.relation == Relation::Contained {
            *carried.entry(e.a).or_default() += 1;
        } else if e.relation != Relation::Duplicate {
            let a = contained.entry(e.a).or_default();
            a.0 += e.scores.containment_a_in_b();
            a.1 += 1;
            let b = contained.entry(e.b).or_default();
            b.0 += e.scores.containment_b_in_a();
            b.1 += 1;
        }
    }
    for cluster in clusters {
        // One version per group of identical copies; a version has the
        // earliest date and all the carriers of its copies.
        let copies =
            |v: u32| groups.group(v).unwrap_or(std::slice::from_ref(&cluster.members[0])).to_vec();
        let copies_of = |v: u32| if groups.group(v).is_some() { copies(v) } else { vec![v] };
        let versions: Vec<u32> = cluster
            .members
            .iter()
            .copied()
            .filter(|&m| groups.representative_of[m as usize] == m)
            .collect();
        let chosen = attribute(
            &versions,
            |v| copies_of(v).into_iter().filter_map(&date).min(),
            |v| copies_of(v).into_iter().map(|m| carried.get(&m).copied().unwrap_or(0)).sum(),
            |v| {
                let (sum, count) = contained.get(&v).copied().unwrap_or_default();
                (count > 0).then(|| sum / f64::from(count))
            },
        );
        // Among identical copies, the earliest dated one (else the first read).
        let version_copies = copies_of(chosen.original);
        let dated = version_copies.iter().filter_map(|&m| date(m).map(|d| (d, m))).min();
        cluster.original = match dated {
            Some((_, m)) if m != chosen.original => {
                Attribution { original: m, reason: AttributionReason::EarliestDate }
            }
            _ => chosen,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_date_wins() {
        let dates = ["2024-03-02", "2024-03-01T23:00:00-02:00", "2024-03-01"];
        let a = attribute(&[0, 1, 2], |m| parse_date(dates[m as usize]), |_| 0, |_| None);
        assert_eq!(a, Attribution { original: 2, reason: AttributionReason::EarliestDate });
    }

    #[test]
    fn then_the_most_carried_then_the_most_contained() {
        let carried = [0, 2, 2];
        let a = attribute(&[0, 1, 2], |_| None, |m| carried[m as usize], |_| None);
        // Carriers rule 0 out; 1 and 2 still tie: the first read is taken.
        assert_eq!(a, Attribution { original: 1, reason: AttributionReason::FirstSeen });
        let contained = [0.5, 0.7, 0.9];
        let a = attribute(
            &[0, 1, 2],
            |_| None,
            |m| carried[m as usize],
            |m| Some(contained[m as usize]),
        );
        assert_eq!(a, Attribution { original: 2, reason: AttributionReason::MostContained });
        let a = attribute(&[4, 3], |_| None, |_| 0, |_| None);
        assert_eq!(a, Attribution { original: 3, reason: AttributionReason::FirstSeen });
    }

    #[test]
    fn undated_members_lose_to_dated_ones() {
        let dates = [None, Some("2020-01-01"), Some("not a date")];
        let a = attribute(&[0, 1, 2], |m| dates[m as usize].and_then(parse_date), |_| 5, |_| None);
        assert_eq!(a.original, 1);
    }
}
