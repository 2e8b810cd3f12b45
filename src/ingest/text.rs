//! Plain-text and Markdown files: one file, one document.
//!
//! The bytes must be UTF-8 (a leading byte-order mark is dropped). A file
//! holding NUL bytes is taken for binary and skipped; invalid UTF-8 is skipped
//! too, unless the user asked for lossy decoding. Files over the size limit
//! are skipped before they are read.

use std::io::Read;
use std::path::Path;

use super::{Document, Origin, ReadOptions, RecordError, RecordErrorKind};

/// Decodes document bytes as configured: the text, or why it cannot be one.
pub(super) fn decode(bytes: Vec<u8>, lossy: bool) -> Result<String, RecordErrorKind> {
    if let Some(offset) = memchr::memchr(0, &bytes) {
        return Err(RecordErrorKind::Binary { offset });
    }
    let mut text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) if lossy => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        Err(err) => {
            return Err(RecordErrorKind::NotUtf8 { offset: err.utf8_error().valid_up_to() });
        }
    };
    if text.starts_with('\u{FEFF}') {
        text.drain(..'\u{FEFF}'.len_utf8());
    }
    Ok(text)
}

/// Reads one text file as a document with the given id.
pub(super) fn read_text_file(
    path: &Path,
    id: String,
    options: &ReadOptions,
) -> Result<Document, RecordError> {
    let origin = Origin::file(path);
    let fail = |kind| RecordError { origin: origin.clone(), kind };
    let file = std::fs::File::open(path).map_err(|e| fail(RecordErrorKind::Unreadable(e)))?;
    let limit = options.max_doc_bytes;
    let meta = file.metadata().ok();
    if let Some(meta) = &meta
        && meta.len() > limit as u64
    {
        return Err(fail(RecordErrorKind::TooLarge { size: meta.len(), limit }));
    }
    let date = meta
        .filter(|_| options.dates_from_mtime)
        .and_then(|m| m.modified().ok())
        .and_then(|t| jiff::Timestamp::try_from(t).ok())
        .map(|t| t.to_string());
    // The size can change between stat and read: read at most limit + 1.
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(RecordErrorKind::Unreadable(e)))?;
    if bytes.len() > limit {
        return Err(fail(RecordErrorKind::TooLarge { size: bytes.len() as u64, limit }));
    }
    let text = decode(bytes, options.lossy_utf8).map_err(fail)?;
    Ok(Document { id, text, date, url: None, origin })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_and_drops_the_bom() {
        assert_eq!(decode("\u{FEFF}héllo".into(), false).unwrap(), "héllo");
    }

    #[test]
    fn rejects_binary_and_invalid_utf8() {
        assert!(matches!(
            decode(b"ab\0cd".to_vec(), true),
            Err(RecordErrorKind::Binary { offset: 2 })
        ));
        assert!(matches!(
            decode(b"caf\xe9 au lait".to_vec(), false),
            Err(RecordErrorKind::NotUtf8 { offset: 3 })
        ));
        assert_eq!(decode(b"caf\xe9".to_vec(), true).unwrap(), "caf\u{FFFD}");
    }

    #[test]
    fn modification_times_are_dates_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "text").unwrap();
        let plain = read_text_file(&path, "a".into(), &ReadOptions::default()).unwrap();
        assert_eq!(plain.date, None);
        let options = ReadOptions { dates_from_mtime: true, ..ReadOptions::default() };
        let dated = read_text_file(&path, "a".into(), &options).unwrap();
        assert!(crate::attribute::parse_date(dated.date.as_deref().unwrap()).is_some());
    }

    #[test]
    fn size_limit_is_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        std::fs::write(&path, "x".repeat(100)).unwrap();
        let options = ReadOptions { max_doc_bytes: 10, ..ReadOptions::default() };
        let err = read_text_file(&path, "big".into(), &options).unwrap_err();
        assert!(matches!(err.kind, RecordErrorKind::TooLarge { size: 100, limit: 10 }));
    }
}
