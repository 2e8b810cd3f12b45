//! The corpus generator shared by the `synth-corpus` example and the
//! benchmarks (`benches/`): deterministic news-like documents with copies
//! of every kind (see the example's documentation for the mix).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

#[path = "../demo_corpus/spinner.rs"]
#[allow(dead_code)]
mod spinner;

/// Generates the documents of one corpus: document `n` depends only on the
/// seed and `n`, so any range can be built in parallel.
pub struct Generator {
    vocabulary: Vocabulary,
    synonyms: HashMap<&'static str, &'static str>,
    stopwords: std::collections::HashSet<&'static str>,
    seed: u64,
}

impl Generator {
    /// A generator drawing words from the project's demo articles.
    pub fn new(seed: u64) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        Generator {
            vocabulary: Vocabulary::from_articles(&root.join("corpora/demo/articles")),
            synonyms: spinner::SYNONYMS.iter().copied().collect(),
            stopwords: stop_words::get(stop_words::Language::English).iter().copied().collect(),
            seed,
        }
    }

    /// Document number `n`.
    pub fn document(&self, n: u64) -> Doc {
        let spinner = Spinner {
            synonyms: &self.synonyms,
            stopwords: &self.stopwords,
            vocabulary: &self.vocabulary,
        };
        document(&self.vocabulary, &spinner, self.seed, n)
    }
}

/// A deterministic choice in `0..n` for a label (used by the spinner).
fn pick(label: &str, n: usize) -> usize {
    (xxh3_64(label.as_bytes()) % n as u64) as usize
}

/// A stream of hash-derived numbers for one purpose.
struct Draw {
    key: u64,
    n: u64,
}

impl Draw {
    fn new(seed: u64, purpose: &str, item: u64) -> Self {
        Draw {
            key: xxh3_64_with_seed(purpose.as_bytes(), seed ^ item.wrapping_mul(0x9e37_79b9)),
            n: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.n += 1;
        xxh3_64_with_seed(&self.n.to_le_bytes(), self.key)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// Words weighted by frequency, sampled by binary search on cumulative counts.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<u64>,
}

impl Vocabulary {
    fn from_articles(dir: &Path) -> Self {
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut names: Vec<PathBuf> =
            fs::read_dir(dir).expect("corpora/demo/articles").map(|e| e.unwrap().path()).collect();
        names.sort();
        for path in names {
            let text = fs::read_to_string(&path).unwrap();
            for w in text.split(|c: char| !c.is_ascii_alphabetic() && c != '\'') {
                let w = w.trim_matches('\'');
                if w.len() > 1 && w.chars().all(|c| c.is_ascii_lowercase() || c == '\'') {
                    *counts.entry(w.to_string()).or_default() += 1;
                }
            }
        }
        // The demo words, most frequent first, then a long tail of made-up
        // words, weighted by Zipf's law (weight 1/rank): the shape of a real
        // news vocabulary, so texts share common words and phrases but
        // rarely a run of rare ones.
        let mut ranked: Vec<(String, u64)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut words: Vec<String> = ranked.into_iter().map(|(w, _)| w).collect();
        let mut draw = Draw::new(0, "vocabulary", 0);
        while words.len() < VOCABULARY {
            let parts = draw.range(2, 4);
            words.push((0..parts).map(|_| SYLLABLES[draw.range(0, 23) as usize]).collect());
        }
        let mut total = 0;
        let cumulative = (0..words.len())
            .map(|rank| {
                total += (1e9 / (rank as f64 + 1.0)) as u64;
                total
            })
            .collect();
        Vocabulary { words, cumulative }
    }

    fn word(&self, draw: &mut Draw) -> &str {
        let total = *self.cumulative.last().unwrap();
        let x = draw.next() % total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        &self.words[i]
    }
}

/// Distinct words drawn from.
const VOCABULARY: usize = 60_000;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mer", "an", "ti", "vel", "dor", "sa", "ri", "bel", "on", "ma", "thu", "gren",
    "is", "ko", "war", "el", "din", "ros", "pa", "lin", "ham", "ster",
];

fn name(draw: &mut Draw) -> String {
    let parts = draw.range(2, 3);
    let mut s: String = (0..parts).map(|_| SYLLABLES[draw.range(0, 23) as usize]).collect();
    s[..1].make_ascii_uppercase();
    s
}

/// Article `n`: a headline and paragraphs.
fn article(vocab: &Vocabulary, seed: u64, n: u64) -> Vec<String> {
    let mut draw = Draw::new(seed, "article", n);
    let sentence = |draw: &mut Draw| {
        let len = draw.range(8, 24);
        let mut words: Vec<String> = Vec::with_capacity(len as usize);
        while (words.len() as u64) < len {
            match draw.range(0, 99) {
                0..=6 => {
                    words.push(name(draw));
                    words.push(name(draw));
                }
                7..=9 => words.push(draw.range(2, 2024).to_string()),
                _ => words.push(vocab.word(draw).to_string()),
            }
        }
        let mut s = words.join(" ");
        s[..1].make_ascii_uppercase();
        s.push('.');
        s
    };
    let headline_words = draw.range(5, 9);
    let mut headline: String = (0..headline_words)
        .map(|_| vocab.word(&mut draw).to_string())
        .collect::<Vec<_>>()
        .join(" ");
    headline[..1].make_ascii_uppercase();
    let mut paragraphs = vec![headline];
    for _ in 0..draw.range(8, 14) {
        let sentences: Vec<String> = (0..draw.range(2, 4)).map(|_| sentence(&mut draw)).collect();
        paragraphs.push(sentences.join(" "));
    }
    paragraphs
}

/// One generated document.
pub struct Doc {
    /// `doc-NNNNNNNN`.
    pub id: String,
    /// A made-up URL on one of 40 sites.
    pub url: String,
    /// An ISO 8601 date.
    pub date: String,
    /// The text: a headline and paragraphs separated by blank lines.
    pub text: String,
}

fn document(vocab: &Vocabulary, spinner: &Spinner, seed: u64, n: u64) -> Doc {
    let mut draw = Draw::new(seed, "document", n);
    let kind = draw.range(0, 99);
    // Copies take an earlier article number.
    let source = if n == 0 { 0 } else { draw.range(0, n - 1) };
    let site = draw.range(1, 40);
    let text = match kind {
        0..=3 => article(vocab, seed, source).join("\n\n"),
        4..=7 => {
            let mut p = article(vocab, seed, source);
            let drop = draw.range(1, p.len() as u64 - 1) as usize;
            p.remove(drop);
            p.push(format!("This story first appeared on site {site} and was updated."));
            p.join("\n\n")
        }
        8..=9 => spin(&article(vocab, seed, source).join("\n\n"), spinner, &mut draw),
        10..=11 => {
            let mut page = vec![format!(
                "Site {site} News | Home | World | Business | Sport | Weather | Sign in"
            )];
            for k in 0..draw.range(2, 3) {
                let other = if n == 0 { 0 } else { draw.range(0, n - 1) };
                let carried = if k == 0 { source } else { other };
                page.extend(article(vocab, seed, carried));
                page.push("Share this story: Facebook | X | Email | Copy link".to_string());
            }
            page.push(format!(
                "Download the Site {site} app for breaking news alerts. We use cookies to improve \
                 your experience. Copyright Site {site} Media."
            ));
            page.join("\n\n")
        }
        12 => {
            let p = article(vocab, seed, source);
            format!("{}\n\n{}\n\n{}\n\nRead the full story on site {site}.", p[0], p[1], p[2])
        }
        _ => article(vocab, seed, n).join("\n\n"),
    };
    Doc {
        id: format!("doc-{n:08}"),
        url: format!("https://site{site}.example/news/{n}"),
        date: format!("2024-{:02}-{:02}T{:02}:00:00Z", 1 + n % 12, 1 + n % 28, n % 24),
        text,
    }
}

/// A thesaurus spinner: about 35% of the content words (not function words,
/// names or numbers) are replaced by a fixed synonym: the demo spinner's
/// when it has one, else a word the vocabulary assigns by hash.
fn spin(text: &str, spinner: &Spinner, draw: &mut Draw) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String, draw: &mut Draw| {
        if !word.is_empty() && !spinner.stopwords.contains(word.as_str()) && draw.range(0, 99) < 35
        {
            match spinner.synonyms.get(word.as_str()) {
                Some(s) => out.push_str(s),
                None => {
                    let i =
                        (xxh3_64(word.as_bytes()) % spinner.vocabulary.words.len() as u64) as usize;
                    out.push_str(&spinner.vocabulary.words[i]);
                }
            }
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_lowercase() {
            word.push(c);
        } else {
            flush(&mut word, &mut out, draw);
            out.push(c);
        }
    }
    flush(&mut word, &mut out, draw);
    out
}

/// What the spinner needs.
struct Spinner<'a> {
    synonyms: &'a HashMap<&'static str, &'static str>,
    stopwords: &'a std::collections::HashSet<&'static str>,
    vocabulary: &'a Vocabulary,
}

/// The document as a news web page.
pub fn html_page(doc: &Doc) -> String {
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut paragraphs = doc.text.split("\n\n");
    let title = escape(paragraphs.next().unwrap_or_default());
    let body: String = paragraphs.map(|p| format!("<p>{}</p>\n", escape(p))).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <script>window.analytics = {{}};</script></head><body><nav><a href=\"/\">Home</a> \
         <a href=\"/world\">World</a> <a href=\"/sport\">Sport</a></nav><main><article>\
         <h1>{title}</h1>\n{body}</article></main><footer>Contact us. Privacy policy. \
         Terms of use.</footer></body></html>"
    )
}

/// The document's page as a WARC `response` record.
pub fn warc_record(doc: &Doc) -> Vec<u8> {
    let page = html_page(doc);
    let http = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{page}",
        page.len()
    );
    let mut out = format!(
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{:08x}-0000-4000-8000-{:012x}>\r\n\
         WARC-Target-URI: {}\r\nWARC-Date: {}\r\nContent-Type: application/http; msgtype=response\r\n\
         Content-Length: {}\r\n\r\n",
        xxh3_64(doc.id.as_bytes()) as u32,
        xxh3_64(doc.url.as_bytes()) & 0xffff_ffff_ffff,
        doc.url,
        doc.date,
        http.len()
    )
    .into_bytes();
    out.extend_from_slice(http.as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
    out
}
