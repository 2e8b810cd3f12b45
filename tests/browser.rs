//! The HTML report in a real browser: headless Chromium driven through
//! chromedriver (WebDriver) with fantoccini.
//!
//! Skipped with a message when chromedriver is not installed, unless
//! `NEARDUP_BROWSER_TESTS=required` (as `.ci/run` sets after installing
//! Debian's `chromium` and `chromium-driver`), where its absence fails.
//! Screenshots are written to `target/report-overview.png` and
//! `target/report-pair.png`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::util::{Dir, neardup, repo};

/// A page's text that tries every way out of its box.
const PAYLOAD: &str = "</script><script>window.__pwned = 1</script>\
    <img src=x onerror=\"window.__pwned = 2\"> \"'><svg onload=window.__pwned=3>";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn find_chromedriver() -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("chromedriver"))
        .find(|p| p.is_file())
}

/// Chrome's browser log (console messages and page errors), a command
/// chromedriver has beside the W3C ones.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(json!({"type": "browser"}).to_string()))
    }
}

fn hostile_documents(dir: &Dir) -> PathBuf {
    let article = crate::util::article("07");
    // The payload in the text and in the id (the file name) of a reprint.
    dir.write("hostile/original.txt", format!("{PAYLOAD}\n\n{article}"));
    dir.write(
        "hostile/x\"><img src=x onerror=window.__pwned=4>.txt",
        format!("{PAYLOAD}\n\n{article}\n\nReprinted with permission."),
    );
    // A page carrying six stories, whose id holds "&", "?" and "#": links
    // to it (the overview's list of pages) must keep the whole id.
    let stories: Vec<String> =
        ["19", "20", "21", "23", "24", "25"].iter().map(|p| crate::util::article(p)).collect();
    dir.write(&format!("hostile/{AWKWARD_ID}"), stories.join("\n\n"));
    dir.join("hostile")
}

/// A file name that breaks URL fragments unless encoded.
const AWKWARD_ID: &str = "page & co?x=1#top.txt";

#[test]
fn the_report_opens_in_a_browser_shows_pairs_and_runs_no_document_text() {
    let Some(chromedriver) = find_chromedriver() else {
        let required = std::env::var("NEARDUP_BROWSER_TESTS").is_ok_and(|v| v == "required");
        assert!(!required, "chromedriver is not installed (Debian: chromium chromium-driver)");
        eprintln!("skipped: chromedriver is not installed (Debian: chromium chromium-driver)");
        return;
    };
    let dir = Dir::new();
    let hostile = hostile_documents(&dir);
    let report = dir.join("report.html");
    let out = neardup()
        .args(["scan", "--quiet", "--html"])
        .arg(&report)
        .arg(repo().join("corpora/demo"))
        .arg(&hostile)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = dir.join("chromium-profile");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(drive(port, &report, &profile));
}

async fn connect(port: u16, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--window-size=1400,1000",
                     format!("--user-data-dir={}", profile.display())],
        }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({"browser": "ALL"}));
    let url = format!("http://127.0.0.1:{port}");
    // chromedriver takes a moment to listen.
    for _ in 0..50 {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(client) => return client,
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    panic!("cannot start a session with chromedriver on port {port}");
}

async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

async fn drive(port: u16, report: &Path, profile: &Path) {
    let client = connect(port, profile).await;
    let page = format!("file://{}", report.display());
    client.goto(&page).await.unwrap();

    // The overview: counts per relation and both charts.
    client.wait().for_element(Locator::Css(".card.rel")).await.unwrap();
    assert_eq!(count(&client, ".card.rel").await, 4);
    assert!(count(&client, "svg rect").await > 0);
    let shot = client.screenshot().await.unwrap();
    std::fs::write(repo().join("target/report-overview.png"), shot).unwrap();

    // A spun pair: highlighted passages on both sides, substitutions above
    // the words, and a click on a passage of a finds it in b.
    client.goto(&format!("{page}#pairs?rel=spun")).await.unwrap();
    let row = client.wait().for_element(Locator::Css("#pair-list tbody tr")).await.unwrap();
    row.click().await.unwrap();
    client.wait().for_element(Locator::Css("#text-a .blk")).await.unwrap();
    assert!(count(&client, "#text-b .blk").await > 0);
    assert!(count(&client, "#text-b .chg[data-was]").await > 0, "substitutions are marked");
    let sentence = client.find(Locator::Id("pair-sentence")).await.unwrap().text().await.unwrap();
    assert!(sentence.contains("synonym-spun rewrite"), "{sentence}");
    client.find(Locator::Css("#text-a .blk")).await.unwrap().click().await.unwrap();
    assert!(count(&client, "#text-b .flash").await > 0, "a click finds the passage in b");
    let shot = client.screenshot().await.unwrap();
    std::fs::write(repo().join("target/report-pair.png"), shot).unwrap();

    // The overview's link to a page whose id holds "&", "?" and "#" lists
    // that page's contained pairs, with the whole id in the search box.
    client.goto(&page).await.unwrap();
    let row = client
        .wait()
        .for_element(Locator::XPath("//tr[contains(., 'page & co?x=1#top')]"))
        .await
        .unwrap();
    row.click().await.unwrap();
    client.wait().for_element(Locator::Css("#pair-list tbody tr")).await.unwrap();
    let query = client
        .execute("return document.querySelector('.filters input[type=search]').value", vec![])
        .await
        .unwrap();
    assert!(query.as_str().unwrap().ends_with(AWKWARD_ID), "{query}");
    let rows = client.find_all(Locator::Css("#pair-list tbody tr")).await.unwrap();
    assert!(rows.len() >= 6, "{} rows", rows.len());
    for row in rows {
        let text = row.text().await.unwrap();
        assert!(text.contains("page & co?x=1#top") && text.contains("contained"), "{text}");
    }

    // Filtering the list by relation and id narrows it.
    client.goto(&format!("{page}#pairs")).await.unwrap();
    client.wait().for_element(Locator::Css("#pair-list tbody tr")).await.unwrap();
    let all = count(&client, "#pair-list tbody tr").await;
    let search = client.find(Locator::Css(".filters input[type=search]")).await.unwrap();
    search.send_keys("theatre").await.unwrap();
    let some = count(&client, "#pair-list tbody tr").await;
    assert!(some > 0 && some < all, "{some} of {all}");

    // A cluster page: the original, and each member's relation to it.
    client.goto(&format!("{page}#clusters")).await.unwrap();
    let row = client.wait().for_element(Locator::Css("tbody tr.row")).await.unwrap();
    row.click().await.unwrap();
    client.wait().for_element(Locator::Css("main table .badge")).await.unwrap();
    let body = client.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("Likely original") && body.contains("with the original"), "{body}");

    // The hostile pair: its text is on the page as text, and nothing ran.
    client.goto(&format!("{page}#pairs?q=original.txt")).await.unwrap();
    let row = client.wait().for_element(Locator::Css("#pair-list tbody tr")).await.unwrap();
    row.click().await.unwrap();
    let text =
        client.wait().for_element(Locator::Id("text-a")).await.unwrap().text().await.unwrap();
    assert!(text.contains("<script>window.__pwned = 1</script>"), "{text}");
    let title = client.find(Locator::Id("pair-title")).await.unwrap().text().await.unwrap();
    assert!(title.contains("<img src=x onerror=window.__pwned=4>"), "{title}");
    let state = client
        .execute(
            "return [typeof window.__pwned, document.querySelectorAll('img, svg[onload], main script').length]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(state, json!(["undefined", 0]));

    // No errors in the console on any of these pages.
    let log = client.issue_cmd(BrowserLog).await.unwrap();
    let errors: Vec<&Value> =
        log.as_array().unwrap().iter().filter(|entry| entry["level"] == "SEVERE").collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    client.close().await.unwrap();
}
