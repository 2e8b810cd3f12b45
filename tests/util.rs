//! Test helpers: temporary folders, the binary, the corpora.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// The `neardup` binary built for this test run.
pub fn neardup() -> Command {
    Command::new(env!("CARGO_BIN_EXE_neardup"))
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared/devset`, when this checkout has it.
pub fn devset() -> Option<PathBuf> {
    let path = repo().join("../shared/devset");
    if path.join("near/truth.json").exists() {
        Some(path)
    } else {
        eprintln!("skipping: ../shared/devset is not present");
        None
    }
}

/// The text of a hand-written demo article, by file-name prefix (`"07"`).
pub fn article(prefix: &str) -> String {
    let dir = repo().join("corpora/demo/articles");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    names.sort();
    std::fs::read_to_string(&names[0]).unwrap()
}

/// A temporary folder that files can be written into.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir { tmp: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `contents` to `name` (creating parent folders) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

/// Parses JSON lines.
pub fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The pair records of `neardup scan --format jsonl ARGS INPUT` (which must
/// succeed).
pub fn scan_records(args: &[&str], input: &Path) -> Vec<Value> {
    let out = neardup()
        .args(["scan", "--quiet", "--format", "jsonl"])
        .args(args)
        .arg(input)
        .assert()
        .success();
    jsonl(&String::from_utf8_lossy(&out.get_output().stdout))
}

/// Reads a JSONL file.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    jsonl(&std::fs::read_to_string(path).unwrap())
}

/// `(a, b, relation)` of each pair record.
pub fn pair_triples(records: &[Value]) -> Vec<(String, String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["a"].as_str().unwrap().to_string(),
                r["b"].as_str().unwrap().to_string(),
                r["relation"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Drops the paragraph at `index` (paragraphs are separated by blank lines).
pub fn drop_paragraph(text: &str, index: usize) -> String {
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    paragraphs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != index)
        .map(|(_, p)| *p)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// gzip-compresses `data` as one member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// zstd-compresses `data`.
pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).unwrap()
}

/// One WARC record with the given type, extra headers and block.
pub fn warc_record(kind: &str, headers: &[(&str, &str)], block: &[u8]) -> Vec<u8> {
    let mut out = format!("WARC/1.1\r\nWARC-Type: {kind}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(block);
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes
}

/// A WARC `response` record holding an HTTP 200 response with `html`.
pub fn warc_response(id: &str, uri: &str, date: &str, html: &str) -> Vec<u8> {
    let http = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n{html}",
        html.len()
    );
    warc_record(
        "response",
        &[
            ("WARC-Record-ID", &format!("<urn:uuid:{id}>")),
            ("WARC-Target-URI", uri),
            ("WARC-Date", date),
            ("Content-Type", "application/http; msgtype=response"),
        ],
        http.as_bytes(),
    )
}

/// A news page of site `site` around an article: navigation, the article,
/// related links and a footer, the chrome a crawled page has.
pub fn html_page(site: &str, article: &str) -> String {
    // Each non-empty line is a paragraph, so that texts which differ only in
    // line breaks give pages of the same structure.
    let mut paragraphs = article.lines().map(str::trim).filter(|p| !p.is_empty());
    let headline = paragraphs.next().unwrap_or_default();
    let body: String = paragraphs.map(|p| format!("<p>{p}</p>\n")).collect();
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{headline} | {site}</title>\
         <script>var tracking = 'do not read me';</script><style>p {{ margin: 0 }}</style></head>\
         <body><nav><a href=\"/\">{site} home</a> <a href=\"/news\">News</a> <a href=\"/sport\">Sport</a> \
         <a href=\"/weather\">Weather</a> <a href=\"/login\">Sign in</a></nav>\
         <main><article><h1>{headline}</h1>\n{body}</article></main>\
         <aside><h2>Most read on {site}</h2><ul><li><a href=\"/a\">Council votes on parking charges</a></li>\
         <li><a href=\"/b\">Weekend weather: sunshine and showers</a></li></ul></aside>\
         <footer>Download the {site} app. Follow us on social media. We use cookies. \
         Copyright {site} Media Group.</footer></body></html>"
    )
}
