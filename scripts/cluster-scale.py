#!/usr/bin/env python3
"""Distributed scan (feature `cluster`) against the single-machine scan.

Usage: scripts/cluster-scale.py [--dedup] [DOCS] [CONFIGS...]

Generates (or reuses) the synthetic corpus of DOCS documents (default
100000) in target/scale/, scans it once with `neardup scan`, then with each
CONFIG, a `PROCESSESxWORKERS` string (default: 1x2 2x1 2x2 3x2), all processes
on this machine over loopback. Checks that every run writes the single scan's
pairs and clusters byte for byte, and prints wall time, throughput, the sum
of the processes' peak RSS and the bytes sent between processes per document.

With --dedup, runs `neardup dedup` instead (gzip output), and checks that the
processes' kept parts, joined in order, decompress to the single dedup's kept
records and that the removed lists are equal.
"""

import gzip
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import WORK, BIN, prepare, write_hostfile  # noqa: E402
from timing import timed  # noqa: E402


def outputs(command, out):
    """The output flags of a `command` run writing into `out`."""
    if command == "dedup":
        return ["--output", os.path.join(out, "kept.jsonl.gz"), "--removed",
                os.path.join(out, "removed.jsonl")]
    return ["--pairs", os.path.join(out, "pairs.jsonl"), "--clusters",
            os.path.join(out, "clusters.jsonl")]


def run_cluster(command, corpus, processes, workers, out):
    """Wall seconds, summed peak RSS (MB) and process 0's stats."""
    hosts = os.path.join(out, "hosts.txt")
    write_hostfile(hosts, processes)
    stats = os.path.join(out, "stats.json")
    results = [None] * processes

    def one(i):
        cmd = [BIN, command, "--quiet", corpus, "--workers", str(workers), "--processes",
               str(processes), "--process", str(i), "--hostfile", hosts]
        if i == 0:
            cmd += outputs(command, out)
            if command == "scan":
                cmd += ["--stats", stats]
        elif command == "dedup":
            cmd += ["--output", os.path.join(out, "kept.jsonl.gz")]
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
    if command != "scan":
        return wall, sum(r[1] for r in results), None
    with open(stats) as f:
        return wall, sum(r[1] for r in results), json.load(f)


def same(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def kept_text(path):
    """The decompressed kept records of a dedup (of all its parts, in order)."""
    folder, name = os.path.split(path)
    parts = sorted(f for f in os.listdir(folder) if f.startswith("kept-") and "-of-" in f)
    data = b""
    for part in parts or [name]:
        with gzip.open(os.path.join(folder, part)) as f:
            data += f.read()
    return data


def same_output(command, out, single):
    if command == "dedup":
        return (kept_text(os.path.join(out, "kept.jsonl.gz"))
                == kept_text(os.path.join(single, "kept.jsonl.gz"))
                and same(os.path.join(out, "removed.jsonl"),
                         os.path.join(single, "removed.jsonl")))
    return all(same(os.path.join(out, f), os.path.join(single, f))
               for f in ("pairs.jsonl", "clusters.jsonl"))


def main():
    args = sys.argv[1:]
    command = "scan"
    if args and args[0] == "--dedup":
        command = "dedup"
        args = args[1:]
    docs = int(args[0]) if args else 100_000
    configs = args[1:] or ["1x2", "2x1", "2x2", "3x2"]
    corpus = prepare(docs)
    mb = os.path.getsize(corpus) / 1e6
    single = os.path.join(WORK, f"cluster-{command}-single-{docs}")
    os.makedirs(single, exist_ok=True)
    wall, rss, _ = timed([BIN, command, "--quiet", corpus] + outputs(command, single))
    machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    print(f"machine: {os.cpu_count()} cores, {machine}; corpus: {docs:,} documents, {mb:.0f} MB")
    print("\n| run | workers | wall | MB/s | peak RSS (sum) | between processes | same output |")
    print("|---|---|---|---|---|---|---|")
    print(f"| `{command}` | rayon, {os.cpu_count()} threads | {wall:.1f} s | {mb / wall:.1f} | "
          f"{rss:.0f} MB | — | — |", flush=True)
    notes = []
    for config in configs:
        processes, workers = (int(x) for x in config.split("x"))
        out = os.path.join(WORK, f"cluster-{command}-{config}-{docs}")
        os.makedirs(out, exist_ok=True)
        for f in os.listdir(out):
            os.remove(os.path.join(out, f))
        wall, rss, stats = run_cluster(command, corpus, processes, workers, out)
        equal = same_output(command, out, single)
        between = f"{stats['remote_bytes'] / docs / 1e3:.1f} kB/doc" if stats else "—"
        print(f"| {processes} process{'es' if processes > 1 else ''} × {workers} | "
              f"{processes * workers} | {wall:.1f} s | {mb / wall:.1f} | {rss:.0f} MB | "
              f"{between} | {'yes' if equal else 'NO'} |", flush=True)
        if not equal:
            raise SystemExit(f"{config}: output differs from the single {command}")
        if not stats:
            continue
        rounds = ", ".join(f"{r['round']} {r['work_seconds'] + r['round_seconds']:.1f} s"
                           for r in stats["rounds"])
        notes.append(f"- {config}: components {stats['components']:,} (largest "
                     f"{stats['largest_component']:,}, {stats['documents_in_components']:,} "
                     f"documents); process 0, worker 0: {rounds}")
    print()
    print("\n".join(notes))


if __name__ == "__main__":
    main()
