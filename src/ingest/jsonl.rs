//! JSONL: one JSON object per line, one document per object.
//!
//! Only the configured fields are decoded (id, text, date, url); every other
//! field is skipped without building a value tree, which keeps parsing cheap
//! for crawl shards whose records carry large metadata. Lines are read with a
//! length bound, so one runaway line cannot exhaust memory: it is skipped and
//! reported like any other bad record, and reading resumes at the next line.

use std::fmt;
use std::io::{self, BufRead};
use std::sync::Arc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::compress::corrupt_member;
use super::place::{RecordPlace, RecordSource};
use super::{Body, Document, Origin, ReadOptions, RecordError, RecordErrorKind};

/// Names of the JSONL fields that carry the parts of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonFields {
    /// Document id (a string or a number). Default `id`.
    pub id: String,
    /// Document text (a string; required). Default `text`.
    pub text: String,
    /// Publication date (a string; optional). Default `date`.
    pub date: String,
    /// Source URL (a string; optional). Default `url`.
    pub url: String,
}

impl Default for JsonFields {
    fn default() -> Self {
        JsonFields { id: "id".into(), text: "text".into(), date: "date".into(), url: "url".into() }
    }
}

/// Streams the records of one JSONL source.
pub(super) struct JsonlRecords<R> {
    reader: R,
    source: Arc<str>,
    options: ReadOptions,
    line: u64,
    /// Bytes of the stream read so far, plus where it starts in its file.
    offset: u64,
    /// The file, when its records can be read again at their offsets.
    read_back: Option<Arc<RecordSource>>,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> JsonlRecords<R> {
    pub(super) fn new(reader: R, source: Arc<str>, options: ReadOptions) -> Self {
        JsonlRecords {
            reader,
            source,
            options,
            line: 0,
            offset: 0,
            read_back: None,
            buf: Vec::new(),
            done: false,
        }
    }

    /// Gives each document the place of its line in `file` (which must
    /// hold this stream uncompressed, from byte `start` on), so that it
    /// can be read again (see [`super::place`]).
    pub(super) fn read_back_from(&mut self, file: Arc<RecordSource>, start: u64) {
        self.read_back = Some(file);
        self.offset = start;
    }

    /// Numbers lines from `line + 1` on: the stream starts after `line`
    /// lines of its file.
    pub(super) fn start_after_line(&mut self, line: u64) {
        self.line = line;
    }

    fn origin(&self) -> Origin {
        Origin { source: self.source.clone(), line: Some(self.line), record: None }
    }

    /// Longest line accepted: the text limit plus room for JSON escaping and
    /// other fields.
    fn line_limit(&self) -> usize {
        self.options.max_doc_bytes.saturating_mul(2).saturating_add(1 << 16)
    }

    fn parse(&self, line: &[u8], place: Option<RecordPlace>) -> Result<Document, RecordErrorKind> {
        let line = decoded_line(line, &self.options);
        let record = parse_decoded(&line, &self.options)?;
        let line_bytes = self.options.keep_raw.then(|| line.into_owned());
        let id = record.id.unwrap_or_else(|| format!("{}:{}", self.source, self.line));
        Ok(Document {
            id,
            body: Body::Text(record.text),
            date: record.date,
            url: record.url,
            origin: self.origin(),
            raw: line_bytes,
            place,
        })
    }
}

/// The configured fields of one JSONL line, checked: what a document is
/// made of, read the same way the first time and when read again by place.
pub(super) struct ParsedRecord {
    pub id: Option<String>,
    pub text: String,
    pub date: Option<String>,
    pub url: Option<String>,
}

/// Parses one line under `options` (field names, lossy UTF-8, size limit).
pub(super) fn parse_record(
    line: &[u8],
    options: &ReadOptions,
) -> Result<ParsedRecord, RecordErrorKind> {
    parse_decoded(&decoded_line(line, options), options)
}

/// The line as parsed: invalid UTF-8 replaced when `options` say so.
fn decoded_line<'a>(line: &'a [u8], options: &ReadOptions) -> std::borrow::Cow<'a, [u8]> {
    match options.lossy_utf8 {
        true => match String::from_utf8_lossy(line) {
            std::borrow::Cow::Borrowed(s) => std::borrow::Cow::Borrowed(s.as_bytes()),
            std::borrow::Cow::Owned(s) => std::borrow::Cow::Owned(s.into_bytes()),
        },
        false => std::borrow::Cow::Borrowed(line),
    }
}

/// [`parse_record`] of a line already decoded by [`decoded_line`].
fn parse_decoded(line: &[u8], options: &ReadOptions) -> Result<ParsedRecord, RecordErrorKind> {
    let fields = &options.fields;
    let mut de = serde_json::Deserializer::from_slice(line);
    let raw = RecordSeed(fields)
        .deserialize(&mut de)
        .and_then(|raw| de.end().map(|()| raw))
        .map_err(|e| match std::str::from_utf8(line) {
            // serde_json rejects invalid UTF-8 inside strings; say so
            // plainly (valid lines pay nothing for this check).
            Err(bad) => RecordErrorKind::NotUtf8 { offset: bad.valid_up_to() },
            Ok(_) => RecordErrorKind::InvalidJson(e.to_string()),
        })?;
    let raw = raw.map_err(|field| RecordErrorKind::FieldType {
        expected: if field == fields.id { "a string or a number" } else { "a string" },
        field,
    })?;
    let text = raw.text.ok_or_else(|| RecordErrorKind::MissingText(fields.text.clone()))?;
    if text.len() > options.max_doc_bytes {
        return Err(RecordErrorKind::TooLarge {
            size: text.len() as u64,
            limit: options.max_doc_bytes,
        });
    }
    Ok(ParsedRecord { id: raw.id, text, date: raw.date, url: raw.url })
}

impl<R: BufRead> Iterator for JsonlRecords<R> {
    type Item = Result<Document, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let limit = self.line_limit();
            let start = self.offset;
            let read = read_line_bounded(&mut self.reader, &mut self.buf, limit, &mut self.offset);
            self.line += 1;
            let kind = match read {
                Ok(LineRead::Eof) => {
                    self.done = true;
                    return None;
                }
                Ok(LineRead::TooLong(size)) => {
                    RecordErrorKind::TooLarge { size, limit: self.options.max_doc_bytes }
                }
                Ok(LineRead::Line) => {
                    if self.buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    let len = u32::try_from(self.buf.len()).ok();
                    let place = self.read_back.as_ref().zip(len).map(|(source, len)| RecordPlace {
                        source: Arc::clone(source),
                        offset: start,
                        len,
                        line: self.line,
                    });
                    match self.parse(&self.buf, place) {
                        Ok(doc) => return Some(Ok(doc)),
                        Err(kind) => kind,
                    }
                }
                Err(e) => match corrupt_member(&e) {
                    // The rest of the file may still be readable.
                    Some(corrupt) => RecordErrorKind::Corrupt(corrupt.to_string()),
                    None => {
                        self.done = true;
                        RecordErrorKind::Unreadable(e)
                    }
                },
            };
            return Some(Err(RecordError { origin: self.origin(), kind }));
        }
    }
}

/// Outcome of reading one line.
enum LineRead {
    /// Nothing left.
    Eof,
    /// A line is in the buffer (without its `\n`).
    Line,
    /// The line was longer than the limit and was skipped; its length.
    TooLong(u64),
}

/// Reads one line into `buf` (cleared first), keeping at most `limit` bytes;
/// a longer line is consumed and reported as [`LineRead::TooLong`]. Adds the
/// bytes consumed (the line break too) to `consumed`.
fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    limit: usize,
    consumed: &mut u64,
) -> io::Result<LineRead> {
    buf.clear();
    let mut total: u64 = 0;
    let mut overflow = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(match (total, overflow) {
                (0, _) => LineRead::Eof,
                (_, true) => LineRead::TooLong(total),
                (_, false) => LineRead::Line,
            });
        }
        let (take, found) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i, true),
            None => (chunk.len(), false),
        };
        if !overflow {
            if buf.len() + take > limit {
                overflow = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        total += take as u64;
        reader.consume(take + usize::from(found));
        *consumed += (take + usize::from(found)) as u64;
        if found {
            // Count the newline so an empty line is not mistaken for EOF.
            return Ok(if overflow { LineRead::TooLong(total) } else { LineRead::Line });
        }
    }
}

/// The configured fields of one record; `Err(field)` when a field has the
/// wrong type.
struct RawRecord {
    id: Option<String>,
    text: Option<String>,
    date: Option<String>,
    url: Option<String>,
}

struct RecordSeed<'a>(&'a JsonFields);

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Result<RawRecord, String>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

/// Which configured field a key names.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Text,
    Date,
    Url,
    Other,
}

struct KeySeed<'a>(&'a JsonFields);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Field;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Field, E> {
        let f = self.0;
        Ok(if key == f.text {
            Field::Text
        } else if key == f.id {
            Field::Id
        } else if key == f.date {
            Field::Date
        } else if key == f.url {
            Field::Url
        } else {
            Field::Other
        })
    }
}

/// A field value that is a string, a number (for ids), or something else.
enum Scalar {
    Text(String),
    Number(String),
    Null,
    Other,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

struct ScalarSeed;

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Scalar;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Result<RawRecord, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let fields = self.0;
        let mut record = RawRecord { id: None, text: None, date: None, url: None };
        let mut wrong_type: Option<String> = None;
        while let Some(key) = map.next_key_seed(KeySeed(fields))? {
            if key == Field::Other {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let value = map.next_value_seed(ScalarSeed)?;
            let (slot, name, numbers_ok) = match key {
                Field::Id => (&mut record.id, &fields.id, true),
                Field::Text => (&mut record.text, &fields.text, false),
                Field::Date => (&mut record.date, &fields.date, false),
                Field::Url => (&mut record.url, &fields.url, false),
                Field::Other => unreachable!("handled above"),
            };
            match value {
                Scalar::Text(s) => *slot = Some(s),
                Scalar::Number(n) if numbers_ok => *slot = Some(n),
                Scalar::Null => *slot = None,
                Scalar::Number(_) | Scalar::Other => {
                    wrong_type.get_or_insert_with(|| name.clone());
                }
            }
        }
        Ok(match wrong_type {
            Some(field) => Err(field),
            None => Ok(record),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &str, options: ReadOptions) -> Vec<Result<Document, RecordError>> {
        JsonlRecords::new(input.as_bytes(), "t.jsonl".into(), options).collect()
    }

    #[test]
    fn reads_fields_and_skips_the_rest() {
        let input = concat!(
            "{\"id\":\"a\",\"meta\":{\"x\":[1,2]},\"text\":\"hello\",\"url\":\"http://x\"}\n",
            "\n",
            "{\"id\":7,\"text\":\"num id\",\"date\":\"2024-01-02\"}\r\n",
        );
        let out = records(input, ReadOptions::default());
        assert_eq!(out.len(), 2);
        let a = out[0].as_ref().unwrap();
        assert_eq!((a.id.as_str(), a.text().unwrap()), ("a", "hello"));
        assert_eq!(a.url.as_deref(), Some("http://x"));
        let b = out[1].as_ref().unwrap();
        assert_eq!(b.id, "7");
        assert_eq!(b.date.as_deref(), Some("2024-01-02"));
        assert_eq!(b.origin.to_string(), "t.jsonl:3");
    }

    #[test]
    fn bad_lines_are_reported_with_their_line_and_reading_goes_on() {
        let input =
            "not json\n{\"id\":\"x\"}\n[1,2]\n{\"id\":\"y\",\"text\":5}\n{\"text\":\"ok\"}\n";
        let out = records(input, ReadOptions::default());
        assert_eq!(out.len(), 5);
        let errs: Vec<String> =
            out[..4].iter().map(|r| r.as_ref().unwrap_err().to_string()).collect();
        assert!(errs[0].starts_with("t.jsonl:1: not a JSON object"), "{}", errs[0]);
        assert!(errs[1].starts_with("t.jsonl:2: no \"text\" field"), "{}", errs[1]);
        assert!(errs[2].starts_with("t.jsonl:3: not a JSON object"), "{}", errs[2]);
        assert!(errs[3].contains("\"text\" must be a string"), "{}", errs[3]);
        // No id field: the place is the id.
        assert_eq!(out[4].as_ref().unwrap().id, "t.jsonl:5");
    }

    #[test]
    fn custom_field_names() {
        let options = ReadOptions {
            fields: JsonFields {
                id: "doc_id".into(),
                text: "content".into(),
                ..JsonFields::default()
            },
            ..ReadOptions::default()
        };
        let out = records("{\"doc_id\":\"d\",\"content\":\"c\",\"text\":\"t\"}\n", options);
        let d = out[0].as_ref().unwrap();
        assert_eq!((d.id.as_str(), d.text().unwrap()), ("d", "c"));
    }

    #[test]
    fn overlong_lines_are_skipped_and_reading_resumes() {
        let options = ReadOptions { max_doc_bytes: 8, ..ReadOptions::default() };
        let long = format!("{{\"id\":\"a\",\"text\":\"{}\"}}", "x".repeat(200_000));
        let input = format!("{long}\n{{\"id\":\"b\",\"text\":\"short\"}}\n");
        let out = records(&input, options);
        assert!(matches!(out[0].as_ref().unwrap_err().kind, RecordErrorKind::TooLarge { .. }));
        assert_eq!(out[1].as_ref().unwrap().id, "b");
    }

    #[test]
    fn invalid_utf8_inside_a_line() {
        let input: &[u8] = b"{\"id\":\"a\",\"text\":\"caf\xe9\"}\n";
        let strict: Vec<_> = JsonlRecords::new(input, "t".into(), ReadOptions::default()).collect();
        assert!(strict[0].is_err());
        let lossy = ReadOptions { lossy_utf8: true, ..ReadOptions::default() };
        let out: Vec<_> = JsonlRecords::new(input, "t".into(), lossy).collect();
        assert_eq!(out[0].as_ref().unwrap().text().unwrap(), "caf\u{FFFD}");
    }
}
