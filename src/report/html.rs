//! The HTML report: one self-contained file a reviewer opens from disk.
//!
//! The file holds its own CSS and script (`assets/report.css`,
//! `assets/report.js`) and the data as one JSON document in a
//! `<script type="application/json">` element. Nothing is fetched, so it
//! opens offline and can be mailed or archived as is.
//!
//! **Safety.** Document text and ids come from crawled pages and must never
//! become markup. They reach the page only as JSON string values, with every
//! `<`, `>` and `&` written as a `\u` escape, so no `</script>` can end the
//! data element; the script puts them on the page with `textContent`, never
//! `innerHTML`. A test feeds script and attribute-breaking payloads through a
//! document and checks that they stay text (and the browser test checks that
//! nothing runs).
//!
//! **Size.** Texts are stored once per document; each pair carries only its
//! aligned blocks and changed words as offsets. The script renders the pair
//! list a page at a time and a pair's texts only when the pair is opened, so
//! thousands of pairs stay responsive.
//!
//! Offsets in the data count UTF-16 code units, what JavaScript strings
//! index.

use std::collections::HashMap;
use std::io::{self, Write};
use std::ops::Range;

use rayon::prelude::*;
use serde::Serialize;

use super::alignment::Alignment;
use super::rows::{ClusterRow, PairRow};
use crate::normalize::Normalizer;
use crate::relate::Relation;

const CSS: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");

/// A document as the report needs it.
#[derive(Clone, Debug, Default)]
pub struct ReportDocument {
    /// Its text, when it could be read again.
    pub text: Option<String>,
    /// Byte ranges of boilerplate (site chrome) in the text, dimmed.
    pub boilerplate: Vec<Range<usize>>,
}

/// What goes into a report.
#[derive(Clone, Debug)]
pub struct HtmlReportInput<'a> {
    /// Title of the page (e.g. the inputs scanned).
    pub title: &'a str,
    /// Pairs to show.
    pub pairs: &'a [PairRow],
    /// Clusters to show.
    pub clusters: &'a [ClusterRow],
    /// Documents by id.
    pub documents: &'a HashMap<String, ReportDocument>,
    /// Pairs in the scan's output, when more than `pairs` (the report then
    /// says it shows a part).
    pub total_pairs: usize,
    /// Documents scanned, when known.
    pub scanned_documents: Option<u64>,
}

#[derive(Serialize)]
struct Data<'a> {
    title: &'a str,
    scanned: Option<u64>,
    total_pairs: usize,
    docs: Vec<DocData<'a>>,
    pairs: Vec<PairData<'a>>,
    clusters: Vec<ClusterData<'a>>,
}

#[derive(Serialize)]
struct DocData<'a> {
    id: &'a str,
    text: Option<&'a str>,
    /// Boilerplate ranges.
    bp: Vec<[u32; 2]>,
}

#[derive(Serialize)]
struct PairData<'a> {
    a: u32,
    b: u32,
    relation: Relation,
    jaccard: f64,
    ca: f64,
    cb: f64,
    cluster: Option<&'a str>,
    sentence: String,
    /// Aligned blocks: `[a_start, a_end, b_start, b_end]`.
    blocks: Vec<[u32; 4]>,
    /// Changed words inside blocks, same layout (an empty side has
    /// start == end at the place of the change).
    changes: Vec<[u32; 4]>,
    /// Share of `a`'s words aligned, for the list.
    aligned: f64,
    subs: Vec<(String, String, u32)>,
}

#[derive(Serialize)]
struct ClusterData<'a> {
    id: &'a str,
    members: Vec<u32>,
    original: u32,
    reason: Option<&'a str>,
    carried_by: Vec<u32>,
}

/// Byte offsets → UTF-16 offsets of one text.
struct Utf16Offsets {
    /// `None` for ASCII text, where both are equal.
    table: Option<Vec<u32>>,
}

impl Utf16Offsets {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return Utf16Offsets { table: None };
        }
        let mut table = vec![0u32; text.len() + 1];
        let mut units = 0u32;
        for (i, c) in text.char_indices() {
            table[i] = units;
            units += c.len_utf16() as u32;
        }
        table[text.len()] = units;
        Utf16Offsets { table: Some(table) }
    }

    fn at(&self, byte: usize) -> u32 {
        self.table.as_ref().map_or(byte as u32, |t| t[byte])
    }
}

/// Ids and the index of each in the report's document table.
#[derive(Default)]
struct DocTable<'a> {
    ids: Vec<&'a str>,
    index: HashMap<&'a str, u32>,
}

impl<'a> DocTable<'a> {
    fn add(&mut self, id: &'a str) -> u32 {
        let next = self.ids.len() as u32;
        *self.index.entry(id).or_insert_with(|| {
            self.ids.push(id);
            next
        })
    }
}

/// Writes the report for `input` to `w`.
pub fn write_html(
    input: &HtmlReportInput<'_>,
    normalizer: &Normalizer,
    mut w: impl Write,
) -> io::Result<()> {
    let mut table = DocTable::default();
    for p in input.pairs {
        table.add(&p.a);
        table.add(&p.b);
    }
    for c in input.clusters {
        c.members.iter().chain(&c.carried_by).chain([&c.original]).for_each(|id| {
            table.add(id);
        });
    }
    let texts: Vec<Option<&str>> = table
        .ids
        .iter()
        .map(|id| input.documents.get(*id).and_then(|d| d.text.as_deref()))
        .collect();
    let offsets: Vec<Utf16Offsets> =
        texts.par_iter().map(|t| Utf16Offsets::new(t.unwrap_or(""))).collect();
    let docs = table
        .ids
        .iter()
        .zip(&offsets)
        .map(|(id, off)| {
            let doc = input.documents.get(*id);
            DocData {
                id,
                text: doc.and_then(|d| d.text.as_deref()),
                bp: doc
                    .map(|d| {
                        d.boilerplate.iter().map(|r| [off.at(r.start), off.at(r.end)]).collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect();
    let pairs = input
        .pairs
        .par_iter()
        .map(|p| {
            let (a, b) = (table.index[p.a.as_str()], table.index[p.b.as_str()]);
            pair_data(p, a, b, &texts, &offsets, normalizer)
        })
        .collect();
    let clusters = input
        .clusters
        .iter()
        .map(|c| ClusterData {
            id: &c.id,
            members: c.members.iter().map(|m| table.index[m.as_str()]).collect(),
            original: table.index[c.original.as_str()],
            reason: c.original_reason.as_deref(),
            carried_by: c.carried_by.iter().map(|m| table.index[m.as_str()]).collect(),
        })
        .collect();
    let data = Data {
        title: input.title,
        scanned: input.scanned_documents,
        total_pairs: input.total_pairs.max(input.pairs.len()),
        docs,
        pairs,
        clusters,
    };
    let json = serde_json::to_string(&data).map_err(io::Error::other)?;
    write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n\
         <title>neardup report</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n\
         <noscript>This report needs JavaScript to show its data.</noscript>\n\
         <script id=\"neardup-data\" type=\"application/json\">"
    )?;
    w.write_all(script_safe_json(&json).as_bytes())?;
    write!(w, "</script>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n")
}

/// `json` with `<`, `>` and `&` as `\u` escapes: the same JSON value, and
/// no sequence that HTML could read as the end of the script element.
fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

fn pair_data<'a>(
    p: &'a PairRow,
    a: u32,
    b: u32,
    texts: &[Option<&str>],
    offsets: &[Utf16Offsets],
    normalizer: &Normalizer,
) -> PairData<'a> {
    let (mut blocks, mut changes, mut aligned) = (Vec::new(), Vec::new(), 0.0);
    let mut subs: Vec<(String, String, u32)> =
        p.substitutions.iter().flatten().map(|s| (s.from.clone(), s.to.clone(), s.count)).collect();
    if let (Some(ta), Some(tb)) = (texts[a as usize], texts[b as usize]) {
        let al = Alignment::new(ta, tb, normalizer);
        let (oa, ob) = (&offsets[a as usize], &offsets[b as usize]);
        // An empty side of a change sits where the next word would start.
        let range =
            |spans: &[crate::normalize::TokenSpan], r: &Range<usize>, off: &Utf16Offsets| {
                if r.is_empty() {
                    let at = spans
                        .get(r.start)
                        .map_or_else(|| spans.last().map_or(0, |s| s.end), |s| s.start);
                    [off.at(at), off.at(at)]
                } else {
                    [off.at(spans[r.start].start), off.at(spans[r.end - 1].end)]
                }
            };
        for block in &al.blocks {
            let [a0, a1] = range(&al.a, &block.a, oa);
            let [b0, b1] = range(&al.b, &block.b, ob);
            blocks.push([a0, a1, b0, b1]);
            for c in &block.changes {
                let [a0, a1] = range(&al.a, &c.a, oa);
                let [b0, b1] = range(&al.b, &c.b, ob);
                changes.push([a0, a1, b0, b1]);
            }
        }
        aligned = al.equal_words() as f64 / al.a.len().max(1) as f64;
        if p.substitutions.is_none() && p.relation == Relation::Spun {
            subs = substitution_counts(al.substitutions(ta, tb));
        }
    }
    PairData {
        a,
        b,
        relation: p.relation,
        jaccard: p.jaccard,
        ca: p.containment_a_in_b,
        cb: p.containment_b_in_a,
        cluster: p.cluster.as_deref(),
        sentence: p.sentence(),
        blocks,
        changes,
        aligned: (aligned * 1000.0).round() / 1000.0,
        subs,
    }
}

/// Word replacements (both sides non-empty) with their counts, most
/// frequent first: for spun pairs whose record carries none (from an index).
fn substitution_counts(
    pairs: impl Iterator<Item = (String, String)>,
) -> Vec<(String, String, u32)> {
    let mut counts: HashMap<(String, String), u32> = HashMap::new();
    for (from, to) in pairs.filter(|(f, t)| !f.is_empty() && !t.is_empty()) {
        *counts.entry((from.to_lowercase(), to.to_lowercase())).or_default() += 1;
    }
    let mut out: Vec<(String, String, u32)> =
        counts.into_iter().map(|((f, t), n)| (f, t, n)).collect();
    out.sort_by(|x, y| y.2.cmp(&x.2).then_with(|| x.0.cmp(&y.0)).then_with(|| x.1.cmp(&y.1)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: &str, b: &str) -> PairRow {
        serde_json::from_value(serde_json::json!({
            "a": a, "b": b, "relation": "near_duplicate", "jaccard": 0.8,
            "containment_a_in_b": 0.9, "containment_b_in_a": 0.85
        }))
        .unwrap()
    }

    #[test]
    fn document_text_and_ids_never_become_markup() {
        let payload = "</script><script>alert(1)</script><img src=x onerror=alert(2)> \"' &amp;";
        let text =
            format!("{payload} the council approved the new bridge on tuesday after a debate");
        let id = "<b onmouseover=alert(3)>id</b>";
        let mut documents = HashMap::new();
        for name in [id, "other"] {
            documents.insert(
                name.to_string(),
                ReportDocument {
                    text: Some(text.clone()),
                    boilerplate: std::iter::once(0..9).collect(),
                },
            );
        }
        let pairs = [row(id, "other")];
        let input = HtmlReportInput {
            title: "t",
            pairs: &pairs,
            clusters: &[],
            documents: &documents,
            total_pairs: 1,
            scanned_documents: Some(2),
        };
        let mut out = Vec::new();
        write_html(&input, &Normalizer::default(), &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        // Exactly the page's own two script elements, closed once each.
        assert_eq!(html.matches("<script").count(), 2, "{html}");
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<img") && !html.contains("<b "));
        // The data still holds the text, as an escaped JSON value.
        let start = html.find("type=\"application/json\">").unwrap() + 24;
        let end = start + html[start..].find("</script>").unwrap();
        let data: serde_json::Value = serde_json::from_str(&html[start..end]).unwrap();
        assert_eq!(data["docs"][0]["text"], text.as_str());
        assert_eq!(data["docs"][0]["id"], id);
        // The whole text is one aligned block in both.
        assert_eq!(data["pairs"][0]["blocks"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn offsets_count_utf16_units() {
        let text = "é 😀 ok";
        let off = Utf16Offsets::new(text);
        let ok = text.find("ok").unwrap();
        assert_eq!(off.at(ok), "é 😀 ".encode_utf16().count() as u32);
        assert_eq!(off.at(text.len()), text.encode_utf16().count() as u32);
    }
}
