#!/usr/bin/env python3
"""Write seed corpora for the fuzz targets of fuzz/ from the project's own
demo corpus (corpora/demo) and an index built from it.

usage: scripts/fuzz-seeds.py NEARDUP OUT

NEARDUP is a built neardup binary (used to build the index whose files seed
the index_file target). OUT gets one folder per target. Seeds are small
(libFuzzer mutates whole inputs); they cover plain, gzip and zstd streams,
damaged records, and each kind of index file both as written and framed
(see fuzz/fuzz_targets/index_file.rs).
"""
import gzip
import importlib.util
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEMO = ROOT / "corpora" / "demo"


def load_script(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), ROOT / "scripts" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def zstd(data):
    if shutil.which("zstd") is None:
        return None
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def texts(limit=6, chars=1500):
    files = sorted(p for p in DEMO.rglob("*") if p.suffix in (".txt", ".md"))
    return [(str(p.relative_to(DEMO)), p.read_text()[:chars]) for p in files[:limit]]


def compressed_variants(folder, stem, data):
    write(folder, f"{stem}.plain", data)
    write(folder, f"{stem}.gz", gzip.compress(data))
    z = zstd(data)
    if z is not None:
        write(folder, f"{stem}.zst", z)


def jsonl_seeds(out):
    docs = texts()
    lines = [json.dumps({"id": i, "text": t, "date": "2024-05-01", "url": f"https://example.org/{i}"}) for i, t in docs]
    compressed_variants(out, "demo", ("\n".join(lines) + "\n").encode())
    bad = lines[:2] + ["not json", '{"id": "x"}', '{"id": 5, "text": 7}', '{"id": "y", "text": "caf\xc3"}']
    compressed_variants(out, "bad-lines", "\n".join(bad).encode("utf-8", "surrogateescape"))
    dup = [lines[0], lines[0], json.dumps({"id": "w", "text": "word " * 300})]
    compressed_variants(out, "duplicates", "\n".join(dup).encode())


def warc_seeds(out):
    warc = load_script("folder-to-warc.py")
    records = [warc.record(f"https://example.org/{i}", t, n) for n, (i, t) in enumerate(texts(3, 800))]
    plain = b"".join(gzip.decompress(r) for r in records)
    compressed_variants(out, "demo", plain)
    write(out, "members.gz", b"".join(records))
    lying = plain.replace(b"Content-Length: ", b"Content-Length: 9", 1)
    write(out, "lying-length.plain", lying)
    write(out, "truncated.plain", plain[: len(plain) // 2])
    wet = b"".join(
        b"WARC/1.0\r\nWARC-Type: conversion\r\nWARC-Target-URI: https://example.org/" + i.encode()
        + b"\r\nWARC-Record-ID: <urn:uuid:" + str(n).encode() + b">\r\nContent-Length: "
        + str(len(t.encode())).encode() + b"\r\n\r\n" + t.encode() + b"\r\n\r\n"
        for n, (i, t) in enumerate(texts(3, 600))
    )
    compressed_variants(out, "wet", wet)


def html_seeds(out):
    warc = load_script("folder-to-warc.py")
    for n, (_, t) in enumerate(texts(4, 2000)):
        write(out, f"page-{n}", bytes([n]) + warc.page(t).encode())
    chrome = (
        "<html><head><title>A story | The Courier</title><script>var a = 1 < 2;</script>"
        "<style>p{}</style></head><body><nav><a href='/'>Home</a></nav><main><p>First para.</p>"
        "<p>Second &amp; last para.</p><svg><text>x</text></svg></main><footer>Cookies</footer></body></html>"
    )
    write(out, "chrome", b"\x01" + chrome.encode())
    write(out, "nested", b"\x00" + ("<div>" * 600 + "deep text" + "</div>" * 600).encode())
    write(out, "latin1", b"\x02<meta charset=iso-8859-1><p>caf\xe9 cr\xe8me</p>")


def sections(blob):
    """The sections of an index file (see src/index/format.rs)."""
    count = struct.unpack_from("<I", blob, 24)[0]
    offset = 28 + 16 * count + 8
    out = []
    for i in range(count):
        length = struct.unpack_from("<Q", blob, 28 + 16 * i)[0]
        out.append(blob[offset : offset + length])
        offset += length
    return out


def index_seeds(neardup, out):
    with tempfile.TemporaryDirectory() as tmp:
        index = pathlib.Path(tmp) / "index"
        for part in ("articles", "copies"):
            subprocess.run([neardup, "index", "add", "-q", "--index", str(index), str(DEMO / part)],
                           check=True, capture_output=True)
        kinds = {"MANIFEST": 0}
        for path in sorted(index.iterdir()):
            blob = path.read_bytes()
            if path.name == "MANIFEST":
                mode = 0
            elif blob[12:16] == struct.pack("<I", 2):
                mode = 1
            elif blob[12:16] == struct.pack("<I", 3):
                mode = 2
            else:
                continue
            kinds[path.name] = mode
            write(out, f"raw-{path.name}", bytes([mode]) + blob)
            framed = b"".join(struct.pack("<H", min(len(s), 0xFFFF)) + s[:0xFFFF] for s in sections(blob))
            write(out, f"framed-{path.name}", bytes([mode | 0x80]) + framed)


def truth_seeds(out):
    write(out, "demo.json", (DEMO / "truth.json").read_bytes())
    write(out, "small.json", b'{"docs": ["a", "b"], "positives": [["a", "b", "near_duplicate"]]}')


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    neardup, out = sys.argv[1], pathlib.Path(sys.argv[2])
    jsonl_seeds(out / "jsonl")
    warc_seeds(out / "warc")
    html_seeds(out / "html")
    index_seeds(neardup, out / "index_file")
    truth_seeds(out / "truth")
    for target in sorted(os.listdir(out)):
        print(f"{target}: {len(os.listdir(out / target))} seeds")


if __name__ == "__main__":
    main()
