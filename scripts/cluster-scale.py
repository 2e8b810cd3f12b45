#!/usr/bin/env python3
"""Distributed scan (feature `cluster`) against the single-machine scan.

Usage: scripts/cluster-scale.py [DOCS] [CONFIGS...]

Generates (or reuses) the synthetic corpus of DOCS documents (default
100000) in target/scale/, scans it once with `neardup scan`, then with each
CONFIG, a `PROCESSESxWORKERS` string (default: 1x2 2x1 2x2 3x2), all processes
on this machine over loopback. Checks that every run writes the single scan's
pairs and clusters byte for byte, and prints wall time, throughput, the sum
of the processes' peak RSS and the bytes sent between processes per document.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "scale")
BIN = os.path.join(ROOT, "target", "release", "neardup")
GEN = os.path.join(ROOT, "target", "release", "examples", "synth-corpus")


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def run_cluster(corpus, processes, workers, out):
    """Wall seconds, summed peak RSS (MB) and process 0's stats."""
    hosts = os.path.join(out, "hosts.txt")
    with open(hosts, "w") as f:
        f.writelines(f"127.0.0.1:{p}\n" for p in free_ports(processes))
    stats = os.path.join(out, "stats.json")
    results = [None] * processes

    def one(i):
        cmd = [BIN, "scan", "--quiet", corpus, "--workers", str(workers), "--processes",
               str(processes), "--process", str(i), "--hostfile", hosts]
        if i == 0:
            cmd += ["--pairs", os.path.join(out, "pairs.jsonl"), "--clusters",
                    os.path.join(out, "clusters.jsonl"), "--stats", stats]
        results[i] = timed(cmd)

    started = time.time()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(processes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - started
    if any(r is None for r in results):
        raise SystemExit("a process failed")
    with open(stats) as f:
        return wall, sum(r[1] for r in results), json.load(f)


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def main():
    docs = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    configs = sys.argv[2:] or ["1x2", "2x1", "2x2", "3x2"]
    os.makedirs(WORK, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--features", "cluster", "--bin",
                    "neardup", "--example", "synth-corpus"], cwd=ROOT, check=True)
    corpus = os.path.join(WORK, f"corpus-{docs}.jsonl")
    if not os.path.exists(corpus):
        subprocess.run([GEN, "--docs", str(docs), "--out", corpus], check=True,
                       capture_output=True)
    mb = os.path.getsize(corpus) / 1e6
    single = os.path.join(WORK, f"cluster-single-{docs}")
    os.makedirs(single, exist_ok=True)
    wall, rss, _ = timed([BIN, "scan", "--quiet", corpus, "--pairs",
                          os.path.join(single, "pairs.jsonl"), "--clusters",
                          os.path.join(single, "clusters.jsonl")])
    machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, {machine}; corpus: {docs:,} documents, {mb:.0f} MB")
    print("\n| run | workers | wall | MB/s | peak RSS (sum) | between processes | same output |")
    print("|---|---|---|---|---|---|---|")
    print(f"| `scan` | rayon, {os.cpu_count()} threads | {wall:.1f} s | {mb / wall:.1f} | "
          f"{rss:.0f} MB | — | — |", flush=True)
    notes = []
    for config in configs:
        processes, workers = (int(x) for x in config.split("x"))
        out = os.path.join(WORK, f"cluster-{config}-{docs}")
        os.makedirs(out, exist_ok=True)
        wall, rss, stats = run_cluster(corpus, processes, workers, out)
        equal = all(same(os.path.join(out, f), os.path.join(single, f))
                    for f in ("pairs.jsonl", "clusters.jsonl"))
        per_doc = stats["remote_bytes"] / docs
        print(f"| {processes} process{'es' if processes > 1 else ''} × {workers} | "
              f"{processes * workers} | {wall:.1f} s | {mb / wall:.1f} | {rss:.0f} MB | "
              f"{per_doc / 1e3:.1f} kB/doc | {'yes' if equal else 'NO'} |", flush=True)
        rounds = ", ".join(f"{r['round']} {r['work_seconds'] + r['round_seconds']:.1f} s"
                           for r in stats["rounds"])
        notes.append(f"- {config}: components {stats['components']:,} (largest "
                     f"{stats['largest_component']:,}, {stats['documents_in_components']:,} "
                     f"documents); process 0, worker 0: {rounds}")
        if not equal:
            raise SystemExit(f"{config}: output differs from the single scan")
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
