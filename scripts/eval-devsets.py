#!/usr/bin/env python3
"""Evaluate neardup on the labelled dev sets in ../shared/devset.

usage: scripts/eval-devsets.py [--binary PATH] [--sets near,mixed,...] [-- EXTRA NEARDUP FLAGS]

For every set it runs `neardup scan SET/docs` once (under /usr/bin/time when
available), scores the pairs against SET/truth.json with `neardup eval`, and
prints one block per set: precision, recall and F1, recall per truth relation
and per named group (SET/meta.json), the largest cluster, pairs between two
different stories carried by the same page, wall time and peak memory.

The dev sets are research-only text: they are read in place, never copied.
When ../shared/devset is absent the script says so and exits 0.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVSET = os.path.join(ROOT, "..", "shared", "devset")
SETS = ["near", "negatives", "syndication", "spun", "mixed", "html"]


def run_timed(cmd):
    """Runs cmd; returns (stdout, seconds, peak RSS in MB or None)."""
    timed = os.path.exists("/usr/bin/time")
    full = (["/usr/bin/time", "-f", "%e %M"] if timed else []) + cmd
    p = subprocess.run(full, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    seconds = rss = None
    if timed:
        last = p.stderr.strip().splitlines()[-1].split()
        seconds, rss = float(last[0]), int(last[1]) / 1024
    return p.stdout, seconds, rss


def carried_apart(meta, pairs, clusters, positives):
    """Pairs and clusters that join two stories carried by the same page."""
    docs = meta.get("docs", {})
    apart = {}
    for d in docs.values():
        sources = [c["source"] for c in d.get("carries", [])]
        for s in sources:
            apart.setdefault(s, set()).update(o for o in sources if o != s)

    def forbidden(a, b):
        sa, sb = docs.get(a, {}).get("source"), docs.get(b, {}).get("source")
        return sa and sb and sb in apart.get(sa, ()) and frozenset((a, b)) not in positives

    bad_pairs = sum(1 for p in pairs if forbidden(p["a"], p["b"]))
    bad_clusters = sum(
        1
        for c in clusters
        if any(forbidden(a, b) for i, a in enumerate(c["members"]) for b in c["members"][i + 1 :])
    )
    return bad_pairs, bad_clusters


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    binary = os.path.join(ROOT, "target", "release", "neardup")
    sets = SETS
    while args:
        flag = args.pop(0)
        if flag == "--binary":
            binary = args.pop(0)
        elif flag == "--sets":
            sets = args.pop(0).split(",")
        else:
            sys.exit(__doc__)
    if not os.path.isdir(DEVSET):
        print("../shared/devset is not present: nothing to evaluate")
        return
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: run `cargo build --release` first")
    with tempfile.TemporaryDirectory() as tmp:
        for name in sets:
            base = os.path.join(DEVSET, name)
            if not os.path.isdir(base):
                continue
            pairs_path = os.path.join(tmp, f"{name}.pairs.jsonl")
            clusters_path = os.path.join(tmp, f"{name}.clusters.jsonl")
            _, seconds, rss = run_timed(
                [binary, "scan", "--quiet", "--pairs", pairs_path, "--clusters", clusters_path,
                 os.path.join(base, "docs")] + extra
            )
            out, _, _ = run_timed(
                [binary, "eval", "--quiet", "--format", "json", "--truth", os.path.join(base, "truth.json"),
                 "--groups", os.path.join(base, "meta.json"), os.path.join(base, "docs")] + extra
            )
            e = json.loads(out)
            meta = json.load(open(os.path.join(base, "meta.json")))
            truth = json.load(open(os.path.join(base, "truth.json")))
            positives = {frozenset((a, b)) for a, b, _ in truth["positives"]}
            pairs = [json.loads(l) for l in open(pairs_path)]
            clusters = [json.loads(l) for l in open(clusters_path)]
            bad_pairs, bad_clusters = carried_apart(meta, pairs, clusters, positives)
            o = e["overall"]
            print(f"== {name}: precision {o['precision']:.4f}  recall {o['recall']:.4f}  F1 {o['f1']:.4f}"
                  f"  (tp {o['tp']}, fp {o['fp']}, fn {o['fn']})")
            rel = "  ".join(f"{r['relation']} {r['found']}/{r['truth']}" for r in e["relations"] if r["truth"])
            if rel:
                print(f"   recall by relation: {rel}")
            groups = "  ".join(f"{g['name']} {g['found']}/{g['total']}" for g in e["groups"])
            if groups:
                print(f"   recall by group: {groups}")
            largest = max((c["size"] for c in clusters), default=0)
            timing = f"{seconds:.2f} s, peak RSS {rss:.0f} MB" if seconds is not None else "n/a"
            print(f"   clusters {len(clusters)}, largest {largest}; pairs/clusters joining two stories of one page:"
                  f" {bad_pairs}/{bad_clusters}; scan {timing}")
            fps = e["false_positives"][:5]
            if fps:
                print("   first false positives: " + "; ".join(f"{p['a']} {p['b']} {p['relation']}" for p in fps))


if __name__ == "__main__":
    main()
