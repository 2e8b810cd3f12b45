#!/usr/bin/env python3
"""Wrap a folder of text documents as HTML pages in a WARC.gz.

usage: scripts/folder-to-warc.py DIR OUT.warc.gz [--base URI]

Every .txt/.md file under DIR becomes one WARC `response` record (its own
gzip member, as crawlers write them) holding an HTTP 200 response with an
HTML page: the first paragraph as <title> and <h1>, the other paragraphs as
<p>, text HTML-escaped. The target URI is BASE + the file's path relative
to DIR, so `neardup scan --warc-id uri` names each record like the file
(after the base). Used to check that a crawl gives the same pairs as the
folder (see ARCHITECTURE.md); no text is stored in the repository.
"""
import gzip
import html
import os
import sys
import uuid


def page(text):
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    title = html.escape(paragraphs[0].replace("\n", " ")) if paragraphs else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs[1:])
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
        f"<title>{title}</title></head><body><article><h1>{title}</h1>\n{body}\n"
        "</article></body></html>"
    )


def record(uri, text, n):
    payload = page(text).encode("utf-8")
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        + f"Content-Length: {len(payload)}\r\n\r\n".encode()
        + payload
    )
    rid = uuid.UUID(int=n)
    head = (
        "WARC/1.1\r\nWARC-Type: response\r\n"
        f"WARC-Record-ID: <urn:uuid:{rid}>\r\n"
        f"WARC-Target-URI: {uri}\r\n"
        "WARC-Date: 2024-01-01T00:00:00Z\r\n"
        "Content-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + http + b"\r\n\r\n", compresslevel=6)


def main():
    args = sys.argv[1:]
    base = "http://corpus.invalid/"
    if "--base" in args:
        i = args.index("--base")
        base = args[i + 1]
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    root, out = args
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".txt", ".md")) and not name.startswith("."):
                files.append(os.path.join(dirpath, name))
    files.sort(key=lambda p: os.path.relpath(p, root))
    with open(out, "wb") as w:
        for n, path in enumerate(files, 1):
            with open(path, encoding="utf-8") as f:
                text = f.read()
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            w.write(record(base + rel, text, n))
    print(f"{len(files)} records -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
