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
//! Hostile pages are bounded: html5ever's tree construction checks scopes
//! by walking the stack of open elements, so 200,000 nested `<div>`s took
//! 215 s. A page nested deeper than [`MAX_NESTING`] elements is read by
//! html5ever's tokenizer alone, which is linear and keeps no tree
//! ([`flat_text`]); `html5ever` is a direct dependency for that.
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
/// Pages whose elements nest deeper than this are never built into a tree.
/// Real pages nest a few dozen levels.
pub const MAX_NESTING: usize = 512;

/// How the text of a page was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extraction {
    /// The article found by readability.
    Article,
    /// The whole visible text (no article found).
    FullText,
    /// The visible text, read without building a tree: the page nests too
    /// deeply ([`MAX_NESTING`]).
    Flat,
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
    if nests_deeper_than(html.as_bytes(), MAX_NESTING) {
        return PageText { text: flat_text(html), method: Extraction::Flat };
    }
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
    if nests_deeper_than(html.as_bytes(), MAX_NESTING) {
        return flat_text(html);
    }
    let doc = dom_query::Document::from(html);
    doc.select("script, style, noscript, template, svg, head").remove();
    let text = doc.select("body").text();
    tidy_lines(if text.trim().is_empty() { "" } else { &text })
}

/// `text` with each line trimmed, runs of white space made single spaces
/// and empty lines dropped.
fn tidy_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    out
}

/// Elements that never hold children, and elements whose end tag may be
/// left out (the parser closes them itself): neither deepens the tree.
const FLAT_ELEMENTS: [&[u8]; 33] = [
    b"area",
    b"base",
    b"br",
    b"col",
    b"embed",
    b"hr",
    b"img",
    b"input",
    b"link",
    b"meta",
    b"param",
    b"source",
    b"track",
    b"wbr",
    b"p",
    b"li",
    b"dt",
    b"dd",
    b"tr",
    b"td",
    b"th",
    b"option",
    b"optgroup",
    b"thead",
    b"tbody",
    b"tfoot",
    b"colgroup",
    b"caption",
    b"rb",
    b"rt",
    b"rp",
    b"html",
    b"body",
];

/// Elements whose content is not markup: a `<` inside them opens no tag.
const RAW_ELEMENTS: [&[u8]; 4] = [b"script", b"style", b"textarea", b"title"];

/// Whether the elements of `html` nest deeper than `limit`, estimated in one
/// pass over its tags (comments and script or style content skipped).
pub fn nests_deeper_than(html: &[u8], limit: usize) -> bool {
    let mut depth = 0usize;
    let mut at = 0;
    while let Some(pos) = memchr::memchr(b'<', &html[at..]) {
        let start = at + pos + 1;
        let rest = &html[start..];
        if rest.starts_with(b"!--") {
            at = memchr::memmem::find(&rest[3..], b"-->").map_or(html.len(), |e| start + 3 + e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = start + usize::from(closing);
        let name_len = html[name_start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        at = name_start + name_len;
        if name_len == 0 || !html[name_start].is_ascii_alphabetic() {
            continue;
        }
        let name = html[name_start..at].to_ascii_lowercase();
        if FLAT_ELEMENTS.contains(&name.as_slice()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        let end = memchr::memchr(b'>', &html[at..]).map_or(html.len(), |e| at + e);
        if end > at && html[end - 1] == b'/' {
            continue;
        }
        if RAW_ELEMENTS.contains(&name.as_slice()) {
            at = raw_end(html, end, &name);
            continue;
        }
        depth += 1;
        if depth > limit {
            return true;
        }
    }
    false
}

/// Where the content of a raw element `name` that starts at `from` ends.
fn raw_end(html: &[u8], from: usize, name: &[u8]) -> usize {
    let mut at = from;
    while let Some(pos) = memchr::memmem::find(&html[at..], b"</") {
        let tag = at + pos + 2;
        let candidate = html.get(tag..tag + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name)) {
            return tag + name.len();
        }
        at = tag;
    }
    html.len()
}

/// The visible text of a page read by html5ever's tokenizer, without a
/// tree: linear in the page's size however its elements nest. Blocks
/// start new lines; scripts, styles, titles, templates and SVG are left out.
pub fn flat_text(html: &str) -> String {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::{BufferQueue, Tokenizer};

    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(FlatSink::default(), Default::default());
    // The sink never asks the tokenizer to stop for a script, so one feed
    // consumes everything.
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tidy_lines(&tokenizer.sink.text.into_inner())
}

/// Collects visible text from the tokenizer (see [`flat_text`]).
#[derive(Default)]
struct FlatSink {
    text: std::cell::RefCell<String>,
    /// Open elements whose content is hidden (template, svg, math), by depth.
    hidden: std::cell::Cell<usize>,
    /// The raw element whose content is being skipped.
    raw: std::cell::RefCell<Option<html5ever::LocalName>>,
}

/// Elements that start a new line of text.
const BLOCKS: [&str; 30] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tr",
];

impl html5ever::tokenizer::TokenSink for FlatSink {
    type Handle = ();

    fn process_token(
        &self,
        token: html5ever::tokenizer::Token,
        _line: u64,
    ) -> html5ever::tokenizer::TokenSinkResult<()> {
        use html5ever::tokenizer::states::RawKind;
        use html5ever::tokenizer::{TagKind, Token, TokenSinkResult};

        match token {
            Token::CharacterTokens(text)
                if self.raw.borrow().is_none() && self.hidden.get() == 0 =>
            {
                self.text.borrow_mut().push_str(&text);
            }
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let in_raw = self.raw.borrow().as_ref().map(|open| *open == tag.name);
                if let Some(same_name) = in_raw {
                    // Only the raw element's own end tag comes through here.
                    if tag.kind == TagKind::EndTag && same_name {
                        self.raw.replace(None);
                    }
                    return TokenSinkResult::Continue;
                }
                if matches!(name, "template" | "svg" | "math") && !tag.self_closing {
                    let hidden = self.hidden.get();
                    self.hidden.set(match tag.kind {
                        TagKind::StartTag => hidden + 1,
                        TagKind::EndTag => hidden.saturating_sub(1),
                    });
                } else if BLOCKS.contains(&name) {
                    self.text.borrow_mut().push('\n');
                }
                if tag.kind == TagKind::StartTag && !tag.self_closing {
                    let raw = match name {
                        "script" => Some(RawKind::ScriptData),
                        "style" | "noscript" | "xmp" | "iframe" | "noembed" | "noframes" => {
                            Some(RawKind::Rawtext)
                        }
                        "title" | "textarea" => Some(RawKind::Rcdata),
                        _ => None,
                    };
                    if let Some(kind) = raw {
                        self.raw.replace(Some(tag.name.clone()));
                        return TokenSinkResult::RawData(kind);
                    }
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
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

    #[test]
    fn deeply_nested_pages_are_read_in_linear_time_without_a_tree() {
        let depth = 200_000;
        let page = format!(
            "<html><head><title>Deep</title><script>if (a<b) x();</script></head><body>{}\
             <p>words &amp; more words</p><svg><text>hidden</text></svg>{}</body></html>",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        assert!(nests_deeper_than(page.as_bytes(), MAX_NESTING));
        let start = std::time::Instant::now();
        let text = main_text(&page, None);
        assert_eq!(text.method, Extraction::Flat);
        assert_eq!(text.text, "words & more words");
        assert_eq!(full_text(&page), "words & more words");
        // Generous: the tree builder took minutes on this page.
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }

    #[test]
    fn nesting_is_estimated_from_tags_that_deepen_the_tree() {
        let deep = |open: &str, n| open.repeat(n);
        assert!(!nests_deeper_than(PAGE.as_bytes(), 10));
        assert!(!nests_deeper_than(deep("<p>", 2_000).as_bytes(), 10), "p closes itself");
        assert!(!nests_deeper_than(deep("<br>", 2_000).as_bytes(), 10), "void elements");
        assert!(!nests_deeper_than(deep("<div></div>", 2_000).as_bytes(), 10));
        assert!(!nests_deeper_than(deep("<!-- <div> -->", 2_000).as_bytes(), 10));
        assert!(!nests_deeper_than(format!("<script>{}</script>", deep("<a", 50)).as_bytes(), 10));
        assert!(nests_deeper_than(deep("<div>", 11).as_bytes(), 10));
        assert!(nests_deeper_than(deep("<SPAN class=x>", 11).as_bytes(), 10));
    }

    #[test]
    fn flat_text_keeps_what_a_reader_sees() {
        let flat = flat_text(PAGE);
        assert!(flat.contains("reopened to traffic on Monday morning"), "{flat}");
        assert!(flat.contains("Home News Sport"), "{flat}");
        assert!(!flat.contains("do not index me"), "{flat}");
        assert!(!flat.contains("The Courier\n"), "the title is left out: {flat}");
        assert!(!flat.contains(".nav"), "{flat}");
        let lines: Vec<&str> = flat.lines().collect();
        assert!(lines.contains(&"Old Mill Bridge reopens after floods"), "{flat}");
    }
}
