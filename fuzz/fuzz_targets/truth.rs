//! Truth files of `neardup eval`.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(error) = neardup::eval::Truth::from_json(text, Path::new("truth.json")) {
        assert!(error.to_string().contains("truth.json"));
    }
});
