//! ASCII byte classes for the tokenizer's fast paths.
//!
//! Most text is ASCII, and [`Tokens`](super::Tokens) steps over ASCII
//! bytes without decoding characters: one table lookup a byte tells whether
//! it may continue a word or only separates, and what it says about the
//! token or gap it is in; runs of letters and digits are taken eight bytes
//! at a time. The rules here must agree with the character classes of
//! `tokenize` (a property test checks the fast paths against a
//! character-by-character scanner there).

/// Flags of one byte, looked up once as the fast paths of
/// [`Tokens`](super::Tokens) step over it: whether it may continue a word or
/// can only separate, and what it tells about the token or gap it is in
/// ([`TokenShape`](super::TokenShape) reuses the bit positions of
/// `NON_ASCII`, `UPPER`, `DIGIT` and `BREAK`, so the flags of the bytes read
/// are simply or-ed together).
pub(super) mod byte {
    /// Not ASCII: any byte of a character of several bytes.
    pub const NON_ASCII: u8 = 1;
    /// An ASCII letter or digit.
    pub const ALNUM: u8 = 1 << 5;
    /// Separates tokens and can never join one (everything ASCII but
    /// letters, digits, the apostrophe, `.` and `,`).
    pub const SEPARATOR: u8 = 1 << 6;
    /// An upper-case ASCII letter.
    pub const UPPER: u8 = 1 << 1;
    /// An ASCII digit.
    pub const DIGIT: u8 = 1 << 2;
    /// Ends a sentence or a line (see [`is_break_byte`](super::is_break_byte)).
    pub const BREAK: u8 = 1 << 4;
}

/// Returns true if and only if the byte ends a sentence or a line:
/// `. ! ? : ;` or a line feed.
pub const fn is_break_byte(b: u8) -> bool {
    matches!(b, b'.' | b'!' | b'?' | b':' | b';' | b'\n')
}

/// [`byte`] flags of every byte value (only `NON_ASCII` for the bytes of
/// characters of several bytes).
pub(super) const BYTE_FLAGS: [u8; 256] = {
    let mut table = [byte::NON_ASCII; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        let mut flags = 0;
        if b.is_ascii_alphanumeric() {
            flags |= byte::ALNUM;
        } else if !(b == b'\'' || b == b'.' || b == b',') {
            flags |= byte::SEPARATOR;
        }
        if b.is_ascii_uppercase() {
            flags |= byte::UPPER;
        }
        if b.is_ascii_digit() {
            flags |= byte::DIGIT;
        }
        if is_break_byte(b) {
            flags |= byte::BREAK;
        }
        table[i] = flags;
        i += 1;
    }
    table
};

/// The end of the run of ASCII letters and digits that starts at `pos`, and
/// the [`byte`] flags `UPPER` and `DIGIT` of the bytes in it.
///
/// Eight bytes at a time (SWAR): each byte is classified by range checks on
/// the whole word, and the run's length is the count of trailing letter or
/// digit bytes. Taken a byte at a time, the loop ended at a branch that
/// depends on each word's length and was mispredicted about once a word.
#[inline(always)]
pub(super) fn alnum_run(bytes: &[u8], mut pos: usize) -> (usize, u8) {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `low7` (bytes below 0x80) set where the
    // byte is at least `lo`: adding `0x80 - lo` carries into that bit and
    // never out of the byte.
    let at_least = |low7: u64, lo: u8| (low7 + u64::from(0x80 - lo) * ONES) & HIGH;
    let mut flags = 0u8;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let ascii = !word & HIGH;
        let low7 = word & !HIGH;
        let within = |lo: u8, hi: u8| at_least(low7, lo) & !at_least(low7, hi + 1) & ascii;
        let digit = within(b'0', b'9');
        let upper = within(b'A', b'Z');
        let alnum = digit | upper | within(b'a', b'z');
        // Bytes before the first that is neither (8 when all are).
        let len = (!alnum & HIGH).trailing_zeros() / 8;
        let taken = if len == 8 { u64::MAX } else { (1u64 << (8 * len)) - 1 };
        if upper & taken != 0 {
            flags |= byte::UPPER;
        }
        if digit & taken != 0 {
            flags |= byte::DIGIT;
        }
        pos += len as usize;
        if len < 8 {
            return (pos, flags);
        }
    }
    while let Some(&b) = bytes.get(pos) {
        let f = BYTE_FLAGS[usize::from(b)];
        if f & byte::ALNUM == 0 {
            break;
        }
        flags |= f & (byte::UPPER | byte::DIGIT);
        pos += 1;
    }
    (pos, flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn alnum_runs_are_found_eight_bytes_at_a_time_as_one_at_a_time(
            text in "[a-zA-Z0-9]{0,20}([^a-zA-Z0-9]|é)?[a-zA-Z0-9 .é]{0,20}",
            from in 0usize..24,
        ) {
            let bytes = text.as_bytes();
            let from = from.min(bytes.len());
            let run = bytes[from..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            let taken = &bytes[from..from + run];
            let mut flags = 0;
            if taken.iter().any(u8::is_ascii_uppercase) {
                flags |= byte::UPPER;
            }
            if taken.iter().any(u8::is_ascii_digit) {
                flags |= byte::DIGIT;
            }
            proptest::prop_assert_eq!(alnum_run(bytes, from), (from + run, flags));
        }
    }
}
