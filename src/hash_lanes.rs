//! Hashing many keys at once: eight 64-bit lanes per instruction where the
//! CPU has AVX-512, one key at a time elsewhere, with the same values.
//!
//! Two loops of the featurize stage hash thousands of short, independent
//! keys per document: the MinHash mixer applied to every feature hash
//! ([`crate::sketch`]) and the xxh3 hash of every n-byte window of the
//! normalized text (the character view, [`char_ngram_keys`]). Both are a
//! few 64-bit multiplications, shifts and xors per key, the same steps for
//! every key, so they vectorize, but only where vector registers multiply
//! 64-bit integers: AVX-512 (`avx512f` with `avx512dq`). Measured on the
//! windows of a 4 KB text (AMD EPYC, Zen 5): hashing and mixing every
//! 7-byte window took 9.7 µs one call at a time and 3.0 µs eight lanes at a
//! time. With AVX2 only (64-bit multiplications made of 32-bit ones) it was
//! 8.6 µs, and compiled for plain x86-64 (SSE2) 19.8 µs, slower than one
//! key at a time; so the lanes are used with AVX-512 and the scalar loops
//! everywhere else.
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

/// Bytes 8..16 and 16..24 of xxh3's default secret (the specification's
/// `kSecret`), as little-endian words: inputs of 4 to 8 bytes use them.
const SECRET_WORDS: [u64; 2] = [0x1cad_21f7_2c81_017c, 0xdb97_9083_e96d_d4de];

/// xxh3's constant for inputs of 4 to 8 bytes: the two secret words,
/// folded, minus the seed as xxh3 prepares it.
fn short_input_flip(seed: u64) -> u64 {
    let seed = seed ^ (u64::from((seed as u32).swap_bytes()) << 32);
    (SECRET_WORDS[0] ^ SECRET_WORDS[1]).wrapping_sub(seed)
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

    #[test]
    fn texts_of_exactly_one_window_and_shorter() {
        let mut out = Vec::new();
        char_ngram_keys(b"abcdefg", 7, 1, &mut out);
        assert_eq!(out, vec![xxh3_64_with_seed(b"abcdefg", 1)]);
        char_ngram_keys(b"abcdef", 7, 1, &mut out);
        assert!(out.is_empty());
    }
}
