#!/usr/bin/env python3
"""What an `index add` of a new batch costs as the index grows.

usage: scripts/index-scale.py WORK_DIR BASE_DOCS [BATCH_DOCS] [STEP_DOCS]

Generates BASE_DOCS + BATCH_DOCS documents with the project's generator
(examples/synth_corpus; document n is the same whatever the corpus size, and
later documents copy, spin and carry earlier ones), builds an index of the
first BASE_DOCS in adds of STEP_DOCS (default 100,000), then times:
  * adding the last BATCH_DOCS (default 10,000) to that index,
  * the same after `index compact`,
  * one `neardup scan` of all BASE_DOCS + BATCH_DOCS (what the index saves),
with wall time and peak RSS (from /usr/bin/time), and the index's bytes on
disk per document. Needs about 4 KB of disk per document for the corpus
and 6 KB for the index.
"""
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# NEARDUP_BIN: a copy of the binary, so that rebuilding during a long run
# does not change what is measured.
BIN = os.environ.get("NEARDUP_BIN", os.path.join(ROOT, "target", "release", "neardup"))
GEN = os.path.join(ROOT, "target", "release", "examples", "synth-corpus")


def timed(*args):
    """Runs neardup under /usr/bin/time; returns (seconds, peak RSS MB, stderr)."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", BIN, *args],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    m = re.search(r"TIME (\S+) (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return float(m.group(1)), int(m.group(2)) / 1024, p.stderr


def du(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    work, base = sys.argv[1], int(sys.argv[2])
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000
    step = int(sys.argv[4]) if len(sys.argv) > 4 else 100_000
    os.makedirs(work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "neardup",
                    "--example", "synth-corpus"], cwd=ROOT, check=True)
    corpus = os.path.join(work, f"corpus-{base + batch}.jsonl")
    if not os.path.exists(corpus):
        subprocess.run([GEN, "--docs", str(base + batch), "--out", corpus], check=True)
    chunks, new = [], os.path.join(work, "new.jsonl")
    with open(corpus) as f:
        out, n = None, 0
        for line in f:
            if n % step == 0 and n < base:
                if out:
                    out.close()
                chunks.append(os.path.join(work, f"base-{n // step:03}.jsonl"))
                out = open(chunks[-1], "w")
            if n == base:
                out.close()
                out = open(new, "w")
            out.write(line)
            n += 1
        out.close()
    text_mb = sum(len(json.loads(line)["text"].encode()) for line in open(new)) / 1e6

    index = os.path.join(work, "index")
    shutil.rmtree(index, ignore_errors=True)
    build = 0.0
    for c in chunks:
        secs, rss, _ = timed("index", "add", "--quiet", "--index", index, c)
        build += secs
        print(f"build: {os.path.basename(c)} added in {secs:.1f} s, peak RSS {rss:.0f} MB",
              flush=True)
    size = du(index)
    rows = []
    for label, compact in (("segments as built", False), ("after compact", True)):
        target = os.path.join(work, "index-try")
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(index, target)
        if compact:
            secs, rss, _ = timed("index", "compact", "--index", target)
            rows.append((f"compact {base:,} documents", secs, rss))
            size = du(target)
        secs, rss, err = timed("index", "add", "--index", target, new)
        summary = [line for line in err.splitlines() if "documents read" in line]
        print(f"add ({label}): {summary[-1] if summary else ''}", flush=True)
        rows.append((f"add {batch:,} to {base:,} ({label})", secs, rss))
        shutil.rmtree(target)
    secs, rss, _ = timed("scan", "--quiet", "--pairs", os.devnull, *chunks, new)
    rows.append((f"scan all {base + batch:,} again", secs, rss))
    print(f"\nindex of {base:,} documents: {len(chunks)} adds in {build:.0f} s; "
          f"{size / 1e6:.0f} MB on disk after compact = {size / base:.0f} bytes per document")
    print(f"batch: {batch:,} documents, {text_mb:.1f} MB of text\n")
    print("| run | wall | peak RSS |\n|---|---|---|")
    for label, secs, rss in rows:
        print(f"| {label} | {secs:.1f} s | {rss:.0f} MB |")


if __name__ == "__main__":
    main()
