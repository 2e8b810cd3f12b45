//! HTML pages → their main text.
//!
//! A saved or crawled page is mostly chrome: navigation, scripts, ads, share
//! buttons, related-story lists. [`main_text`] keeps the article: its title
//! and body as found by `dom_smoothie`, a Rust port of Mozilla's
//! readability.js, the algorithm behind Firefox's Reader View. It is
//! maintained and made for exactly this job. When readability finds no
//! article, or a very short one, the page's whole visible text is used
//! instead, taken from the same HTML parser (`dom_query`, on `html5ever`) with
//! scripts, styles and templates removed. Boilerplate left in either form is
//! handled later from the corpus (see [`crate::boilerplate`]).
//!
//! Bytes become text by the rules browsers use: a byte-order mark, then the
//! charset declared by the transport (HTTP header), then a `<meta>`
//! declaration in the first 2 KB, then UTF-8 if the bytes are valid UTF-8,
//! else windows-1252. Decoding uses `encoding_rs` (Firefox's decoder) and never
//! fails: invalid sequences become U+FFFD.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

/// Extracted text shorter than this (in bytes) falls back to the full text.
const MIN_ARTICLE_BYTES: usize = 140;
/// Pages with more elements than this are not given to readability, whose
/// cost grows with the tree; they go straight to the full-text fallback.
const MAX_ELEMENTS: usize = 20_000;

/// How the text of a page was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extraction {
    /// The article found by readability.
    Article,
    /// The whole visible text (no article found).
    FullText,
}

/// The text of a page and how it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageText {
    /// Title and body, separated by a blank line.
    pub text: String,
    /// The method that produced it.
    pub method: Extraction,
}

/// Decodes page bytes to text (see the module docs for the rules).
pub fn decode(bytes: &[u8], declared: Option<&str>) -> String {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    let encoding = declared
        .and_then(|label| Encoding::for_label(label.trim().as_bytes()))
        .or_else(|| meta_charset(bytes))
        .unwrap_or_else(|| if std::str::from_utf8(bytes).is_ok() { UTF_8 } else { WINDOWS_1252 });
    // A page that declares UTF-16 but is not is a lie browsers ignore.
    let encoding = if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        UTF_8
    } else {
        encoding
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// The charset declared by a `<meta>` tag in the first 2 KB, if any.
fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(2048)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let mut from = 0;
    while let Some(pos) = memchr::memmem::find(&lower[from..], b"charset") {
        let mut i = from + pos + b"charset".len();
        while i < lower.len() && matches!(lower[i], b' ' | b'=' | b'"' | b'\'') {
            i += 1;
        }
        let end = lower[i..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.')))
            .map_or(lower.len(), |p| i + p);
        if let Some(enc) = Encoding::for_label(&lower[i..end]) {
            return Some(enc);
        }
        from = end.max(from + pos + 1);
    }
    None
}

/// The main text of a page (title, blank line, body).
pub fn main_text(html: &str, url: Option<&str>) -> PageText {
    let elements = memchr::memchr_iter(b'<', html.as_bytes()).count();
    if elements <= MAX_ELEMENTS
        && let Some(text) = article(html, url)
    {
        return PageText { text, method: Extraction::Article };
    }
    PageText { text: full_text(html), method: Extraction::FullText }
}

fn article(html: &str, url: Option<&str>) -> Option<String> {
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        max_elements_to_parse: MAX_ELEMENTS,
        ..dom_smoothie::Config::default()
    };
    let mut readability = dom_smoothie::Readability::new(html, url, Some(config)).ok()?;
    let article = readability.parse().ok()?;
    let body = article.text_content.trim();
    if body.len() < MIN_ARTICLE_BYTES {
        return None;
    }
    let title = site_free_title(article.title.trim(), article.site_name.as_deref());
    Some(if title.is_empty() || body.starts_with(title) {
        body.to_string()
    } else {
        format!("{title}\n\n{body}")
    })
}

/// Separators between a headline and the site's name in a `<title>`.
const TITLE_SEPARATORS: [&str; 6] = [" | ", " :: ", " » ", " — ", " – ", " - "];
/// A title segment this short (in words) after the last separator is taken
/// to be the site's name.
const MAX_SITE_WORDS: usize = 4;

/// The headline of a page title without its site's name.
///
/// Readability removes a `| Site` suffix only when the headline left has
/// more than four words, so a copy of one short headline on two sites would
/// differ by the site names alone. The site name is removed when the page
/// names it (`og:site_name`), or when the last segment is short and starts
/// with a capital letter; a plain hyphen counts only before such a segment,
/// as headlines use it too ("Ukraine war - latest" keeps "latest").
fn site_free_title<'a>(title: &'a str, site_name: Option<&str>) -> &'a str {
    let site = site_name.map(str::trim).filter(|s| !s.is_empty());
    for sep in TITLE_SEPARATORS {
        if let Some(site) = site {
            if let Some(head) = title.strip_suffix(site).and_then(|h| h.strip_suffix(sep)) {
                return head.trim();
            }
            if let Some(tail) = title.strip_prefix(site).and_then(|t| t.strip_prefix(sep)) {
                return tail.trim();
            }
        }
    }
    let Some((head, tail)) = TITLE_SEPARATORS
        .iter()
        .filter_map(|sep| title.rsplit_once(sep))
        .max_by_key(|(head, _)| head.len())
    else {
        return title;
    };
    let words = tail.split_whitespace().count();
    let capital = tail.chars().next().is_some_and(char::is_uppercase);
    if (1..=MAX_SITE_WORDS).contains(&words) && capital && head.split_whitespace().count() >= 2 {
        head.trim()
    } else {
        title
    }
}

/// The visible text of the whole page, one line per block of text.
pub fn full_text(html: &str) -> String {
    let doc = dom_query::Document::from(html);
    doc.select("script, style, noscript, template, svg, head").remove();
    let text = doc.select("body").text();
    let text: &str = if text.trim().is_empty() { "" } else { &text };
    let mut out = String::with_capacity(text.len());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><title>Bridge reopens | The Courier</title>
        <script>var tracking = "do not index me";</script><style>.nav{}</style></head>
        <body><nav><a href="/">Home</a> <a href="/news">News</a> <a href="/sport">Sport</a></nav>
        <article><h1>Old Mill Bridge reopens after floods</h1>
        <p>The Old Mill Bridge in Kessington reopened to traffic on Monday morning, eight months after floodwater undermined one of its piers.</p>
        <p>A small crowd gathered at seven o'clock to watch the barriers being lifted, and the first vehicle across was a school minibus.</p>
        <p>The repair cost 2.7 million pounds, most of it from a government flood recovery fund, and took the whole winter.</p></article>
        <footer>Download our app. We use cookies. Copyright The Courier.</footer></body></html>"#;

    #[test]
    fn keeps_the_article_and_drops_the_chrome() {
        let page = main_text(PAGE, Some("https://example.org/bridge"));
        assert_eq!(page.method, Extraction::Article);
        assert!(page.text.contains("reopened to traffic on Monday morning"), "{}", page.text);
        assert!(page.text.contains("took the whole winter"));
        assert!(!page.text.contains("do not index me"));
        assert!(!page.text.contains("We use cookies"));
    }

    #[test]
    fn site_names_are_taken_off_titles() {
        let clean = |t| site_free_title(t, None);
        assert_eq!(
            clean("Nasdaq plans $100m-share sale | Daily Post"),
            "Nasdaq plans $100m-share sale"
        );
        assert_eq!(clean("Bridge reopens - BBC News"), "Bridge reopens");
        assert_eq!(clean("Ukraine war - latest"), "Ukraine war - latest");
        assert_eq!(clean("Talks: what we know so far"), "Talks: what we know so far");
        assert_eq!(clean("Home | Page"), "Home | Page");
        let named = |t| site_free_title(t, Some("The Morning Courier Of Springfield"));
        assert_eq!(named("Bridge reopens | The Morning Courier Of Springfield"), "Bridge reopens");
        assert_eq!(named("The Morning Courier Of Springfield - Bridge reopens"), "Bridge reopens");
    }

    #[test]
    fn falls_back_to_the_visible_text() {
        let page =
            main_text("<html><body><p>Short note.</p><script>x()</script></body></html>", None);
        assert_eq!(page.method, Extraction::FullText);
        assert_eq!(page.text, "Short note.");
        assert_eq!(main_text("", None).text, "");
    }

    #[test]
    fn charsets_are_honoured() {
        let latin1 = b"<html><head><meta charset=\"iso-8859-1\"></head><body>caf\xe9</body></html>";
        assert!(decode(latin1, None).contains("café"));
        assert!(decode(b"caf\xe9", Some("windows-1252")).contains("café"));
        assert!(decode("café".as_bytes(), None).contains("café"));
        // Undeclared and not UTF-8: windows-1252, as browsers do.
        assert!(decode(b"na\xefve", None).contains("naïve"));
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice("ü".as_bytes());
        assert_eq!(decode(&bom, Some("iso-8859-1")), "ü");
    }
}
