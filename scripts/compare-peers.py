#!/usr/bin/env python3
"""neardup and the peers a user would pick instead, side by side, in one run.

usage: scripts/compare-peers.py [DOCS ...]      (default: 10000 100000)

Installs datasketch, rensa and gaoya (pinned versions, from PyPI) into a
virtual environment under target/peers/, generates each corpus with the
project's generator (examples/synth_corpus, JSONL), and runs on each:
  * `neardup scan` with its defaults (every view: near-duplicates,
    containment, spun copies; pairs verified, clusters built),
  * each peer's MinHash LSH pipeline (scripts/peers.py: word 5-shingles,
    128 permutations, 16 bands of 8 rows),
one after another on the same machine, so that machine noise mostly
cancels. The corpus is read once before each run so that every tool
starts with it in the page cache (see `timing.warm`). Prints wall time,
text MB/s, peak RSS (from /usr/bin/time) and how many times longer each
tool takes than neardup. The peers find candidate pairs only (gaoya also
checks the estimated Jaccard); neardup does more work per pair.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed, warm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "peers")
PEERS = {"datasketch": "datasketch==2.0.0", "rensa": "rensa==0.5.0", "gaoya": "gaoya==0.2.2"}
BIN = os.path.join(ROOT, "target", "release", "neardup")
GEN = os.path.join(ROOT, "target", "release", "examples", "synth-corpus")


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [10_000, 100_000]
    os.makedirs(WORK, exist_ok=True)
    venv = os.path.join(WORK, "venv")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([python, "-m", "pip", "install", "--quiet", *PEERS.values()], check=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "neardup",
                    "--example", "synth-corpus"], cwd=ROOT, check=True)
    machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, {machine}")
    rows = []
    for n in sizes:
        corpus = os.path.join(WORK, f"corpus-{n}.jsonl")
        if not os.path.exists(corpus):
            subprocess.run([GEN, "--docs", str(n), "--out", corpus], check=True,
                           capture_output=True)
        text_mb = None
        results = {}
        pairs_file = os.path.join(WORK, f"neardup-{n}.pairs.jsonl")
        warm(corpus)
        wall, rss, _ = timed([BIN, "scan", "--quiet", corpus, "--pairs", pairs_file])
        with open(pairs_file) as f:
            results["neardup"] = (wall, rss, sum(1 for _ in f))
        for tool in PEERS:
            warm(corpus)
            wall, rss, out = timed([python, os.path.join(ROOT, "scripts", "peers.py"), tool,
                                    corpus])
            report = json.loads(out.strip().splitlines()[-1])
            text_mb = report["text_bytes"] / 1e6
            results[tool] = (wall, rss, report["pairs"])
            print(f"{n:,} documents: {tool} {wall:.1f} s", flush=True)
        base = results["neardup"][0]
        for tool, (wall, rss, pairs) in results.items():
            rows.append((f"{n:,} ({text_mb:.0f} MB)", tool, wall, text_mb / wall, rss, pairs,
                         wall / base))
    print("\n| corpus | tool | wall | text MB/s | peak RSS | pairs | time / neardup's |")
    print("|---|---|---|---|---|---|---|")
    for corpus, tool, wall, mbs, rss, pairs, ratio in rows:
        print(f"| {corpus} | {tool} | {wall:.1f} s | {mbs:.1f} | {rss:.0f} MB | {pairs:,} "
              f"| {ratio:.2f} |")


if __name__ == "__main__":
    main()
