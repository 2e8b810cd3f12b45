//! Tokens of ASCII text found 64 bytes at a time, as bit masks.
//!
//! [`for_each_scanned_token`] finds the same tokens, with the same shapes,
//! as [`Tokens::next_token`](super::Tokens::next_token), which stays the
//! definition. Taken token by token, finding tokens cost 13–19 ns a token
//! (about 50 cycles for a six-letter word), in loops over a word's bytes
//! and over the separators after it that end where the data says. Here
//! each byte of a 64-byte block is classified at once into masks (one bit
//! a byte: letter or digit, digit, upper case, apostrophe, `.` or `,`,
//! sentence break, not ASCII); the joining rules become shifts of those
//! masks (an apostrophe joins when both neighbours are letters or digits,
//! `.` and `,` when both are digits); and tokens are read off the mask by
//! counting trailing zeros. Upper case, digits and a break in the gap
//! before a token are tests of the masks within its range.
//!
//! A token is taken from a block only when the bytes that end it are in
//! the block and ASCII (its last byte, the separator after it and, when
//! that separator could join, the byte after that). Otherwise the next
//! block starts where the token starts, and a token that still cannot be
//! decided there (64 bytes or longer, or one that meets a character of
//! several bytes) is left to the character-by-character scanner, which
//! also takes every token that starts at such a character.
//!
//! The classification is written as plain loops over the block's bytes
//! that compilers turn into vector compares; an AVX-512 or AVX2 build of
//! them is picked at run time by `multiversion` (see [`crate::hash_lanes`]
//! for why that crate), and elsewhere the same code runs as compiled for
//! the baseline CPU.
//!
//! On 5,000 documents of the generated 100k corpus, old and new code in
//! turns in one process: tokens 2.2–2.6× faster; tokens, normalizing and
//! hashing 99–108 → 61–68 ms. Criterion, one core: `stages/tokenize`
//! 335 MiB/s → 1.05 GiB/s.

use multiversion::multiversion;

use super::ascii::is_break_byte;
use super::tokenize::{ScannedToken, TokenShape, Tokens};

/// Bytes a block classifies at once: one bit of a `u64` each.
const BLOCK: usize = 64;

/// Which bytes of a block are in each class: bit `i` is byte `i`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct BlockMasks {
    /// ASCII letters and digits.
    alnum: u64,
    /// ASCII digits.
    digit: u64,
    /// ASCII upper-case letters.
    upper: u64,
    /// The ASCII apostrophe.
    apostrophe: u64,
    /// `.` and `,`.
    number_separator: u64,
    /// Bytes that end a sentence or a line ([`is_break_byte`]).
    breaks: u64,
    /// Bytes of characters of several bytes.
    non_ascii: u64,
}

/// The mask of the bytes of `block` for which `class` is true. The bytes
/// are first set to `0x80` or `0` (a vector compare), then each eight are
/// gathered into eight bits by one multiplication.
#[inline(always)]
fn mask_where(block: &[u8; BLOCK], class: impl Fn(u8) -> bool) -> u64 {
    /// Moves bit 8j of a word to bit 56 + j.
    const GATHER: u64 = 0x0102_0408_1020_4080;
    let mut high = [0u8; BLOCK];
    for (h, &b) in high.iter_mut().zip(block) {
        *h = u8::from(class(b)) << 7;
    }
    let mut mask = 0;
    for k in 0..BLOCK / 8 {
        let word = u64::from_le_bytes([
            high[8 * k],
            high[8 * k + 1],
            high[8 * k + 2],
            high[8 * k + 3],
            high[8 * k + 4],
            high[8 * k + 5],
            high[8 * k + 6],
            high[8 * k + 7],
        ]);
        mask |= ((word >> 7).wrapping_mul(GATHER) >> 56) << (8 * k);
    }
    mask
}

/// Classifies every byte of a block.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512dq+avx512vl", "x86_64+avx2"))]
fn block_masks(block: &[u8; BLOCK]) -> BlockMasks {
    BlockMasks {
        alnum: mask_where(block, |b| b.is_ascii_alphanumeric()),
        digit: mask_where(block, |b| b.is_ascii_digit()),
        upper: mask_where(block, |b| b.is_ascii_uppercase()),
        apostrophe: mask_where(block, |b| b == b'\''),
        number_separator: mask_where(block, |b| b == b'.' || b == b','),
        breaks: mask_where(block, is_break_byte),
        non_ascii: mask_where(block, |b| b >= 0x80),
    }
}

/// The `n` lowest bits (all of them from 64 on).
#[inline(always)]
fn low_bits(n: usize) -> u64 {
    u64::MAX.checked_shr(64u32.saturating_sub(n as u32)).unwrap_or(0)
}

/// Bits `from..to` (`from <= to <= 64`).
#[inline(always)]
fn bit_range(from: usize, to: usize) -> u64 {
    low_bits(to) & !low_bits(from)
}

/// Calls `f` with every token of `text` in order: the tokens and shapes
/// that [`Tokens::next_token`] finds, found a block of ASCII bytes at a
/// time (see the module doc).
///
/// ```
/// use neardup::normalize::{Tokens, for_each_scanned_token};
/// let text = "It's 3.5% of £150,000. Don’t panic";
/// let mut blocks = Vec::new();
/// for_each_scanned_token(text, |t| blocks.push(t));
/// let one_by_one: Vec<_> = std::iter::from_fn({
///     let mut tokens = Tokens::new(text);
///     move || tokens.next_token()
/// })
/// .collect();
/// assert_eq!(blocks, one_by_one);
/// ```
pub fn for_each_scanned_token(text: &str, mut f: impl FnMut(ScannedToken)) {
    let bytes = text.as_bytes();
    // Everything before `pos` is done: its tokens are passed on, and
    // `after_break` tells whether the gap since the last one holds a break.
    let mut pos = 0;
    let mut after_break = false;
    let mut padded = [b' '; BLOCK];
    while pos < bytes.len() {
        let block: &[u8; BLOCK] = match bytes.get(pos..pos + BLOCK) {
            Some(whole) => whole.try_into().expect("a whole block"),
            None => {
                // The end of the text: spaces after it end its last token
                // as the end of the text does.
                let rest = &bytes[pos..];
                padded[..rest.len()].copy_from_slice(rest);
                padded[rest.len()..].fill(b' ');
                &padded
            }
        };
        // A token taken ends inside the block, so `done > 0` after one.
        let done = scan_block(block, &mut after_break, |mut t| {
            t.span.start += pos;
            t.span.end += pos;
            f(t)
        });
        if done > 0 {
            pos += done;
            continue;
        }
        // Nothing decided in this block: a token starts at `pos` that is
        // too long or meets a character of several bytes, or `pos` is at
        // such a character. One token the slow way.
        let Some(mut t) = Tokens::starting_at(text, pos).next_token() else { return };
        if after_break {
            t.shape = t.shape.after_break();
        }
        after_break = false;
        pos = t.span.end;
        f(t);
    }
}

/// The tokens of `text`, as [`for_each_scanned_token`] finds them.
pub fn scanned_tokens(text: &str) -> Vec<ScannedToken> {
    // Sized for news text (a token every 6 bytes or so): the vector
    // rarely grows. Texts over 1 MB, which may hold few tokens, grow it as
    // they go beyond that.
    let mut tokens = Vec::with_capacity(text.len().min(1 << 20) / 5 + 8);
    for_each_scanned_token(text, |t| tokens.push(t));
    tokens
}

/// Passes on the tokens of `block` that it decides, with offsets in the
/// block; returns where the scan goes on (the end of the bytes decided:
/// the start of a token left for later, or of the first byte not ASCII, or
/// the end of the block). `after_break` carries whether the gap
/// so far holds a break, in and out.
#[inline(always)]
fn scan_block(
    block: &[u8; BLOCK],
    after_break: &mut bool,
    mut f: impl FnMut(ScannedToken),
) -> usize {
    let m = block_masks(block);
    // Bytes from the first that is not ASCII on are left to the slow scan.
    let limit = m.non_ascii.trailing_zeros() as usize;
    let usable = low_bits(limit);
    let word = m.alnum;
    // An apostrophe between two letters or digits, and `.` or `,` between
    // two digits, stay inside a word. At the block's last byte the byte
    // after is unknown: no join, and a token ending there is not taken.
    let joins = (m.apostrophe & (word << 1) & (word >> 1))
        | (m.number_separator & (m.digit << 1) & (m.digit >> 1));
    let token = (word | joins) & usable;
    let mut starts = token & !(token << 1);
    let ends = token & !(token >> 1);
    // A byte after a token that could join it had it the right neighbour.
    let joiner = m.apostrophe | m.number_separator;
    let mut gap_start = 0;
    while starts != 0 {
        let start = starts.trailing_zeros() as usize;
        let end = (ends >> start).trailing_zeros() as usize + start + 1;
        // The token ends at `end` if that byte is known and cannot join,
        // or the byte after it is known too.
        let decided = end + 1 < limit || (end < limit && (joiner >> end) & 1 == 0);
        if !decided {
            *after_break |= m.breaks & bit_range(gap_start, start) != 0;
            return start;
        }
        let span = bit_range(start, end);
        let follows_break = *after_break || m.breaks & bit_range(gap_start, start) != 0;
        let shape = TokenShape::of_ascii(
            m.upper & span != 0,
            m.digit & span != 0,
            (m.upper >> start) & 1 != 0,
            follows_break,
        );
        f(ScannedToken::new(start, end, shape));
        *after_break = false;
        gap_start = end;
        starts &= starts - 1;
    }
    *after_break |= m.breaks & bit_range(gap_start, limit) != 0;
    limit
}

#[cfg(test)]
mod tests {
    use super::super::tokenize::text_of_pieces;
    use super::*;

    fn one_by_one(text: &str) -> Vec<ScannedToken> {
        let mut tokens = Tokens::new(text);
        std::iter::from_fn(move || tokens.next_token()).collect()
    }

    fn by_blocks(text: &str) -> Vec<ScannedToken> {
        let mut out = Vec::new();
        for_each_scanned_token(text, |t| out.push(t));
        out
    }

    #[test]
    fn masks_classify_each_byte() {
        let mut block = [b' '; BLOCK];
        block[..12].copy_from_slice(b"Ab9'.,!\n\xC3\xA9z;");
        let m = block_masks(&block);
        assert_eq!(m.alnum, 0b100_0000_0111);
        assert_eq!(m.digit, 0b100);
        assert_eq!(m.upper, 0b1);
        assert_eq!(m.apostrophe, 0b1000);
        assert_eq!(m.number_separator, 0b11_0000);
        assert_eq!(m.breaks, 0b1000_1101_0000);
        assert_eq!(m.non_ascii, 0b11_0000_0000);
        // Every byte value, one at a time at every position.
        for b in 0..=255u8 {
            for at in [0, 7, 8, 31, 63] {
                let mut block = [b'x'; BLOCK];
                block[at] = b;
                let m = block_masks(&block);
                let bit = 1u64 << at;
                assert_eq!(m.non_ascii == bit, b >= 0x80, "{b:#x} at {at}");
                assert_eq!(m.digit & bit != 0, b.is_ascii_digit(), "{b:#x} at {at}");
                assert_eq!(m.upper & bit != 0, b.is_ascii_uppercase(), "{b:#x} at {at}");
                assert_eq!(m.breaks & bit != 0, is_break_byte(b), "{b:#x} at {at}");
            }
        }
    }

    #[test]
    fn tokens_across_block_ends_and_long_words() {
        // Words, numbers and apostrophes that straddle the 64-byte ends,
        // a word longer than a block, and text after a character of
        // several bytes.
        let long = "x".repeat(150);
        let texts = [
            format!("{}don't stop 1,000.5 here", "a ".repeat(30)),
            format!("{}12.5 and", " ".repeat(61)),
            format!("{}it's", " ".repeat(62)),
            format!("{}Word {long} end. Next", " ".repeat(10)),
            format!("{}é{}", "abc ".repeat(15), "Tail. of it ".repeat(12)),
            "Ends with a joiner '".to_string(),
            "5.".to_string(),
            String::new(),
        ];
        for text in &texts {
            assert_eq!(by_blocks(text), one_by_one(text), "{text:?}");
        }
        let tokens = by_blocks(&texts[3]);
        assert_eq!(tokens.iter().map(|t| t.span.end - t.span.start).max(), Some(150));
    }

    proptest::proptest! {
        #[test]
        fn blocks_find_the_tokens_and_shapes_of_the_scanner(
            text in text_of_pieces(&[
                "a", "Zq", "Q", "7", "12", " ", "  ", ".", ",", "'", "’", "-", "\n", "!",
                "?", ":", ";", "é", "É", "e\u{301}", "\u{AD}", "東", "Ω", "٣", "\u{FEFF}",
                "word", "Upper", "1,000", "3.5", "don't", "abcdefghijklmnopqrstuvwxyz",
            ], 120)
        ) {
            proptest::prop_assert_eq!(by_blocks(&text), one_by_one(&text));
        }
    }
}
