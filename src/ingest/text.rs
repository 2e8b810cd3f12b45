//! Files that hold one document: plain text, Markdown, HTML.
//!
//! Text must be UTF-8 (a leading byte-order mark is dropped). A file holding
//! NUL bytes is taken for binary and skipped; invalid UTF-8 is skipped too,
//! unless the user asked for lossy decoding. HTML is kept as bytes and decoded
//! by its declared charset when its text is extracted. Files over the size
//! limit are skipped without being read to the end.

use std::io::Read;

use super::walk::Kind;
use super::{Body, Document, Origin, ReadOptions, RecordError, RecordErrorKind};

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

/// Reads one document of `kind` from `reader` (already decompressed).
pub(super) fn read_document(
    reader: impl Read,
    id: String,
    kind: Kind,
    origin: Origin,
    date: Option<String>,
    options: &ReadOptions,
) -> Result<Document, RecordError> {
    let fail = |kind| RecordError { origin: origin.clone(), kind };
    let limit = options.max_doc_bytes;
    // The size is only known once read (compressed files): read limit + 1.
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes).map_err(|e| {
        fail(match super::compress::corrupt_member(&e) {
            Some(c) => RecordErrorKind::Corrupt(c.to_string()),
            None => RecordErrorKind::Unreadable(e),
        })
    })?;
    if bytes.len() > limit {
        return Err(fail(RecordErrorKind::TooLarge { size: bytes.len() as u64, limit }));
    }
    let body = match kind {
        Kind::Html => {
            if let Some(offset) = memchr::memchr(0, &bytes) {
                return Err(fail(RecordErrorKind::Binary { offset }));
            }
            Body::Html { bytes, charset: None, full_text: options.html_full_text }
        }
        _ => Body::Text(decode(bytes, options.lossy_utf8).map_err(fail)?),
    };
    Ok(Document { id, body, date, url: None, origin, raw: None, place: None })
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
    fn size_limit_is_enforced() {
        let options = ReadOptions { max_doc_bytes: 10, ..ReadOptions::default() };
        let origin = Origin::file(std::path::Path::new("big.txt"));
        let err = read_document(&[b'x'; 100][..], "big".into(), Kind::Text, origin, None, &options)
            .unwrap_err();
        assert!(matches!(err.kind, RecordErrorKind::TooLarge { size: 11, limit: 10 }));
    }
}
