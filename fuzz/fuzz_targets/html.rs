//! HTML pages: charset decoding, article extraction, the full visible text
//! and the tree-free reader. The first byte picks a declared charset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neardup::ingest::html;

const CHARSETS: [Option<&str>; 4] = [None, Some("utf-8"), Some("windows-1251"), Some("shift_jis")];

fuzz_target!(|data: &[u8]| {
    let Some((&first, page)) = data.split_first() else { return };
    let text = html::decode(page, CHARSETS[usize::from(first) % CHARSETS.len()]);
    let _ = html::main_text(&text, Some("https://example.org/story"));
    let _ = html::full_text(&text);
    let _ = html::flat_text(&text);
});
