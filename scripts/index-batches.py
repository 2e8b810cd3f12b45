#!/usr/bin/env python3
"""Adds a document set to an index in batches and compares with one scan.

usage: scripts/index-batches.py [SET_DOCS] [BATCHES]

Splits SET_DOCS (default ../shared/devset/mixed/docs; skipped cleanly when
absent) into BATCHES (default 5) JSONL files in a fixed random order, runs
`neardup index add` for each one after another, and checks that
  * the index's final pairs equal those of one `neardup scan` of all batches
    (a, b, relation; the diff is printed),
  * each batch's report holds only pairs that involve that batch,
  * `neardup index verify` passes,
  * `neardup index compact` after the middle batch changes no pair (the
    later batches are added to the merged segment).
Exits 1 on any difference.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "neardup")


def run(*args, ok=(0,)):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        sys.exit(f"{' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p


def pair_set(path):
    out = set()
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            out.add((r["a"], r["b"], r["relation"]))
    return out


def main():
    docs = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "devset", "mixed", "docs")
    batches = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    if not os.path.isdir(docs):
        print(f"skipped: {docs} is absent")
        return 0
    if not os.path.exists(BIN):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    ids = []
    for dirpath, _, files in os.walk(docs):
        for name in files:
            ids.append(os.path.relpath(os.path.join(dirpath, name), docs).replace(os.sep, "/"))
    ids.sort()
    random.Random(7).shuffle(ids)
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for b in range(batches):
            path = os.path.join(tmp, f"batch{b}.jsonl")
            with open(path, "w") as out:
                for doc_id in ids[b::batches]:
                    with open(os.path.join(docs, doc_id), encoding="utf-8", errors="replace") as f:
                        out.write(json.dumps({"id": doc_id, "text": f.read()}) + "\n")
            files.append(path)
        whole = os.path.join(tmp, "scan.jsonl")
        t = time.time()
        run("scan", "--quiet", *files, "--pairs", whole)
        scan_secs = time.time() - t
        index = os.path.join(tmp, "index")
        failures = 0
        add_secs = []
        for b, path in enumerate(files):
            report = os.path.join(tmp, f"new{b}.jsonl")
            t = time.time()
            run("index", "add", "--quiet", "--index", index, path, "--pairs", report)
            add_secs.append(time.time() - t)
            batch_ids = set(ids[b::batches])
            new = pair_set(report)
            outside = [p for p in new if p[0] not in batch_ids and p[1] not in batch_ids]
            print(f"batch {b + 1}: {len(batch_ids)} documents, {len(new)} new pairs, "
                  f"{len(outside)} not involving the batch, {add_secs[-1]:.2f} s")
            failures += len(outside)
            if b == batches // 2:
                before = run("index", "pairs", "--index", index).stdout
                print("  " + run("index", "compact", "--index", index).stdout.strip())
                run("index", "verify", "--index", index)
                if run("index", "pairs", "--index", index).stdout != before:
                    print("  compact changed the pairs")
                    failures += 1
        run("index", "verify", "--index", index)
        final = os.path.join(tmp, "final.jsonl")
        with open(final, "w") as out:
            out.write(run("index", "pairs", "--index", index).stdout)
        a, b = pair_set(whole), pair_set(final)
        print(f"one scan: {len(a)} pairs in {scan_secs:.2f} s; index after {batches} batches: "
              f"{len(b)} pairs in {sum(add_secs):.2f} s")
        for p in sorted(a - b):
            print("  only in scan: ", *p)
        for p in sorted(b - a):
            print("  only in index:", *p)
        failures += len(a ^ b)
        print("diff is empty" if a == b else f"diff: {len(a - b)} only in scan, {len(b - a)} only in index")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
