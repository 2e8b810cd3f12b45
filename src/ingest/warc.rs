//! WARC and WET files: web crawls as records.
//!
//! A WARC record is a version line (`WARC/1.0`), header lines, a blank line,
//! `Content-Length` bytes of content and a blank line. Documents come from:
//!
//! * `response` records: an HTTP response. Its status must be 2xx and its
//!   `Content-Type` HTML (the page is extracted later) or plain text. Chunked
//!   transfer and gzip/deflate content encodings are undone, and the
//!   response's charset is kept for decoding;
//! * `resource` records of type HTML or text;
//! * `conversion` records: the plain text of Common Crawl's WET files.
//!
//! Other records (`warcinfo`, `request`, `metadata`, images, scripts) are not
//! documents and are only counted. The document id is the `WARC-Record-ID`
//! (without its angle brackets), or the `WARC-Target-URI` when asked. The
//! target URI and `WARC-Date` are kept as the document's URL and date.
//!
//! Crawl files are often damaged, and the reader recovers from:
//! * a truncated record at the end;
//! * a `Content-Length` that is too long, which shows as the next
//!   `WARC/` header inside the content;
//! * a `Content-Length` that is too short, which shows as missing blank lines
//!   after the content;
//! * garbage between records;
//! * corrupt gzip members (reported by [`super::compress`]).
//!
//! Each is reported as a skipped record, and reading resumes at the next
//! `WARC/` line. A `warc` crate exists, but it reads whole records into memory
//! with no size bound and stops at the first malformed one. It is used in the
//! tests as an independent check of this reader.

use std::io::{self, BufRead, Read};
use std::sync::Arc;

use super::compress::corrupt_member;
use super::{Body, Document, Origin, ReadOptions, RecordError, RecordErrorKind, WarcId};

/// Longest header line accepted.
const MAX_LINE: usize = 64 << 10;
/// Most header lines accepted per record.
const MAX_HEADERS: usize = 512;
/// Where a record's content ends and the next record starts.
const NEXT_RECORD: &[u8] = b"\r\n\r\nWARC/1.";

/// A `BufRead` into which bytes read too far can be put back.
struct PushBack<R> {
    front: Vec<u8>,
    consumed: usize,
    inner: R,
}

impl<R: BufRead> PushBack<R> {
    fn push_back(&mut self, bytes: &[u8]) {
        let mut front = bytes.to_vec();
        front.extend_from_slice(&self.front[self.consumed..]);
        self.front = front;
        self.consumed = 0;
    }
}

impl<R: BufRead> Read for PushBack<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        super::compress::read_through_buffer(self, out)
    }
}

impl<R: BufRead> BufRead for PushBack<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.consumed < self.front.len() {
            return Ok(&self.front[self.consumed..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if self.consumed < self.front.len() {
            self.consumed += n;
            if self.consumed >= self.front.len() {
                self.front.clear();
                self.consumed = 0;
            }
        } else {
            self.inner.consume(n);
        }
    }
}

/// Streams the documents of one WARC or WET source.
pub(super) struct WarcRecords<R> {
    reader: PushBack<R>,
    source: Arc<str>,
    options: ReadOptions,
    record: u64,
    done: bool,
    /// After a reported problem, skip to the next record without reporting
    /// the bytes in between again.
    resyncing: bool,
    /// Damage found while looking past the end of a complete record: it
    /// belongs to the next record and is reported there.
    damage_ahead: Option<RecordErrorKind>,
    /// Records that are not documents.
    pub ignored: u64,
}

/// What went wrong while reading one record.
enum Problem {
    /// Skip the record and go on.
    Skip(RecordErrorKind),
    /// Stop reading this source.
    Stop(RecordErrorKind),
}

impl From<io::Error> for Problem {
    fn from(e: io::Error) -> Self {
        if let Some(corrupt) = corrupt_member(&e) {
            Problem::Skip(RecordErrorKind::Corrupt(corrupt.to_string()))
        } else {
            Problem::Stop(RecordErrorKind::Unreadable(e))
        }
    }
}

/// Headers of a record or an HTTP message, in order.
struct Headers(Vec<(String, String)>);

impl Headers {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

impl<R: BufRead> WarcRecords<R> {
    pub(super) fn new(reader: R, source: Arc<str>, options: ReadOptions) -> Self {
        WarcRecords {
            reader: PushBack { front: Vec::new(), consumed: 0, inner: reader },
            source,
            options,
            record: 0,
            done: false,
            resyncing: false,
            damage_ahead: None,
            ignored: 0,
        }
    }

    fn origin(&self) -> Origin {
        Origin { source: self.source.clone(), line: None, record: Some(self.record.max(1)) }
    }

    /// Largest record content read into memory: raw HTML is bigger than its
    /// text, so four times the document limit.
    fn max_content(&self) -> u64 {
        (self.options.max_doc_bytes as u64).saturating_mul(4)
    }

    /// Reads one line (with its `\n`) into `buf`; `Ok(false)` at the end.
    fn read_line(&mut self, buf: &mut Vec<u8>) -> Result<bool, Problem> {
        buf.clear();
        let n = (&mut self.reader).take(MAX_LINE as u64).read_until(b'\n', buf)?;
        Ok(n > 0)
    }

    /// Finds the next version line. Returns false at the end of the source.
    fn find_record(&mut self) -> Result<bool, Problem> {
        if let Some(kind) = self.damage_ahead.take() {
            self.record += 1;
            return Err(Problem::Skip(kind));
        }
        let mut line = Vec::new();
        let mut skipped = 0u64;
        loop {
            let more = match self.read_line(&mut line) {
                Ok(more) => more,
                Err(skip @ Problem::Skip(_)) => {
                    // Corrupt compressed data between records: the record
                    // it held is the one lost.
                    self.record += 1;
                    return Err(skip);
                }
                Err(stop) => return Err(stop),
            };
            if !more {
                if skipped > 0 && !self.resyncing {
                    self.record += 1;
                    return Err(Problem::Stop(RecordErrorKind::Warc(format!(
                        "{skipped} bytes after the last record are not a WARC record"
                    ))));
                }
                return Ok(false);
            }
            if line.starts_with(b"WARC/") {
                if skipped > 0 && !self.resyncing {
                    // Report the damage as a record of its own; this version
                    // line is parsed on the next call.
                    self.reader.push_back(&line);
                    self.record += 1;
                    return Err(Problem::Skip(RecordErrorKind::Warc(format!(
                        "{skipped} bytes before this point are not a WARC record"
                    ))));
                }
                self.resyncing = false;
                self.record += 1;
                return Ok(true);
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                skipped += line.len() as u64;
            }
        }
    }

    fn read_headers(&mut self) -> Result<Headers, Problem> {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut line = Vec::new();
        loop {
            if !self.read_line(&mut line)? {
                return Err(Problem::Stop(RecordErrorKind::Warc(
                    "the file ends inside the record's headers".into(),
                )));
            }
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                return Ok(Headers(headers));
            }
            if headers.len() >= MAX_HEADERS {
                return Err(Problem::Skip(RecordErrorKind::Warc("too many header lines".into())));
            }
            if text.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(text.trim());
                }
            } else if let Some((name, value)) = text.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            } else {
                return Err(Problem::Skip(RecordErrorKind::Warc(format!(
                    "malformed header line {text:?}"
                ))));
            }
        }
    }

    /// Reads `len` bytes of content, stopping early where the next record
    /// visibly starts (a `Content-Length` that is too long).
    fn read_content(&mut self, len: u64) -> Result<Vec<u8>, Problem> {
        if len > self.max_content() {
            // Skip it without keeping it, but still watch for the next
            // record in case the length lies.
            let mut remaining = len;
            let mut tail: Vec<u8> = Vec::new();
            while remaining > 0 {
                let buf = self.reader.fill_buf()?;
                if buf.is_empty() {
                    return Err(Problem::Stop(RecordErrorKind::Warc(format!(
                        "the file ends inside a record of {len} bytes"
                    ))));
                }
                let take = buf.len().min(remaining.min(usize::MAX as u64) as usize);
                tail.extend_from_slice(&buf[..take]);
                self.reader.consume(take);
                remaining -= take as u64;
                if let Some(pos) = memchr::memmem::find(&tail, NEXT_RECORD) {
                    let actual = (len - remaining) - (tail.len() - pos) as u64;
                    let rest = tail[pos + 4..].to_vec();
                    self.reader.push_back(&rest);
                    return Err(self.lying_length(len, actual));
                }
                let keep = tail.len().min(NEXT_RECORD.len());
                tail.drain(..tail.len() - keep);
            }
            return Err(Problem::Skip(RecordErrorKind::TooLarge {
                size: len,
                limit: self.max_content() as usize,
            }));
        }
        let mut content = Vec::with_capacity(len as usize);
        let read = (&mut self.reader).take(len).read_to_end(&mut content)?;
        if (read as u64) < len {
            return Err(Problem::Stop(RecordErrorKind::Warc(format!(
                "the file ends inside the record: Content-Length says {len} bytes, {read} are there"
            ))));
        }
        if let Some(pos) = memchr::memmem::find(&content, NEXT_RECORD) {
            let rest = content.split_off(pos);
            self.reader.push_back(&rest[4..]);
            return Err(self.lying_length(len, pos as u64));
        }
        Ok(content)
    }

    fn lying_length(&mut self, claimed: u64, actual: u64) -> Problem {
        Problem::Skip(RecordErrorKind::Warc(format!(
            "Content-Length says {claimed} bytes but the next record starts after {actual}"
        )))
    }

    /// After the content: line ends, then the next record or the end.
    fn check_record_end(&mut self, len: u64) -> Result<(), Problem> {
        match self.peek_record_end() {
            Ok((newlines, head)) => {
                let n = head.len();
                self.reader.push_back(&head);
                if n == 0 || (newlines >= 1 && head == b"WARC/") {
                    return Ok(());
                }
                self.resyncing = true;
                Err(Problem::Skip(RecordErrorKind::Warc(format!(
                    "Content-Length says {len} bytes, but the record goes on after them"
                ))))
            }
            Err(e) => match Problem::from(e) {
                // This record is complete; the corrupt data is the next
                // record's, and is reported with it.
                Problem::Skip(kind) => {
                    self.damage_ahead = Some(kind);
                    Ok(())
                }
                stop => Err(stop),
            },
        }
    }

    /// Consumes the line ends after a record's content and reads up to five
    /// bytes of what follows: `(line ends, bytes)`.
    fn peek_record_end(&mut self) -> io::Result<(usize, Vec<u8>)> {
        let mut newlines = 0;
        loop {
            match self.reader.fill_buf()?.first() {
                Some(b'\r') => self.reader.consume(1),
                Some(b'\n') => {
                    newlines += 1;
                    self.reader.consume(1);
                }
                _ => break,
            }
        }
        let mut head = [0u8; 5];
        let mut n = 0;
        while n < head.len() {
            match self.reader.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(got) => n += got,
                Err(e) => {
                    self.reader.push_back(&head[..n]);
                    return Err(e);
                }
            }
        }
        Ok((newlines, head[..n].to_vec()))
    }

    /// One record: a document, `Ok(None)` for a record that is not a
    /// document, or a problem.
    fn next_record(&mut self) -> Result<Option<Document>, Problem> {
        let headers = self.read_headers()?;
        let Some(len) = headers.get("Content-Length").and_then(|v| v.parse::<u64>().ok()) else {
            self.resyncing = true;
            return Err(Problem::Skip(RecordErrorKind::Warc(
                "no valid Content-Length header".into(),
            )));
        };
        let content = self.read_content(len)?;
        self.check_record_end(len)?;
        let kind = headers.get("WARC-Type").unwrap_or("").to_ascii_lowercase();
        let body = match kind.as_str() {
            "response" => http_payload(&content, self.max_content())?,
            "resource" | "conversion" => {
                typed_body(content, headers.get("Content-Type").unwrap_or("text/plain"))
            }
            _ => None,
        };
        let Some(mut body) = body else { return Ok(None) };
        if let Body::Html { full_text, .. } = &mut body {
            *full_text = self.options.html_full_text;
        }
        let record_id =
            headers.get("WARC-Record-ID").map(|v| v.trim_matches(['<', '>']).to_string());
        let uri = headers.get("WARC-Target-URI").map(|v| v.trim_matches(['<', '>']).to_string());
        let id = match self.options.warc_id {
            WarcId::RecordId => record_id.clone().or_else(|| uri.clone()),
            WarcId::TargetUri => uri.clone().or_else(|| record_id.clone()),
        }
        .unwrap_or_else(|| format!("{}#{}", self.source, self.record));
        Ok(Some(Document {
            id,
            body,
            date: headers.get("WARC-Date").map(str::to_string),
            url: uri,
            origin: self.origin(),
            raw: None,
            place: None,
        }))
    }
}

/// The document in an HTTP response, if it is a 2xx text or HTML page.
fn http_payload(message: &[u8], limit: u64) -> Result<Option<Body>, Problem> {
    let Some(split) = memchr::memmem::find(message, b"\r\n\r\n")
        .map(|p| (p, p + 4))
        .or_else(|| memchr::memmem::find(message, b"\n\n").map(|p| (p, p + 2)))
    else {
        return Err(Problem::Skip(RecordErrorKind::Warc(
            "the HTTP response has no end of headers".into(),
        )));
    };
    let head = String::from_utf8_lossy(&message[..split.0]);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if !(200..300).contains(&status) {
        return Ok(None);
    }
    let headers = Headers(
        lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect(),
    );
    let mut payload = message[split.1..].to_vec();
    if headers.get("Transfer-Encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        payload = dechunk(&payload).map_err(|m| Problem::Skip(RecordErrorKind::Warc(m)))?;
    }
    if let Some(encoding) = headers.get("Content-Encoding").map(str::to_ascii_lowercase) {
        payload = match encoding.trim() {
            "" | "identity" => payload,
            "gzip" | "x-gzip" => inflate(flate2::read::GzDecoder::new(&payload[..]), limit)?,
            "deflate" => inflate(flate2::read::ZlibDecoder::new(&payload[..]), limit)?,
            other => {
                return Err(Problem::Skip(RecordErrorKind::Warc(format!(
                    "unsupported HTTP Content-Encoding {other:?}"
                ))));
            }
        };
    }
    Ok(typed_body(payload, headers.get("Content-Type").unwrap_or("text/html")))
}

/// Decompresses an HTTP payload, within `limit` bytes.
fn inflate(decoder: impl Read, limit: u64) -> Result<Vec<u8>, Problem> {
    let mut out = Vec::new();
    decoder.take(limit + 1).read_to_end(&mut out).map_err(|e| {
        Problem::Skip(RecordErrorKind::Warc(format!("bad compressed HTTP payload: {e}")))
    })?;
    if out.len() as u64 > limit {
        return Err(Problem::Skip(RecordErrorKind::TooLarge {
            size: out.len() as u64,
            limit: limit as usize,
        }));
    }
    Ok(out)
}

/// Undoes HTTP chunked transfer encoding.
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let Some(eol) = memchr::memchr(b'\n', data) else {
            return Err("chunked payload ends early".into());
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.trim().split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        data = &data[eol + 1..];
        if size == 0 {
            return Ok(out);
        }
        if size > data.len() {
            return Err("chunked payload ends early".into());
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size..];
        data = data.strip_prefix(b"\r\n").or_else(|| data.strip_prefix(b"\n")).unwrap_or(data);
    }
}

/// A document body from content and its media type; `None` when it is not
/// text or HTML.
fn typed_body(content: Vec<u8>, content_type: &str) -> Option<Body> {
    let lower = content_type.to_ascii_lowercase();
    let charset = lower
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("charset="))
        .map(|c| c.trim_matches(['"', '\'']).to_string())
        .next();
    let media = lower.split(';').next().unwrap_or("").trim();
    if media.contains("html") {
        Some(Body::Html { bytes: content, charset, full_text: false })
    } else if media.starts_with("text/plain") || media.is_empty() {
        Some(Body::Text(super::html::decode(&content, charset.as_deref().or(Some("utf-8")))))
    } else {
        None
    }
}

impl<R: BufRead> Iterator for WarcRecords<R> {
    type Item = Result<Document, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let outcome = self.find_record().and_then(|found| {
                if found {
                    self.next_record().map(Some)
                } else {
                    self.done = true;
                    Ok(None)
                }
            });
            let kind = match outcome {
                Ok(Some(Some(doc))) => return Some(Ok(doc)),
                Ok(Some(None)) => {
                    self.ignored += 1;
                    continue;
                }
                Ok(None) => return None,
                Err(Problem::Skip(kind)) => {
                    self.resyncing = true;
                    kind
                }
                Err(Problem::Stop(kind)) => {
                    self.done = true;
                    kind
                }
            };
            return Some(Err(RecordError { origin: self.origin(), kind }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, id: &str, extra: &str, content: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Record-ID: <urn:uuid:{id}>\r\nWARC-Target-URI: http://example.org/{id}\r\nWARC-Date: 2024-05-01T10:00:00Z\r\n{extra}Content-Length: {}\r\n\r\n",
            content.len()
        )
        .into_bytes();
        r.extend_from_slice(content);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    fn response(id: &str, html: &str) -> Vec<u8> {
        let http =
            format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}");
        record(
            "response",
            id,
            "Content-Type: application/http; msgtype=response\r\n",
            http.as_bytes(),
        )
    }

    fn read(data: &[u8]) -> (Vec<Document>, Vec<String>, u64) {
        let mut records = WarcRecords::new(data, "t.warc".into(), ReadOptions::default());
        let (mut docs, mut errors) = (Vec::new(), Vec::new());
        for item in records.by_ref() {
            match item {
                Ok(d) => docs.push(d),
                Err(e) => errors.push(e.to_string()),
            }
        }
        (docs, errors, records.ignored)
    }

    #[test]
    fn reads_responses_resources_and_conversions() {
        let mut data = record(
            "warcinfo",
            "info",
            "Content-Type: application/warc-fields\r\n",
            b"software: test\r\n",
        );
        data.extend(record("request", "req", "", b"GET / HTTP/1.1\r\n\r\n"));
        data.extend(response("page", "<html><body><p>Hello</p></body></html>"));
        data.extend(record(
            "conversion",
            "wet",
            "Content-Type: text/plain\r\n",
            "Plain text from WET ü".as_bytes(),
        ));
        let image = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG";
        data.extend(record("response", "img", "", image));
        let (docs, errors, ignored) = read(&data);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(ignored, 3);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].id, "urn:uuid:page");
        assert_eq!(docs[0].url.as_deref(), Some("http://example.org/page"));
        assert_eq!(docs[0].date.as_deref(), Some("2024-05-01T10:00:00Z"));
        assert!(matches!(&docs[0].body, Body::Html { charset: Some(c), .. } if c == "utf-8"));
        assert!(matches!(&docs[1].body, Body::Text(t) if t == "Plain text from WET ü"));
        assert_eq!(docs[1].origin.to_string(), "t.warc record 4");
    }

    #[test]
    fn chunked_and_gzipped_payloads_are_decoded() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"<html><body>zipped page</body></html>").unwrap();
        let zipped = gz.finish().unwrap();
        let mut chunked = format!("{:x}\r\n", zipped.len()).into_bytes();
        chunked.extend_from_slice(&zipped);
        chunked.extend_from_slice(b"\r\n0\r\n\r\n");
        let mut http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        http.extend(chunked);
        let (docs, errors, _) = read(&record("response", "z", "", &http));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            matches!(&docs[0].body, Body::Html { bytes, .. } if bytes.ends_with(b"zipped page</body></html>"))
        );
    }

    /// The Content-Length a serialized record declares.
    fn content_length(record: &str) -> usize {
        let after = record.split("Content-Length: ").nth(1).unwrap();
        after.split('\r').next().unwrap().parse().unwrap()
    }

    #[test]
    fn a_lying_content_length_costs_one_record() {
        let good = response("a", "<p>first</p>");
        let mut lying = response("b", "<p>second</p>");
        // Claim 40 bytes more than there are: the next record shows up inside.
        let text = String::from_utf8(lying.clone()).unwrap();
        let claimed = content_length(&text);
        lying = text
            .replace(
                &format!("Content-Length: {claimed}"),
                &format!("Content-Length: {}", claimed + 40),
            )
            .into_bytes();
        let next = response("c", "<p>third</p>");
        let (docs, errors, _) = read(&[good, lying, next].concat());
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["urn:uuid:a", "urn:uuid:c"]);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].contains("record 2") && errors[0].contains("Content-Length says"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_too_short_content_length_and_garbage_are_reported() {
        let good = response("a", "<p>first</p>");
        let text = String::from_utf8(response("b", "<p>second page body</p>")).unwrap();
        let claimed = content_length(&text);
        let short = text
            .replace(
                &format!("Content-Length: {claimed}"),
                &format!("Content-Length: {}", claimed - 10),
            )
            .into_bytes();
        let next = response("c", "<p>third</p>");
        let (docs, errors, _) = read(&[good, short, b"some junk line\r\n".to_vec(), next].concat());
        let ids: Vec<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["urn:uuid:a", "urn:uuid:c"]);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("record 2"), "{errors:?}");
    }

    #[test]
    fn a_truncated_last_record_is_reported() {
        let good = response("a", "<p>first</p>");
        let cut = response("b", "<p>second page, cut off in the middle</p>");
        let data = [good, cut[..cut.len() - 20].to_vec()].concat();
        let (docs, errors, _) = read(&data);
        assert_eq!(docs.len(), 1);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("record 2") && errors[0].contains("ends inside"), "{errors:?}");
    }

    #[test]
    fn records_can_be_named_by_their_uri() {
        let options = ReadOptions { warc_id: WarcId::TargetUri, ..ReadOptions::default() };
        let docs: Vec<Document> =
            WarcRecords::new(&response("x", "<p>hi</p>")[..], "t".into(), options)
                .flatten()
                .collect();
        assert_eq!(docs[0].id, "http://example.org/x");
    }
}
