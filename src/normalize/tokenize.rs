//! Word boundaries: where tokens start and end in the original text.
//!
//! A token is a maximal run of word characters (`char::is_alphanumeric`),
//! where
//! * an apostrophe (`'`, `’`, `ʼ`) between two word characters stays inside
//!   (`don't`, `O'Brien`, `rock'n'roll`);
//! * a `.` or `,` between two digits stays inside (`3.5`, `150,000`);
//! * combining marks, zero-width joiners, soft hyphens and variation selectors
//!   continue the word they follow (`cafe\u{301}` is one token);
//! * each Han ideograph, Hiragana and Katakana character is a token of its own,
//!   because those scripts do not separate words with spaces.
//!
//! Everything else (spaces, punctuation, symbols, emoji) separates tokens and
//! is dropped.
//!
//! [`Tokens::next_token`] also reports each token's [`TokenShape`] (all
//! ASCII? upper case or digits in it? does a sentence end before it?),
//! gathered from the same table lookups that find the token, so that
//! normalization and the spun view's immutable-word test need not read the
//! token again. Runs of ASCII letters and digits are taken eight bytes at a
//! time (see `alnum_run`), and a word that ends at an ASCII separator ends
//! without classifying it as a character. On the generated news corpus
//! (criterion, one core): `stages/tokenize` 353 → 632 MiB/s and
//! `stages/featurize` 98 → 119 MiB/s for the two together; a 100k-document
//! scan 5.10 → 4.73 s (median of 5 taking turns).
//!
//! The pipeline finds tokens with
//! [`for_each_scanned_token`](super::for_each_scanned_token), which reads
//! ASCII text 64 bytes at a time as bit masks and leaves the rest to
//! [`Tokens`]; [`Tokens`] is the definition both follow (a property test
//! compares them).
//!
//! Why not UAX #29 (`unicode-segmentation`)? Measured on `devset/mixed`
//! (13 MB of news text, one core), `unicode_word_indices` ran at 55–66 MB/s
//! and this scanner, before its fast paths, at 230–240 MB/s while finding
//! the same words to within 0.07 % (1,174,723 vs 1,175,489 tokens; the
//! difference is UAX #29 keeping `e.g` or `CD:UK` as one word).
//! Tokenization is on the hot path of every document, and the rules here
//! are also simple enough to stay fixed when Unicode's segmentation tables
//! change, which matters because token hashes are persisted in indexes.

use super::TokenSpan;
pub use super::ascii::is_break_byte;
use super::ascii::{BYTE_FLAGS, alnum_run, byte};

/// How one character takes part in a word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum CharClass {
    /// Separates tokens.
    Other,
    /// A letter or digit (`digit` tells which, for the `3.5` rule).
    Word { digit: bool },
    /// A character that is a token by itself (ideographs, kana).
    Isolated,
    /// Continues a word but never starts one (combining marks, joiners).
    Continue,
    /// An apostrophe: inside a word only between two word characters.
    Apostrophe,
    /// `.` or `,`: inside a word only between two digits.
    NumberSeparator,
}

/// Classes of the ASCII range, built at compile time.
const ASCII_CLASSES: [CharClass; 128] = {
    let mut table = [CharClass::Other; 128];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        table[i] = if b.is_ascii_digit() {
            CharClass::Word { digit: true }
        } else if b.is_ascii_alphabetic() {
            CharClass::Word { digit: false }
        } else if b == b'\'' {
            CharClass::Apostrophe
        } else if b == b'.' || b == b',' {
            CharClass::NumberSeparator
        } else {
            CharClass::Other
        };
        i += 1;
    }
    table
};

fn classify(c: char) -> CharClass {
    if c.is_ascii() {
        return ASCII_CLASSES[c as usize];
    }
    let cp = c as u32;
    if is_isolated(cp) {
        return CharClass::Isolated;
    }
    if c.is_alphanumeric() {
        return CharClass::Word { digit: c.is_numeric() };
    }
    match cp {
        0x2019 | 0x02BC => CharClass::Apostrophe,
        0x0300..=0x036F
        | 0x1AB0..=0x1AFF
        | 0x1DC0..=0x1DFF
        | 0x20D0..=0x20FF
        | 0xFE00..=0xFE0F
        | 0xFE20..=0xFE2F
        | 0x00AD
        | 0x200B..=0x200D
        | 0x2060
        | 0xFEFF => CharClass::Continue,
        _ => CharClass::Other,
    }
}

/// Scripts written without spaces between words: each character is a token.
fn is_isolated(cp: u32) -> bool {
    matches!(cp,
        0x2E80..=0x2FDF        // CJK radicals, Kangxi radicals
        | 0x3005..=0x3007      // ideographic iteration mark, closing mark, number zero
        | 0x3040..=0x30FF      // Hiragana, Katakana
        | 0x31F0..=0x31FF      // Katakana phonetic extensions
        | 0x3400..=0x4DBF      // CJK extension A
        | 0x4E00..=0x9FFF      // CJK unified ideographs
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFF66..=0xFF9F      // half-width Katakana
        | 0x20000..=0x3FFFF // CJK extensions B and later
    )
}

/// Iterator over the byte ranges `(start, end)` of the tokens of a text.
///
/// ```
/// use neardup::normalize::Tokens;
/// let text = "It's 3.5% of £150,000 — don’t panic.";
/// let words: Vec<&str> = Tokens::new(text).map(|(s, e)| &text[s..e]).collect();
/// assert_eq!(words, ["It's", "3.5", "of", "150,000", "don’t", "panic"]);
/// ```
#[derive(Clone, Debug)]
pub struct Tokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// Starts scanning `text` from its beginning.
    pub fn new(text: &'a str) -> Self {
        Tokens { text, pos: 0 }
    }

    /// Starts scanning `text` at byte `pos`, a char boundary outside any
    /// token.
    pub(super) fn starting_at(text: &'a str, pos: usize) -> Self {
        Tokens { text, pos }
    }

    /// The character at byte offset `pos` and its class.
    #[inline]
    fn char_at(&self, pos: usize) -> Option<(char, CharClass)> {
        let bytes = self.text.as_bytes();
        let b = *bytes.get(pos)?;
        if b < 0x80 {
            return Some((b as char, ASCII_CLASSES[b as usize]));
        }
        // `pos` always sits on a char boundary: it only ever advances by
        // whole characters.
        let c = self.text[pos..].chars().next()?;
        Some((c, classify(c)))
    }
}

/// What the scanner learned about a token while finding it, so that
/// normalizing and classifying it need not read it again (each of those
/// reads was a pass over every token of every document).
///
/// Every flag but [`TokenShape::follows_break`] is a function of the
/// token's text alone: [`TokenShape::of`] is their definition.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TokenShape(u8);

impl TokenShape {
    const NON_ASCII: u8 = byte::NON_ASCII;
    const UPPER: u8 = byte::UPPER;
    const DIGIT: u8 = byte::DIGIT;
    /// A bit no byte flag uses.
    const FIRST_UPPER: u8 = 1 << 3;
    const AFTER_BREAK: u8 = byte::BREAK;
    /// The flags that depend on the token's text alone.
    const OF_TEXT: u8 = Self::NON_ASCII | Self::UPPER | Self::DIGIT | Self::FIRST_UPPER;

    /// The shape of a token's text; [`TokenShape::follows_break`] is false.
    pub fn of(token: &str) -> Self {
        let mut bits = 0;
        for b in token.bytes() {
            bits |= BYTE_FLAGS[usize::from(b)] & (Self::NON_ASCII | Self::UPPER | Self::DIGIT);
        }
        if token.chars().next().is_some_and(char::is_uppercase) {
            bits |= Self::FIRST_UPPER;
        }
        TokenShape(bits)
    }

    /// The shape of a token whose bytes' flags or-ed together are `bits`
    /// (and `FIRST_UPPER`), after a gap whose bytes' flags are `gap`.
    #[inline]
    fn from_flags(bits: u8, gap: u8) -> Self {
        TokenShape((bits & Self::OF_TEXT) | (gap & byte::BREAK))
    }

    /// The shape of an ASCII token: does it hold an upper-case letter, a
    /// digit, does it start with an upper-case letter, does a break
    /// precede it.
    #[inline(always)]
    pub(super) fn of_ascii(upper: bool, digit: bool, first_upper: bool, after: bool) -> Self {
        TokenShape(
            (u8::from(upper) * Self::UPPER)
                | (u8::from(digit) * Self::DIGIT)
                | (u8::from(first_upper) * Self::FIRST_UPPER)
                | (u8::from(after) * Self::AFTER_BREAK),
        )
    }

    /// The same shape, after a gap that holds a break.
    #[inline]
    pub(super) fn after_break(self) -> Self {
        TokenShape(self.0 | Self::AFTER_BREAK)
    }

    /// Returns true if and only if the token is all ASCII.
    #[inline]
    pub fn is_ascii(self) -> bool {
        self.0 & Self::NON_ASCII == 0
    }

    /// Returns true if and only if the token holds an upper-case ASCII letter.
    #[inline]
    pub fn has_ascii_uppercase(self) -> bool {
        self.0 & Self::UPPER != 0
    }

    /// Returns true if and only if the token holds an ASCII digit.
    #[inline]
    pub fn has_ascii_digit(self) -> bool {
        self.0 & Self::DIGIT != 0
    }

    /// Returns true if and only if the token's first character is upper
    /// case (`char::is_uppercase`).
    #[inline]
    pub fn starts_uppercase(self) -> bool {
        self.0 & Self::FIRST_UPPER != 0
    }

    /// Returns true if and only if the text between the previous token (or
    /// the start of the text) and this one ends a sentence or a line (holds
    /// a byte for which [`is_break_byte`] is true).
    #[inline]
    pub fn follows_break(self) -> bool {
        self.0 & Self::AFTER_BREAK != 0
    }
}

/// A token found by [`Tokens::next_token`]: its byte range and its shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScannedToken {
    /// Where the token is in the text.
    pub span: TokenSpan,
    /// What the scan learned about it.
    pub shape: TokenShape,
}

impl ScannedToken {
    pub(super) fn new(start: usize, end: usize, shape: TokenShape) -> Self {
        ScannedToken { span: TokenSpan { start, end }, shape }
    }
}

/// What one character at the scan position does before a token starts.
enum Start {
    /// A word starts here (`digit`: with a digit; `upper`: with an
    /// upper-case character).
    Word { start: usize, digit: bool, upper: bool },
    /// A one-character token (ideograph, kana).
    Isolated { start: usize, end: usize },
    /// A separator, skipped.
    Skip,
}

impl Tokens<'_> {
    /// Consumes one character before a token; `None` at the end.
    #[inline]
    fn start_step(&mut self) -> Option<Start> {
        let (c, class) = self.char_at(self.pos)?;
        let here = self.pos;
        self.pos += c.len_utf8();
        Some(match class {
            CharClass::Word { digit } => {
                Start::Word { start: here, digit, upper: c.is_uppercase() }
            }
            CharClass::Isolated => Start::Isolated { start: here, end: self.pos },
            _ => Start::Skip,
        })
    }

    /// Takes one more character into the current word if the rules allow;
    /// false when the word ends here.
    #[inline]
    fn extend_step(&mut self, prev_digit: &mut bool) -> bool {
        let Some((c, class)) = self.char_at(self.pos) else { return false };
        match class {
            CharClass::Word { digit } => {
                *prev_digit = digit;
                self.pos += c.len_utf8();
            }
            CharClass::Continue => self.pos += c.len_utf8(),
            CharClass::Apostrophe | CharClass::NumberSeparator => {
                let after = self.pos + c.len_utf8();
                let joins = match self.char_at(after) {
                    Some((_, CharClass::Word { digit })) => {
                        class == CharClass::Apostrophe || (*prev_digit && digit)
                    }
                    _ => false,
                };
                if !joins {
                    return false;
                }
                self.pos = after;
            }
            CharClass::Other | CharClass::Isolated => return false,
        }
        true
    }
}

impl Tokens<'_> {
    /// The next token and its shape; `None` at the end of the text.
    ///
    /// The shape is gathered as the bytes go by: the flags of every ASCII
    /// byte read are or-ed together (one lookup each, in the table that
    /// also decides where words end), and a character of several bytes
    /// marks the token as not ASCII.
    pub fn next_token(&mut self) -> Option<ScannedToken> {
        let bytes = self.text.as_bytes();
        // Find the start of the next token. Most text is ASCII: runs of
        // separators are skipped a byte at a time without decoding.
        let mut gap = 0u8;
        let (start, mut prev_digit, mut bits) = loop {
            while let Some(&b) = bytes.get(self.pos) {
                let flags = BYTE_FLAGS[usize::from(b)];
                if flags & byte::SEPARATOR == 0 {
                    break;
                }
                gap |= flags;
                self.pos += 1;
            }
            // The flags of the character's first byte.
            let first = BYTE_FLAGS[usize::from(*bytes.get(self.pos)?)];
            match self.start_step()? {
                Start::Word { start, digit, upper } => {
                    let first_upper = if upper { TokenShape::FIRST_UPPER } else { 0 };
                    break (start, digit, first | first_upper);
                }
                Start::Isolated { start, end } => {
                    // Ideographs and kana are never upper case.
                    let shape = TokenShape::from_flags(first, gap);
                    return Some(ScannedToken::new(start, end, shape));
                }
                Start::Skip => gap |= first,
            }
        };
        // Extend it as far as the rules allow; ASCII letters and digits
        // continue any word, so runs of them are taken without decoding.
        loop {
            let run = self.pos;
            let (end, flags) = alnum_run(bytes, run);
            self.pos = end;
            bits |= flags;
            if end > run {
                prev_digit = bytes[end - 1].is_ascii_digit();
            }
            // Most words end at an ASCII separator (a space): no need to
            // classify it as a character.
            let at = self.pos;
            match bytes.get(at) {
                None => break,
                Some(&b) if BYTE_FLAGS[usize::from(b)] & byte::SEPARATOR != 0 => break,
                Some(_) => {}
            }
            if !self.extend_step(&mut prev_digit) {
                break;
            }
            // What `extend_step` takes is an apostrophe, `.` or `,` (no
            // flags of a shape) or a character of several bytes.
            bits |= BYTE_FLAGS[usize::from(bytes[at])];
        }
        Some(ScannedToken::new(start, self.pos, TokenShape::from_flags(bits, gap)))
    }
}

impl Iterator for Tokens<'_> {
    type Item = (usize, usize);

    #[inline]
    fn next(&mut self) -> Option<(usize, usize)> {
        self.next_token().map(|t| (t.span.start, t.span.end))
    }
}

/// The character-by-character scanner the fast paths must agree with.
#[cfg(test)]
fn reference_tokens(text: &str) -> Vec<(usize, usize)> {
    let mut scanner = Tokens::new(text);
    let mut out = Vec::new();
    loop {
        let (start, mut prev_digit) = match scanner.start_step() {
            None => return out,
            Some(Start::Word { start, digit, .. }) => (start, digit),
            Some(Start::Isolated { start, end }) => {
                out.push((start, end));
                continue;
            }
            Some(Start::Skip) => continue,
        };
        while scanner.extend_step(&mut prev_digit) {}
        out.push((start, scanner.pos));
    }
}

/// Texts made of up to `max` of `pieces`, for property tests of the
/// scanners.
#[cfg(test)]
pub(super) fn text_of_pieces(
    pieces: &[&'static str],
    max: usize,
) -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::strategy::Strategy;
    proptest::collection::vec(proptest::sample::select(pieces.to_vec()), 0..max)
        .prop_map(|parts| parts.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        Tokens::new(text).map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn splits_on_spaces_and_punctuation() {
        assert_eq!(words("Hello, world! (A test)"), ["Hello", "world", "A", "test"]);
        assert_eq!(words(""), Vec::<&str>::new());
        assert_eq!(words("  ...  "), Vec::<&str>::new());
    }

    #[test]
    fn apostrophes_join_only_between_word_characters() {
        assert_eq!(words("don't 'quoted' O’Brien's"), ["don't", "quoted", "O’Brien's"]);
        assert_eq!(words("dogs' bowls"), ["dogs", "bowls"]);
    }

    #[test]
    fn number_separators_join_only_between_digits() {
        assert_eq!(
            words("3.5 1,000,000 end. Next,word"),
            ["3.5", "1,000,000", "end", "Next", "word"]
        );
        assert_eq!(words("version 2.x"), ["version", "2", "x"]);
    }

    #[test]
    fn unicode_letters_and_marks() {
        assert_eq!(
            words("Zürich café naïve Ελλάδα москва"),
            ["Zürich", "café", "naïve", "Ελλάδα", "москва"]
        );
        // Decomposed accent stays in the word.
        assert_eq!(words("cafe\u{301} au lait"), ["cafe\u{301}", "au", "lait"]);
        // Soft hyphen does not split.
        assert_eq!(words("infor\u{AD}mation"), ["infor\u{AD}mation"]);
    }

    #[test]
    fn ideographs_are_single_tokens() {
        assert_eq!(words("東京は晴れ"), ["東", "京", "は", "晴", "れ"]);
        assert_eq!(words("abc東京"), ["abc", "東", "京"]);
    }

    proptest::proptest! {
        #[test]
        fn fast_paths_agree_with_the_reference_scanner(
            text in text_of_pieces(&[
                "a", "Zq", "7", "12", " ", ".", ",", "'", "’", "ʼ", "-", "\n", "é",
                "e\u{301}", "\u{AD}", "\u{200D}", "東", "は", "Ω", "٣", "!", "\u{FEFF}",
            ], 40)
        ) {
            let fast: Vec<(usize, usize)> = Tokens::new(&text).collect();
            proptest::prop_assert_eq!(fast, reference_tokens(&text));
        }
    }

    proptest::proptest! {
        #[test]
        fn shapes_are_those_of_the_token_text_and_its_gap(
            text in text_of_pieces(&[
                "a", "Zq", "Q", "7", "12", " ", ".", ",", "'", "’", "-", "\n", "!", "?",
                ":", ";", "é", "É", "e\u{301}", "\u{AD}", "東", "Ω", "ω", "٣", "\u{FEFF}",
            ], 40)
        ) {
            let mut tokens = Tokens::new(&text);
            let mut prev_end = 0;
            while let Some(t) = tokens.next_token() {
                let token = &text[t.span.start..t.span.end];
                let gap = &text[prev_end..t.span.start];
                proptest::prop_assert_eq!(t.shape.is_ascii(), token.is_ascii());
                proptest::prop_assert_eq!(
                    t.shape.has_ascii_uppercase(),
                    token.bytes().any(|b| b.is_ascii_uppercase())
                );
                proptest::prop_assert_eq!(
                    t.shape.has_ascii_digit(),
                    token.bytes().any(|b| b.is_ascii_digit())
                );
                proptest::prop_assert_eq!(
                    t.shape.starts_uppercase(),
                    token.chars().next().is_some_and(char::is_uppercase)
                );
                proptest::prop_assert_eq!(t.shape.follows_break(), gap.bytes().any(is_break_byte));
                let mut alone = TokenShape::of(token);
                if t.shape.follows_break() {
                    alone.0 |= TokenShape::AFTER_BREAK;
                }
                proptest::prop_assert_eq!(t.shape, alone);
                prev_end = t.span.end;
            }
        }
    }

    #[test]
    fn shapes_of_typical_tokens() {
        let text = "Kremlin said 83. é 東 Don't";
        let shapes: Vec<TokenShape> = std::iter::from_fn({
            let mut tokens = Tokens::new(text);
            move || tokens.next_token().map(|t| t.shape)
        })
        .collect();
        assert!(shapes[0].starts_uppercase() && shapes[0].is_ascii() && !shapes[0].follows_break());
        assert!(!shapes[1].starts_uppercase() && !shapes[1].has_ascii_uppercase());
        assert!(shapes[2].has_ascii_digit());
        assert!(!shapes[3].is_ascii() && shapes[3].follows_break());
        assert!(!shapes[4].is_ascii() && !shapes[4].starts_uppercase());
        assert!(shapes[5].has_ascii_uppercase() && !shapes[5].follows_break());
    }

    #[test]
    fn offsets_are_char_boundaries() {
        let text = "— “Quoted” – 東京 ünïcödé";
        for (s, e) in Tokens::new(text) {
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
            assert!(s < e);
        }
    }
}
