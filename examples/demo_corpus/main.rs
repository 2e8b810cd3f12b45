//! Rebuilds the generated part of the demo corpus from the hand-written
//! articles in `corpora/demo/articles/`:
//!
//! * `corpora/demo/copies/`: exact copies, reformatted copies (CRLF line ends,
//!   re-wrapped lines, changed quotes and case: still `duplicate`) and edited
//!   reprints (a new headline, a footer, a paragraph dropped or borrowed from
//!   another article, a sentence trimmed, a number changed, typos:
//!   `near_duplicate`);
//! * `corpora/demo/pages/`: aggregator pages in three site templates, each
//!   carrying one or two articles in full or as a teaser (`contained`);
//! * `corpora/demo/teasers/`: standalone teasers (headline, first paragraphs,
//!   a link line), contained in their article and in the pages showing them;
//! * `corpora/demo/copies/*--spun.txt`: copies spun by the project's own
//!   synonym spinner at rates 0.20, 0.35 and 0.50, some inside a spam site's
//!   header and footer (`spun`);
//! * the hand-written `corpora/demo/same-event/` articles (other outlets'
//!   reports of the same events) are listed in the truth with no relation;
//! * `corpora/demo/truth.json`: every related pair, in the format of
//!   `neardup eval --truth`;
//! * `corpora/demo/meta.json`: the positives grouped by kind, for
//!   `neardup eval --groups`.
//!
//! Run with `cargo run --example demo-corpus`; `-- --out DIR` writes the
//! generated files under `DIR` instead (the articles are still read from the
//! repository), which is how a test checks that the committed files are
//! reproducible. Every choice is derived from an
//! xxh3 hash of a label (article name, purpose), so the output is identical on
//! every machine and does not depend on a random number generator's version.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

mod pages;
mod spinner;

use pages::{Carry, TEMPLATES, render_page, teaser_document};

/// A deterministic choice in `0..n` for a label.
fn pick(label: &str, n: usize) -> usize {
    (xxh3_64(label.as_bytes()) % n as u64) as usize
}

/// One document of the corpus and what it is a copy of.
struct Doc {
    id: String,
    text: String,
    /// The article this document is a copy of.
    family: String,
    /// Documents with the same content key have the same words in the same
    /// order (they are `duplicate`s of each other).
    content_key: String,
    /// How it was made, for `meta.json`.
    kind: &'static str,
    /// The edits applied, for edited reprints.
    edits: Vec<&'static str>,
    /// For pages: what they carry (`full:SLUG`, `teaser:SLUG`).
    carries: Vec<String>,
    /// For spun copies: the target and achieved share of content words
    /// replaced.
    spin: Option<(f64, f64)>,
}

impl Doc {
    /// A generated copy of `family`, stored as `copies/{family}--{suffix}.txt`.
    fn copy(
        family: &str,
        suffix: &str,
        text: String,
        content_key: String,
        kind: &'static str,
    ) -> Doc {
        Doc {
            id: format!("copies/{family}--{suffix}.txt"),
            text,
            family: family.to_string(),
            content_key,
            kind,
            edits: Vec::new(),
            carries: Vec::new(),
            spin: None,
        }
    }

    /// A document that is nobody's copy (a page, a teaser).
    fn single(id: String, text: String, kind: &'static str) -> Doc {
        Doc {
            family: id.clone(),
            content_key: id.clone(),
            id,
            text,
            kind,
            edits: Vec::new(),
            carries: Vec::new(),
            spin: None,
        }
    }
}

#[derive(Clone)]
struct Article {
    slug: String,
    headline: String,
    paragraphs: Vec<String>,
}

impl Article {
    fn parse(slug: &str, text: &str) -> Article {
        let mut blocks = text.split("\n\n").map(|b| b.trim().to_string()).filter(|b| !b.is_empty());
        let headline = blocks.next().unwrap_or_default();
        Article { slug: slug.to_string(), headline, paragraphs: blocks.collect() }
    }

    fn render(&self) -> String {
        let mut out = self.headline.clone();
        for p in &self.paragraphs {
            out.push_str("\n\n");
            out.push_str(p);
        }
        out.push('\n');
        out
    }
}

const FOOTERS: [&str; 4] = [
    "This story was first published by the Wendle Valley Courier and is republished here with permission.",
    "Reporting by our regional desk. Additional reporting by news agencies. Got a story? Email the newsroom.",
    "Copyright the Harlow Vale Gazette. All rights reserved. Reproduced under licence.",
    "This article has been updated since it was first published to include further comment.",
];

const HEADLINE_FORMS: [&str; 4] =
    ["UPDATED: {}", "{} - what we know so far", "Local news: {}", "{} (latest)"];

/// Edits applied to make an edited reprint.
fn edited(article: &Article, others: &[Article], label: &str) -> (String, Vec<&'static str>) {
    let mut a = Article {
        slug: article.slug.clone(),
        headline: article.headline.clone(),
        paragraphs: article.paragraphs.clone(),
    };
    let edit_count = 1 + pick(&format!("{label}/count"), 3);
    let mut kinds = Vec::new();
    let mut order: Vec<usize> = (0..6).collect();
    // A fixed, label-dependent order of the six edit kinds.
    order.sort_by_key(|k| xxh3_64(format!("{label}/order/{k}").as_bytes()));
    for &kind in order.iter().take(edit_count) {
        match kind {
            0 => {
                let form = HEADLINE_FORMS[pick(&format!("{label}/headline"), HEADLINE_FORMS.len())];
                a.headline = form.replace("{}", &a.headline);
                kinds.push("headline changed");
            }
            1 => {
                let footer = FOOTERS[pick(&format!("{label}/footer"), FOOTERS.len())];
                a.paragraphs.push(footer.to_string());
                kinds.push("footer added");
            }
            2 if a.paragraphs.len() > 4 => {
                let at = 1 + pick(&format!("{label}/drop"), a.paragraphs.len() - 2);
                a.paragraphs.remove(at);
                kinds.push("paragraph dropped");
            }
            3 => {
                let donor = &others[pick(&format!("{label}/donor"), others.len())];
                let para = donor.paragraphs
                    [pick(&format!("{label}/donor-para"), donor.paragraphs.len())]
                .clone();
                let at = 1 + pick(&format!("{label}/insert"), a.paragraphs.len() - 1);
                a.paragraphs.insert(at, para);
                kinds.push("paragraph added from another article");
            }
            4 => {
                // Trim the longest paragraph after its last comma-free sentence
                // end, or change its first number.
                let (i, _) = a.paragraphs.iter().enumerate().max_by_key(|(_, p)| p.len()).unwrap();
                let p = &a.paragraphs[i];
                if let Some(pos) = p.find(|c: char| c.is_ascii_digit()) {
                    let end =
                        p[pos..].find(|c: char| !c.is_ascii_digit()).map_or(p.len(), |e| pos + e);
                    let n: u64 = p[pos..end].parse().unwrap_or(1);
                    a.paragraphs[i] = format!("{}{}{}", &p[..pos], n + 1 + n / 10, &p[end..]);
                    kinds.push("number changed");
                } else if let Some(cut) = p.rfind(". ") {
                    a.paragraphs[i] = p[..=cut].to_string();
                    kinds.push("sentence trimmed");
                }
            }
            5 => {
                a.paragraphs = a
                    .paragraphs
                    .iter()
                    .enumerate()
                    .map(|(i, p)| typos(p, &format!("{label}/typos/{i}")))
                    .collect();
                kinds.push("typos");
            }
            _ => {}
        }
    }
    if kinds.is_empty() {
        // Paragraph drops need long articles; fall back to a footer.
        a.paragraphs.push(FOOTERS[0].to_string());
        kinds.push("footer added");
    }
    (a.render(), kinds)
}

/// Swaps two letters in about one word in forty.
fn typos(paragraph: &str, label: &str) -> String {
    paragraph
        .split(' ')
        .enumerate()
        .map(|(i, w)| {
            let chars: Vec<char> = w.chars().collect();
            if chars.len() > 4
                && pick(&format!("{label}/{i}"), 40) == 0
                && chars.iter().all(|c| c.is_alphabetic())
            {
                let mut c = chars.clone();
                c.swap(1, 2);
                c.into_iter().collect()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The same words in another layout: CRLF, wrapped lines, other quotes, an
/// upper-case headline. Tokens are unchanged.
fn reformatted(article: &Article) -> String {
    let mut out = article.headline.to_uppercase();
    for p in &article.paragraphs {
        out.push_str("\r\n\r\n");
        let mut line = String::new();
        for word in p.split(' ') {
            if !line.is_empty() && line.len() + word.len() > 70 {
                out.push_str(&line);
                out.push_str("\r\n");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
    }
    out.push_str("\r\n");
    out.replace('\'', "\u{2019}").replace(" \"", " \u{201c}").replace("\" ", "\u{201d} ")
}

fn main() -> std::io::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpora/demo");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = match args.as_slice() {
        [] => root.clone(),
        [flag, dir] if flag == "--out" => PathBuf::from(dir),
        _ => {
            eprintln!("usage: demo-corpus [--out DIR]");
            std::process::exit(2);
        }
    };
    let mut names: Vec<PathBuf> = fs::read_dir(root.join("articles"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    names.sort();
    let articles: Vec<Article> = names
        .iter()
        .map(|p| {
            let slug = p.file_stem().unwrap().to_string_lossy().into_owned();
            Ok(Article::parse(&slug, &fs::read_to_string(p)?))
        })
        .collect::<std::io::Result<_>>()?;

    let mut docs: Vec<Doc> = Vec::new();
    for (i, article) in articles.iter().enumerate() {
        let others: Vec<Article> =
            articles.iter().filter(|o| o.slug != article.slug).cloned().collect();
        let original =
            fs::read_to_string(root.join("articles").join(format!("{}.txt", article.slug)))?;
        let s = &article.slug;
        let mut family = vec![Doc {
            id: format!("articles/{s}.txt"),
            text: original.clone(),
            family: s.clone(),
            content_key: s.clone(),
            kind: "original",
            edits: Vec::new(),
            carries: Vec::new(),
            spin: None,
        }];
        let reprint = || {
            let (text, edits) = edited(article, &others, &format!("{s}/reprint"));
            let mut doc = Doc::copy(s, "reprint", text, format!("{s}/reprint"), "edited_reprint");
            doc.edits = edits;
            doc
        };
        // Four plans in turn, so every kind of copy occurs several times.
        match i % 4 {
            0 => {
                family.push(Doc::copy(s, "copy", original.clone(), s.clone(), "exact_copy"));
                family.push(reprint());
            }
            1 => {
                let text = reformatted(article);
                family.push(Doc::copy(s, "reformatted", text, s.clone(), "reformatted_copy"));
            }
            2 => {
                let reprint = reprint();
                // A copy of the reprint, reformatted: a second-generation copy.
                let text = reformatted(&Article::parse(s, &reprint.text));
                let key = reprint.content_key.clone();
                family.push(reprint);
                family.push(Doc::copy(s, "reprint-reformatted", text, key, "reformatted_copy"));
            }
            _ => {} // No copies: a singleton.
        }
        // Articles with edited reprints (not carried by any page) also get a
        // spun copy, at the three rates in turn; every third sits inside a
        // spam site's header and footer.
        if i % 4 == 0 || i % 4 == 2 {
            let n = i / 2;
            let rate = [0.20, 0.35, 0.50][n % 3];
            let (text, achieved) = spinner::spin(&original, rate, &format!("{s}/spun"));
            let text = if n % 3 == 2 { spinner::spam_wrapper(&text, n) } else { text };
            let mut doc = Doc::copy(s, "spun", text, format!("{s}/spun"), "spun_copy");
            doc.spin = Some((rate, (achieved * 1000.0).round() / 1000.0));
            family.push(doc);
        }
        docs.extend(family);
    }

    // Truth: every pair inside a family.
    let mut positives: Vec<(String, String, &str)> = Vec::new();
    let mut groups: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    let mut carried = |a: &str, b: &str, relation: &'static str, group: &'static str| {
        positives.push((a.to_string(), b.to_string(), relation));
        groups.entry(group).or_default().push((a.to_string(), b.to_string()));
    };
    let mut extra = carried_documents(&articles, &docs, &mut carried);
    docs.append(&mut extra);
    // Other outlets' reports of the same events: written by hand, related to
    // nothing.
    let mut events: Vec<PathBuf> = fs::read_dir(root.join("same-event"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    events.sort();
    for path in events {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        docs.push(Doc::single(
            format!("same-event/{name}"),
            fs::read_to_string(&path)?,
            "same_event",
        ));
    }
    let by_family: BTreeMap<&str, Vec<&Doc>> = docs.iter().fold(BTreeMap::new(), |mut m, d| {
        m.entry(d.family.as_str()).or_default().push(d);
        m
    });
    for members in by_family.values() {
        for (i, a) in members.iter().enumerate() {
            for b in &members[i + 1..] {
                let relation = if a.kind == "spun_copy" || b.kind == "spun_copy" {
                    "spun"
                } else if a.content_key == b.content_key {
                    "duplicate"
                } else {
                    "near_duplicate"
                };
                positives.push((a.id.clone(), b.id.clone(), relation));
                let kind = match (a.kind, b.kind) {
                    ("original", "spun_copy") => "spun_of_original",
                    (_, "spun_copy") | ("spun_copy", _) => "spun_of_copy",
                    ("original", kind) => kind,
                    _ => "copy_of_copy",
                };
                groups.entry(kind).or_default().push((a.id.clone(), b.id.clone()));
            }
        }
    }

    for dir in ["copies", "pages", "teasers"] {
        let dir = out.join(dir);
        if dir.exists() {
            fs::remove_dir_all(&dir)?;
        }
        fs::create_dir_all(&dir)?;
    }
    for d in docs.iter().filter(|d| d.kind != "original" && d.kind != "same_event") {
        write(&out.join(&d.id), &d.text)?;
    }
    let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
    let truth = serde_json::json!({ "docs": ids, "positives": positives });
    write(&out.join("truth.json"), &(serde_json::to_string_pretty(&truth)? + "\n"))?;
    let doc_meta: BTreeMap<&str, serde_json::Value> = docs
        .iter()
        .map(|d| {
            let mut m = serde_json::json!({ "kind": d.kind, "source": d.family });
            if !d.edits.is_empty() {
                m["edits"] = serde_json::json!(d.edits);
            }
            if !d.carries.is_empty() {
                m["carries"] = serde_json::json!(d.carries);
            }
            if let Some((target, achieved)) = d.spin {
                m["rate_target"] = serde_json::json!(target);
                m["rate_achieved"] = serde_json::json!(achieved);
            }
            (d.id.as_str(), m)
        })
        .collect();
    let meta = serde_json::json!({ "docs": doc_meta, "positive_groups": groups });
    write(&out.join("meta.json"), &(serde_json::to_string_pretty(&meta)? + "\n"))?;
    eprintln!(
        "{} documents, {} positive pairs written under {}",
        docs.len(),
        positives.len(),
        out.display()
    );
    Ok(())
}

/// Pages and teasers for the articles whose copies all keep the original's
/// words (so every pair is known by construction), reporting each related
/// pair through `related(a, b, relation, group)`.
///
/// A page carrying several stories *contains* each of them. A page carrying
/// a single story is, once its template is set aside, that story with a
/// byline: a `near_duplicate` of it (the same article with a footer).
fn carried_documents(
    articles: &[Article],
    docs: &[Doc],
    related: &mut impl FnMut(&str, &str, &'static str, &'static str),
) -> Vec<Doc> {
    let carriable: Vec<usize> = (0..articles.len()).filter(|i| i % 4 == 1 || i % 4 == 3).collect();
    let family = |i: usize| -> Vec<&Doc> {
        docs.iter()
            .filter(|d| d.family == articles[i].slug && d.content_key == articles[i].slug)
            .collect()
    };
    let mut out = Vec::new();
    // Standalone teasers for every other carried article.
    let mut teaser_of: BTreeMap<usize, String> = BTreeMap::new();
    for (_, &i) in carriable.iter().enumerate().filter(|(k, _)| k % 2 == 0) {
        let id = format!("teasers/{}--teaser.txt", articles[i].slug);
        for d in family(i) {
            related(&id, &d.id, "contained", "teaser_in_article");
        }
        teaser_of.insert(i, id.clone());
        out.push(Doc::single(id, teaser_document(&articles[i]), "teaser"));
    }
    // Pages follow the templates in turn (five pages each). The plan makes
    // every relation known by construction:
    // * pages 0, 1 and 7 carry one article in full, alone: the page is that
    //   story plus its template, a `near_duplicate` of it;
    // * pages 2-6 carry two articles in full: each is `contained`;
    // * pages 8-14 carry three teasers each, from three different full pages
    //   (or from articles with edited reprints, which carry no other
    //   relation), so no single document holds most of a teaser page.
    // Each teaser is shown on one page only, so teaser text stays below the
    // boilerplate frequency.
    let fillers: Vec<usize> = (0..articles.len()).filter(|i| i % 4 == 0 || i % 4 == 2).collect();
    let (t, f) = (|k: usize| (carriable[k], Carry::Teaser), |k: usize| (fillers[k], Carry::Teaser));
    let full = |k: usize| (carriable[k], Carry::Full);
    let items: Vec<Vec<(usize, Carry)>> = vec![
        vec![full(0)],
        vec![full(1)],
        vec![full(2), full(3)],
        vec![full(4), full(5)],
        vec![full(6), full(7)],
        vec![full(8), full(9)],
        vec![full(10), full(11)],
        vec![full(12)],
        vec![t(0), t(2), f(0)],
        vec![t(1), t(4), f(1)],
        vec![t(3), t(6), f(2)],
        vec![t(5), t(8), f(3)],
        vec![t(7), t(10), f(4)],
        vec![t(9), t(12), f(5)],
        vec![t(11), f(6), f(7)],
    ];
    assert_eq!(items.len(), TEMPLATES.len() * 5);
    let page_id = |p: usize| {
        let template = &TEMPLATES[p % TEMPLATES.len()];
        (
            template,
            p / TEMPLATES.len() + 1,
            format!("pages/{}-{}.txt", template.name, p / TEMPLATES.len() + 1),
        )
    };
    for (p, page_items) in items.iter().enumerate() {
        let (template, n, id) = page_id(p);
        let carried: Vec<(&Article, Carry)> =
            page_items.iter().map(|&(i, c)| (&articles[i], c)).collect();
        let mut doc = Doc::single(id.clone(), render_page(template, n, &carried, articles), "page");
        let single = page_items.len() == 1;
        for &(i, carry) in page_items {
            let kind = if carry == Carry::Full { "full" } else { "teaser" };
            doc.carries.push(format!("{kind}:{}", articles[i].slug));
            if carry == Carry::Full {
                for d in family(i) {
                    if single {
                        related(&d.id, &id, "near_duplicate", "article_alone_on_page");
                    } else {
                        related(&d.id, &id, "contained", "article_in_page");
                    }
                }
            }
            if let Some(teaser) = teaser_of.get(&i) {
                related(teaser, &id, "contained", "teaser_in_page");
            }
        }
        out.push(doc);
    }
    out
}

fn write(path: &Path, text: &str) -> std::io::Result<()> {
    fs::write(path, text)
}
