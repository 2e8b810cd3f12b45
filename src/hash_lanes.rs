//! Hashing many keys at once: eight 64-bit lanes per instruction where the
//! CPU has AVX-512, one key at a time elsewhere, with the same values.
//!
//! Three loops of the featurize stage hash thousands of short, independent
//! keys per document: the MinHash mixer applied to every feature hash
//! ([`crate::sketch`]), the xxh3 hash of every n-byte window of the
//! normalized text (the character view, [`char_ngram_keys`]) and the xxh3
//! hash of every window of token hashes (the word shingles,
//! `word_window_keys`). Each is a few 64-bit multiplications, shifts and
//! xors per key, the same steps for every key, so they vectorize, but only
//! where vector registers multiply 64-bit integers: AVX-512 (`avx512f`
//! with `avx512dq`). Measured on the windows of a 4 KB text (AMD EPYC,
//! Zen 5): hashing and mixing every 7-byte window took 9.7 µs one call at
//! a time and 3.0 µs eight lanes at a time. With AVX2 only (64-bit
//! multiplications made of 32-bit ones) it was 8.6 µs, and compiled for
//! plain x86-64 (SSE2) 19.8 µs, slower than one key at a time; so the
//! lanes are used with AVX-512 and the scalar loops everywhere else.
//!
//! xxh3 of a word shingle (24 to 128 bytes) multiplies pairs of 64-bit
//! words into 128 bits, which no vector instruction does;
//! `mul128_fold64` builds the product from 32-bit ones, which lanes have.
//! Word shingles in lanes (criterion, one core, generated news):
//! `stages/shingle` 450 → 708 MiB/s, `stages/featurize` 81 → 97 MiB/s; a
//! 100k-document scan 7.05 → 6.37 s (median of 5 taking turns, same
//! output).
//!
//! The AVX-512 version of each loop and the check of the CPU at run time
//! come from `multiversion` (function multiversioning; maintained, vendored
//! by Firefox), which keeps this crate free of `unsafe`. Both paths
//! compute the same values: the keys equal `xxhash_rust`'s (tests compare
//! every window), so signatures, band keys and stored indexes do not depend
//! on the machine.

use multiversion::multiversion;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Keys gathered before they are mixed in lanes.
pub(crate) const LANE_BLOCK: usize = 256;

/// True when this CPU multiplies 64-bit integers in vector registers
/// (AVX-512F and DQ), where the lane versions are faster.
pub(crate) fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512dq")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The SplitMix64 finalizer (Steele, Lea & Flood): a strong 64-bit mixer,
/// also used to spread keys that are not hashes over scratch partitions
/// ([`crate::spill::mix`]).
#[inline(always)]
pub fn splitmix_finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The MinHash family's mixer: one SplitMix64 step (the golden-ratio
/// increment, then the finalizer).
#[inline(always)]
pub(crate) fn mix64(x: u64) -> u64 {
    splitmix_finalize(x.wrapping_add(0x9E37_79B9_7F4A_7C15))
}

/// Replaces each value `x` with `mix64(x ^ seed)`, in lanes (call it when
/// [`available`]; elsewhere mixing one key at a time is faster).
#[multiversion(targets("x86_64+avx512f+avx512dq"))]
pub(crate) fn mix_lanes(values: &mut [u64], seed: u64) {
    for v in values {
        *v = mix64(*v ^ seed);
    }
}

/// The xxh3 hash (`xxh3_64_with_seed(window, seed)`) of every `n`-byte
/// window of `text`, in order, into `out` (cleared first). `n` is at least
/// 1; a text shorter than `n` has no window.
pub fn char_ngram_keys(text: &[u8], n: usize, seed: u64, out: &mut Vec<u64>) {
    out.clear();
    let n = n.max(1);
    if text.len() < n {
        return;
    }
    if (4..=8).contains(&n) && available() {
        short_window_keys(text, n, seed, out);
    } else {
        out.extend(text.windows(n).map(|w| xxh3_64_with_seed(w, seed)));
    }
}

/// The first 128 bytes of xxh3's default secret (the specification's
/// `kSecret`) as little-endian words: inputs of up to 128 bytes use no
/// more of it.
const SECRET_HEAD: [u64; 16] = [
    0xbe4b_a423_396c_feb8,
    0x1cad_21f7_2c81_017c,
    0xdb97_9083_e96d_d4de,
    0x1f67_b3b7_a4a4_4072,
    0x78e5_c0cc_4ee6_79cb,
    0x2172_ffcc_7dd0_5a82,
    0x8e24_43f7_7446_08b8,
    0x4c26_3a81_e690_35e0,
    0xcb00_c391_bb52_283c,
    0xa32e_531b_8b65_d088,
    0x4ef9_0da2_9748_6471,
    0xd8ac_dea9_46ef_1938,
    0x3f34_9ce3_3f76_faa8,
    0x1d4f_0bc7_c7bb_dcf9,
    0x3159_b4cd_4be0_518a,
    0x6473_78d9_c97e_9fc8,
];

/// xxh3's constant for inputs of 4 to 8 bytes: secret bytes 8 to 24,
/// folded, minus the seed as xxh3 prepares it.
fn short_input_flip(seed: u64) -> u64 {
    let seed = seed ^ (u64::from((seed as u32).swap_bytes()) << 32);
    (SECRET_HEAD[1] ^ SECRET_HEAD[2]).wrapping_sub(seed)
}

/// xxh3 of an input of `len` (4 to 8) bytes from its first and last four
/// bytes (little-endian) and [`short_input_flip`]: the steps of xxh3's
/// 4-to-8-byte case.
#[inline(always)]
fn xxh3_short(first: u32, last: u32, flip: u64, len: u64) -> u64 {
    let mut h = (u64::from(last).wrapping_add(u64::from(first) << 32)) ^ flip;
    h ^= h.rotate_left(49) ^ h.rotate_left(24);
    h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
    h ^= (h >> 35).wrapping_add(len);
    h = h.wrapping_mul(0x9FB2_1C65_1E98_DF25);
    h ^ (h >> 28)
}

/// [`char_ngram_keys`] for `n` in 4..=8, in lanes: the first and last four
/// bytes of each window are gathered first (byte loads, no bounds checks
/// in the loop), then every window is hashed with the same steps.
#[multiversion(targets("x86_64+avx512f+avx512dq"))]
fn short_window_keys(text: &[u8], n: usize, seed: u64, out: &mut Vec<u64>) {
    let windows = text.len() + 1 - n;
    let flip = short_input_flip(seed);
    // `first[i..i + 4]` starts window `i`, `last[i..i + 4]` ends it.
    let first = &text[..windows + 3];
    let last = &text[n - 4..n - 4 + windows + 3];
    out.resize(windows, 0);
    for (i, key) in out.iter_mut().enumerate() {
        let a = u32::from_le_bytes([first[i], first[i + 1], first[i + 2], first[i + 3]]);
        let b = u32::from_le_bytes([last[i], last[i + 1], last[i + 2], last[i + 3]]);
        *key = xxh3_short(a, b, flip, n as u64);
    }
}

/// The xxh3 hash (`xxh3_64_with_seed` of the little-endian bytes) of every
/// window of `size` consecutive words of `words`, in order, appended to
/// `out`, in lanes (call it when [`available`]; elsewhere one window at a
/// time is faster). `size` is 3 to 16 (inputs of 24 to 128 bytes) and
/// `words` holds at least one window. Word shingles are hashed so
/// ([`crate::shingle::ShingleHasher::shingles_into`]).
#[multiversion(targets("x86_64+avx512f+avx512dq"))]
pub(crate) fn word_window_keys(words: &[u64], size: usize, seed: u64, out: &mut Vec<u64>) {
    assert!((3..=16).contains(&size) && words.len() >= size, "3 to 16 words a window");
    // One loop for each number of 16-byte pieces xxh3 mixes, so that the
    // loop over the pieces unrolls and the loop over the windows runs in
    // lanes.
    match size {
        3..=4 => word_windows::<2>(words, size, seed, out),
        5..=8 => word_windows::<4>(words, size, seed, out),
        9..=12 => word_windows::<6>(words, size, seed, out),
        _ => word_windows::<8>(words, size, seed, out),
    }
}

/// The steps of xxh3's 17-to-128-byte case for inputs made of whole words:
/// the accumulator takes `PIECES` (`2 * ceil(size / 4)`) 16-byte pieces,
/// pairs from the front and the back, each mixed with its 16 bytes of the
/// secret.
#[inline(always)]
fn word_windows<const PIECES: usize>(words: &[u64], size: usize, seed: u64, out: &mut Vec<u64>) {
    debug_assert_eq!(PIECES, 2 * size.div_ceil(4));
    let windows = words.len() + 1 - size;
    // The words each piece of each window starts with: piece 2j starts at
    // word 2j, piece 2j + 1 ends 2j words before the last (xxh3 reads its
    // pieces from both ends of the input).
    let columns: [(&[u64], &[u64]); PIECES] = std::array::from_fn(|p| {
        let at = if p % 2 == 0 { p } else { size - 1 - p };
        (&words[at..at + windows], &words[at + 1..at + 1 + windows])
    });
    let keys: [(u64, u64); PIECES] = std::array::from_fn(|p| {
        (SECRET_HEAD[2 * p].wrapping_add(seed), SECRET_HEAD[2 * p + 1].wrapping_sub(seed))
    });
    let len = (8 * size) as u64;
    let start = out.len();
    out.resize(start + windows, 0);
    for (i, key) in out[start..].iter_mut().enumerate() {
        let mut acc = len.wrapping_mul(XXH_PRIME64_1);
        // A constant bound: the loop unrolls.
        for p in 0..PIECES {
            let piece = mul128_fold64(columns[p].0[i] ^ keys[p].0, columns[p].1[i] ^ keys[p].1);
            acc = acc.wrapping_add(piece);
        }
        *key = xxh3_avalanche(acc);
    }
}

/// xxh64's first prime, which xxh3 multiplies the length with.
const XXH_PRIME64_1: u64 = 0x9E37_79B1_85EB_CA87;

/// The low and high halves of the 128-bit product, xored: xxh3's mixing
/// step. Made of 32-bit products, which vector registers have (a 64-bit
/// multiplication with a 128-bit result they have not).
#[inline(always)]
fn mul128_fold64(a: u64, b: u64) -> u64 {
    const LOW: u64 = 0xFFFF_FFFF;
    let (a_lo, a_hi, b_lo, b_hi) = (a & LOW, a >> 32, b & LOW, b >> 32);
    let lo_lo = a_lo * b_lo;
    let hi_lo = a_hi * b_lo;
    let lo_hi = a_lo * b_hi;
    let hi_hi = a_hi * b_hi;
    // Cannot overflow: `lo_hi` is at most (2^32 − 1)^2 = 2^64 − 2^33 + 1
    // and the other two terms are below 2^32 each.
    let cross = (lo_lo >> 32) + (hi_lo & LOW) + lo_hi;
    let high = hi_hi + (hi_lo >> 32) + (cross >> 32);
    let low = (cross << 32) | (lo_lo & LOW);
    low ^ high
}

/// xxh3's final mixing of inputs of 17 to 240 bytes.
#[inline(always)]
fn xxh3_avalanche(mut h: u64) -> u64 {
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(text: &[u8], n: usize, seed: u64) -> Vec<u64> {
        text.windows(n.max(1)).map(|w| xxh3_64_with_seed(w, seed)).collect()
    }

    proptest! {
        #[test]
        fn keys_are_xxh3_of_every_window(
            text in proptest::collection::vec(any::<u8>(), 0..300),
            n in 0usize..12,
            seed in any::<u64>(),
        ) {
            let mut out = vec![7];
            char_ngram_keys(&text, n, seed, &mut out);
            prop_assert_eq!(out, reference(&text, n, seed));
        }

        #[test]
        fn the_short_window_formula_is_xxh3(
            text in proptest::collection::vec(any::<u8>(), 8..200),
            n in 4usize..=8,
            seed in any::<u64>(),
        ) {
            // The lane version on this CPU if it has AVX-512, the same
            // steps compiled for any x86-64 otherwise.
            let mut out = Vec::new();
            short_window_keys(&text, n, seed, &mut out);
            prop_assert_eq!(out, reference(&text, n, seed));
        }

        #[test]
        fn mixing_in_lanes_is_mixing_each_key(
            values in proptest::collection::vec(any::<u64>(), 0..600),
            seed in any::<u64>(),
        ) {
            let mut mixed = values.clone();
            mix_lanes(&mut mixed, seed);
            let each: Vec<u64> = values.iter().map(|&v| mix64(v ^ seed)).collect();
            prop_assert_eq!(mixed, each);
        }
    }

    fn word_reference(words: &[u64], size: usize, seed: u64) -> Vec<u64> {
        words
            .windows(size)
            .map(|w| {
                let bytes: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
                xxh3_64_with_seed(&bytes, seed)
            })
            .collect()
    }

    proptest! {
        #[test]
        fn word_window_keys_are_xxh3_of_every_window(
            words in proptest::collection::vec(any::<u64>(), 16..80),
            size in 3usize..=16,
            seed in any::<u64>(),
        ) {
            // The lane version on this CPU if it has AVX-512, the same
            // steps compiled for any x86-64 otherwise.
            let mut out = vec![7];
            word_window_keys(&words, size, seed, &mut out);
            prop_assert_eq!(out[0], 7, "appended after what was there");
            prop_assert_eq!(&out[1..], &word_reference(&words, size, seed)[..]);
        }

        #[test]
        fn the_folded_product_is_the_128_bit_one(a: u64, b: u64) {
            let product = u128::from(a) * u128::from(b);
            prop_assert_eq!(mul128_fold64(a, b), product as u64 ^ (product >> 64) as u64);
        }
    }

    #[test]
    fn one_window_of_each_size() {
        let words: Vec<u64> = (0..16).map(|i| splitmix_finalize(i) | (u64::MAX << 63)).collect();
        for size in 3..=16 {
            let mut out = Vec::new();
            word_window_keys(&words[..size], size, 5, &mut out);
            assert_eq!(out, word_reference(&words[..size], size, 5), "size {size}");
        }
    }

    #[test]
    fn texts_of_exactly_one_window_and_shorter() {
        let mut out = Vec::new();
        char_ngram_keys(b"abcdefg", 7, 1, &mut out);
        assert_eq!(out, vec![xxh3_64_with_seed(b"abcdefg", 1)]);
        char_ngram_keys(b"abcdef", 7, 1, &mut out);
        assert!(out.is_empty());
    }
}
