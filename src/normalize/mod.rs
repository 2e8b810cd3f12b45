//! Stage 2 of the pipeline: text → normalized tokens.
//!
//! Copies of an article rarely match byte for byte: one site uses curly
//! quotes, another straight ones; one keeps CRLF line ends, one indents
//! paragraphs; full-width letters and ligatures appear after a trip through a
//! CMS. Normalization removes these differences before anything is compared:
//!
//! * Unicode **NFKC** (compatibility composition: `ﬁ` → `fi`, full-width
//!   `Ａ` → `A`, `é` composed);
//! * **case folding** to lower case;
//! * **typography folding**: curly and prime apostrophes and quotes to `'`
//!   and `"`, the dash family to `-`, invisible characters (soft hyphen,
//!   zero-width space, byte-order mark) removed;
//! * **whitespace collapsing** (for [`Normalizer::normalize_text`]).
//!
//! Each step can be switched off in [`NormalizeOptions`].
//!
//! Tokens are found on the *original* text (see [`Tokens`]) and normalized
//! one by one, so every token keeps its byte range in the document as it was
//! read. Later stages use those ranges to show evidence (aligned passages)
//! without keeping a second, normalized copy of the text.
//!
//! Crate choice: `unicode-normalization` (the unicode-rs implementation of
//! UAX #15, used by `url` and `idna`) does NFKC; its quick check lets ASCII
//! and already-normal tokens skip the work entirely.

mod ascii;
mod blocks;
mod tokenize;

pub use blocks::{for_each_scanned_token, scanned_tokens};
pub use tokenize::{ScannedToken, TokenShape, Tokens, is_break_byte};

use serde::{Deserialize, Serialize};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Bytes loaded at once to normalize a short ASCII token, and the longest
/// token normalized so (see [`Normalizer::normalize_each`]).
pub const WIDE_LOAD: usize = 16;

/// Which normalization steps to apply. All are on by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NormalizeOptions {
    /// Apply Unicode NFKC.
    pub nfkc: bool,
    /// Fold letters to lower case.
    pub lowercase: bool,
    /// Fold typographic quotes, apostrophes and dashes to their ASCII forms
    /// and drop invisible formatting characters.
    pub fold_typography: bool,
    /// Collapse runs of whitespace to one space in
    /// [`Normalizer::normalize_text`]. Tokens never contain whitespace, so
    /// this only affects the normalized text.
    pub collapse_whitespace: bool,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions {
            nfkc: true,
            lowercase: true,
            fold_typography: true,
            collapse_whitespace: true,
        }
    }
}

/// A token's place in the original text: a byte range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TokenSpan {
    /// Byte offset of the first byte of the token.
    pub start: usize,
    /// Byte offset one past the last byte of the token.
    pub end: usize,
}

/// Applies [`NormalizeOptions`] to texts and tokens.
#[derive(Clone, Debug, Default)]
pub struct Normalizer {
    options: NormalizeOptions,
}

impl Normalizer {
    /// A normalizer with the given options.
    pub fn new(options: NormalizeOptions) -> Self {
        Normalizer { options }
    }

    /// The options in use.
    pub fn options(&self) -> &NormalizeOptions {
        &self.options
    }

    /// Calls `f` with the span and normalized form of every token of `text`,
    /// in order.
    ///
    /// It allocates nothing for ASCII tokens and reuses one buffer for the
    /// others. The pipeline's hot paths take tokens as bytes, which is
    /// cheaper still: [`Normalizer::for_each_joined_token`] (sketching) and
    /// [`Normalizer::normalize_each`] (shingle sequences).
    ///
    /// ```
    /// use neardup::normalize::Normalizer;
    /// let mut seen = Vec::new();
    /// Normalizer::default().for_each_token("Don’t PANIC", |_, t| seen.push(t.to_string()));
    /// assert_eq!(seen, ["don't", "panic"]);
    /// ```
    pub fn for_each_token<F>(&self, text: &str, mut f: F)
    where
        F: FnMut(TokenSpan, &str),
    {
        self.for_each_shaped_token(text, |span, _, t| f(span, t));
    }

    /// [`Normalizer::for_each_token`] that also passes each token's
    /// [`TokenShape`], for callers that classify tokens as they go.
    pub fn for_each_shaped_token<F>(&self, text: &str, mut f: F)
    where
        F: FnMut(TokenSpan, TokenShape, &str),
    {
        let mut buf = String::new();
        for_each_scanned_token(text, |t| {
            let normalized =
                self.normalize_shaped(&text[t.span.start..t.span.end], t.shape, &mut buf);
            f(t.span, t.shape, normalized);
        });
    }

    /// [`Normalizer::for_each_shaped_token`] that also writes the
    /// normalized tokens, joined by single spaces, into `joined` (replacing
    /// its content), and passes each normalized token as the bytes it just
    /// wrote there (UTF-8).
    ///
    /// Character n-grams are taken from that joined text. Copying a
    /// six-letter token with `extend_from_slice` is a call to `memcpy`, and
    /// lower-casing one into a buffer first is a second copy: a short ASCII
    /// token is instead copied as [`WIDE_LOAD`] bytes at once (see
    /// [`Normalizer::normalize_each`]; the bytes after the token are
    /// overwritten by the next one or cut off at the end).
    ///
    /// ```
    /// use neardup::normalize::Normalizer;
    /// let mut joined = Vec::new();
    /// let mut seen = Vec::new();
    /// Normalizer::default().for_each_joined_token("Don’t PANIC, ok", &mut joined, |_, _, t| {
    ///     seen.push(String::from_utf8(t.to_vec()).unwrap())
    /// });
    /// assert_eq!(seen, ["don't", "panic", "ok"]);
    /// assert_eq!(joined, b"don't panic ok");
    /// ```
    pub fn for_each_joined_token<F>(&self, text: &str, joined: &mut Vec<u8>, mut f: F)
    where
        F: FnMut(TokenSpan, TokenShape, &[u8]),
    {
        let bytes = text.as_bytes();
        // `joined[..end]` is written; the rest is room for wide copies.
        let mut end = 0;
        joined.clear();
        joined.resize(text.len().min(1 << 20) + 2 * WIDE_LOAD, 0);
        let mut buf = String::new();
        for t in scanned_tokens(text) {
            let at = if end == 0 { 0 } else { end + 1 };
            let wide = self.wide_normalized(bytes, &t);
            let form = self.form_of(text, &t, &wide, &mut buf);
            // Room for a wide copy after the token, grown by doubling: a
            // text of many non-ASCII tokens must not refill it each time.
            let need = at + form.len().max(WIDE_LOAD);
            if joined.len() < need {
                joined.resize(need.max(2 * joined.len()), 0);
            }
            if end > 0 {
                joined[end] = b' ';
            }
            match &wide {
                Some(wide) => joined[at..at + WIDE_LOAD].copy_from_slice(wide),
                None => joined[at..at + form.len()].copy_from_slice(form),
            }
            end = at + form.len();
            f(t.span, t.shape, &joined[at..end]);
        }
        joined.truncate(end);
    }

    /// Calls `f` with each of `tokens` (the tokens of `text`, as
    /// [`scanned_tokens`] finds them) and its normalized form (UTF-8
    /// bytes), in order.
    ///
    /// Tokens are found first and normalized in a loop of their own:
    /// calling a consumer from inside the block scan made both slower. An
    /// ASCII token of at most [`WIDE_LOAD`] bytes, not within as many bytes
    /// of the end of the text, is normalized in a `[u8; WIDE_LOAD]` loaded
    /// from the text at once and lower-cased there (a vector load and
    /// compare; its form is the first bytes), with no call and no buffer.
    /// (A probe making the shingle sequences of 5,000 generated news
    /// texts, 7 rounds in turns: 56.6–65.7 ms token by token from inside
    /// the scan, 49.9–55.8 ms so.)
    ///
    /// ```
    /// use neardup::normalize::{Normalizer, scanned_tokens};
    /// let text = "Don’t PANIC, ok";
    /// let mut seen = Vec::new();
    /// Normalizer::default().normalize_each(text, &scanned_tokens(text), |_, t| {
    ///     seen.push(String::from_utf8(t.to_vec()).unwrap())
    /// });
    /// assert_eq!(seen, ["don't", "panic", "ok"]);
    /// ```
    pub fn normalize_each<F>(&self, text: &str, tokens: &[ScannedToken], mut f: F)
    where
        F: FnMut(&ScannedToken, &[u8]),
    {
        let bytes = text.as_bytes();
        let mut buf = String::new();
        for t in tokens {
            let wide = self.wide_normalized(bytes, t);
            f(t, self.form_of(text, t, &wide, &mut buf));
        }
    }

    /// The normalized form of `t`: the first bytes of `wide` (its
    /// [`Normalizer::wide_normalized`]) when there is one, else the form
    /// written into `buf`.
    #[inline(always)]
    fn form_of<'a>(
        &self,
        text: &'a str,
        t: &ScannedToken,
        wide: &'a Option<[u8; WIDE_LOAD]>,
        buf: &'a mut String,
    ) -> &'a [u8] {
        match wide {
            Some(wide) => &wide[..t.span.end - t.span.start],
            None => self.normalize_shaped(&text[t.span.start..t.span.end], t.shape, buf).as_bytes(),
        }
    }

    /// The [`WIDE_LOAD`] bytes of `bytes` from the start of `t`, lower-cased
    /// as the options say, when `t` is ASCII, at most that long and not
    /// within that many bytes of the end: its normalized form is then their
    /// first `t`'s length (ASCII needs no other step).
    #[inline(always)]
    fn wide_normalized(&self, bytes: &[u8], t: &ScannedToken) -> Option<[u8; WIDE_LOAD]> {
        if !t.shape.is_ascii() || t.span.end - t.span.start > WIDE_LOAD {
            return None;
        }
        let mut wide: [u8; WIDE_LOAD] =
            bytes.get(t.span.start..t.span.start + WIDE_LOAD)?.try_into().ok()?;
        if self.options.lowercase && t.shape.has_ascii_uppercase() {
            wide.make_ascii_lowercase();
        }
        Some(wide)
    }

    /// The normalized tokens of `text`, as owned strings.
    ///
    /// Convenient for tests and evidence; the pipeline uses
    /// [`Normalizer::for_each_token`].
    pub fn tokens(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.for_each_token(text, |_, t| out.push(t.to_owned()));
        out
    }

    /// Normalizes one token found by [`Tokens`]. Returns `raw` itself when
    /// nothing changes, else the normalized form written into `buf`.
    pub fn normalize_token<'a>(&self, raw: &'a str, buf: &'a mut String) -> &'a str {
        self.normalize_shaped(raw, TokenShape::of(raw), buf)
    }

    /// [`Normalizer::normalize_token`] for a token whose shape is known.
    #[inline]
    fn normalize_shaped<'a>(
        &self,
        raw: &'a str,
        shape: TokenShape,
        buf: &'a mut String,
    ) -> &'a str {
        if shape.is_ascii() {
            // ASCII: NFKC is the identity and the only typographic character a
            // token can hold is the ASCII apostrophe, already folded.
            if !self.options.lowercase || !shape.has_ascii_uppercase() {
                return raw;
            }
            buf.clear();
            buf.extend(raw.bytes().map(|b| b.to_ascii_lowercase() as char));
            return buf;
        }
        self.fold_into(raw, buf);
        buf
    }

    /// Writes the normalized form of `text` into `out` (replacing its
    /// content): NFKC, then typography and case folding, then NFKC again when
    /// folding left a non-normal sequence (dropping a zero-width space can
    /// bring a letter next to a combining accent).
    fn fold_into(&self, text: &str, out: &mut String) {
        out.clear();
        if self.options.nfkc && is_nfkc_quick(text.chars()) != IsNormalized::Yes {
            for c in text.nfkc() {
                self.push_folded(c, out);
            }
        } else {
            for c in text.chars() {
                self.push_folded(c, out);
            }
        }
        if self.options.nfkc && is_nfkc_quick(out.chars()) != IsNormalized::Yes {
            *out = out.nfkc().collect();
        }
    }

    /// Pushes `c` after case and typography folding.
    #[inline]
    fn push_folded(&self, c: char, out: &mut String) {
        let c = if self.options.fold_typography {
            match fold_typography(c) {
                Folded::Keep => c,
                Folded::Drop => return,
                Folded::To(s) => {
                    out.push_str(s);
                    return;
                }
            }
        } else {
            c
        };
        if self.options.lowercase {
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            out.push(c);
        }
    }

    /// The whole text, normalized: NFKC, lower case, typography folded and
    /// whitespace collapsed (each as configured), trimmed.
    ///
    /// ```
    /// use neardup::normalize::Normalizer;
    /// let n = Normalizer::default();
    /// assert_eq!(n.normalize_text("  “Ｑuote” —\r\n  ﬁne\t"), "\"quote\" - fine");
    /// ```
    pub fn normalize_text(&self, text: &str) -> String {
        let mut folded = String::with_capacity(text.len());
        self.fold_into(text, &mut folded);
        if !self.options.collapse_whitespace {
            return folded;
        }
        let mut out = String::with_capacity(folded.len());
        for word in folded.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
        out
    }
}

/// Result of typography folding for one character.
enum Folded {
    Keep,
    Drop,
    To(&'static str),
}

fn fold_typography(c: char) -> Folded {
    match c {
        // Apostrophes, single quotes, primes.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}'
        | '\u{2039}' | '\u{203A}' | '\u{00B4}' | '\u{0060}' => Folded::To("'"),
        // Double quotes and guillemets.
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => Folded::To("\""),
        // The dash family and the minus sign.
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => {
            Folded::To("-")
        }
        '\u{2026}' => Folded::To("..."),
        // Spaces that NFKC keeps apart.
        '\u{00A0}' | '\u{2007}' | '\u{202F}' => Folded::To(" "),
        // Invisible formatting: soft hyphen, zero-width space/joiners, BOM.
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => Folded::Drop,
        _ => Folded::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tokens_are_folded() {
        let n = Normalizer::default();
        assert_eq!(n.tokens("The LEADER’s ﬁnal Ｗord"), ["the", "leader's", "final", "word"]);
        assert_eq!(n.tokens("ÉCOLE İstanbul"), ["école", "i\u{307}stanbul"]);
    }

    #[test]
    fn options_switch_steps_off() {
        let n = Normalizer::new(NormalizeOptions {
            lowercase: false,
            fold_typography: false,
            ..NormalizeOptions::default()
        });
        assert_eq!(n.tokens("Don’t Stop"), ["Don’t", "Stop"]);
        let raw = Normalizer::new(NormalizeOptions {
            nfkc: false,
            lowercase: false,
            fold_typography: false,
            collapse_whitespace: false,
        });
        assert_eq!(raw.normalize_text(" a\t b "), " a\t b ");
        assert_eq!(raw.tokens("ﬁne"), ["ﬁne"]);
    }

    #[test]
    fn spans_point_into_the_original_text() {
        let text = "Ｈello “wörld”";
        let mut spans = Vec::new();
        Normalizer::default().for_each_token(text, |s, t| spans.push((s, t.to_string())));
        assert_eq!(&text[spans[0].0.start..spans[0].0.end], "Ｈello");
        assert_eq!(spans[0].1, "hello");
        assert_eq!(&text[spans[1].0.start..spans[1].0.end], "wörld");
    }

    #[test]
    fn soft_hyphen_and_zero_width_space_vanish() {
        let n = Normalizer::default();
        assert_eq!(n.tokens("infor\u{AD}mation"), ["information"]);
        assert_eq!(n.normalize_text("a\u{200B}b"), "ab");
    }

    proptest! {
        #[test]
        fn normalize_text_is_idempotent(s in "\\PC{0,200}") {
            let n = Normalizer::default();
            let once = n.normalize_text(&s);
            prop_assert_eq!(n.normalize_text(&once), once.clone());
        }

        #[test]
        fn joined_and_wide_tokens_are_the_normalized_tokens(
            text in tokenize::text_of_pieces(&[
                "a", "Zq", "Q", "7", " ", "  ", ".", ",", "'", "’", "\n", "é", "É", "ﬁ",
                "\u{AD}", "東", "word", "Upper", "3.5", "don't", "ABCDEFGHIJKLMNOPQ",
                "abcdefghijklmnop", "Abcdefghijklmno",
            ], 80),
            lowercase in any::<bool>(),
        ) {
            let n = Normalizer::new(NormalizeOptions { lowercase, ..NormalizeOptions::default() });
            let mut expected = Vec::new();
            n.for_each_shaped_token(&text, |span, shape, t| expected.push((span, shape, t.to_owned())));
            let mut joined = b"left over".to_vec();
            let mut passed = Vec::new();
            n.for_each_joined_token(&text, &mut joined, |span, shape, t| {
                passed.push((span, shape, String::from_utf8(t.to_vec()).unwrap()))
            });
            let words: Vec<&str> = expected.iter().map(|(_, _, t)| t.as_str()).collect();
            prop_assert_eq!(String::from_utf8(joined).unwrap(), words.join(" "));
            prop_assert_eq!(&passed, &expected);
            let mut each = Vec::new();
            n.normalize_each(&text, &scanned_tokens(&text), |t, normalized| {
                each.push((t.span, t.shape, String::from_utf8(normalized.to_vec()).unwrap()))
            });
            prop_assert_eq!(each, expected);
        }

        #[test]
        fn tokens_survive_whitespace_and_case_changes(words in prop::collection::vec("[a-zA-Zéü0-9]{1,8}", 0..30)) {
            let n = Normalizer::default();
            let spaced = words.join(" ");
            let messy = words.iter().map(|w| w.to_uppercase()).collect::<Vec<_>>().join(" \r\n\t ");
            prop_assert_eq!(n.tokens(&spaced), n.tokens(&messy));
        }
    }
}
