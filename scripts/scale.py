#!/usr/bin/env python3
"""How `neardup scan` scales: corpus size, thread count, determinism.

    python3 scripts/scale.py [--sizes 10000,100000,1000000] [--one-thread-max N]
                             [--repeat N] [--work DIR]

For each size the project's generator (`examples/synth_corpus`, seed 1)
writes a JSONL corpus into the work folder (default `target/scale`; reused
when present). The script then times `neardup scan` with its defaults (all
views) with 2 threads, and with 1 thread up to `--one-thread-max`
documents (default 100,000), and prints, per run: wall time, file MB/s,
peak RSS, peak RSS per document, and the time per document relative to the
smallest corpus (1.00 = linear), then the time of each stage. With
`--repeat N` each run is made N times, the thread counts taking turns, and
the median wall time (and the largest peak RSS) is reported with every
time listed: on a virtual machine the first run that touches fresh memory
pays for it (a 1M scan's kernel time was 47 s in one run and 17 s in the
next), and one run cannot tell that from the program. Each run reads its
corpus once before it is timed, so that none reads it from disk (the
development machine drops file pages unused for a minute: see
`timing.warm`). A run with
T threads is pinned to T cores (`taskset`), so the thread scaling is the
scaling over cores. For every size run with both thread counts, the pairs
and clusters files must be byte-identical: any difference fails the script
(exit 1).
"""

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed, warm  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("NEARDUP_BIN", os.path.join(ROOT, "target", "release", "neardup"))
GEN = os.path.join(ROOT, "target", "release", "examples", "synth-corpus")


def corpus(work, n):
    path = os.path.join(work, f"corpus-{n}.jsonl")
    if not os.path.exists(path):
        tmp = path + ".part"
        subprocess.run([GEN, "--docs", str(n), "--out", tmp], check=True,
                       stdout=subprocess.DEVNULL)
        os.replace(tmp, path)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--one-thread-max", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each size and thread count (median reported)")
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "scale"))
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(args.work, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "neardup",
                    "--example", "synth-corpus"], cwd=ROOT, check=True)
    rows, base, failed = [], {}, False
    for n in sizes:
        path = corpus(args.work, n)
        mb = os.path.getsize(path) / 1e6
        outputs = {}
        thread_counts = [t for t in (2, 1) if t == 2 or n <= args.one_thread_max]
        runs = {t: [] for t in thread_counts}
        for _ in range(max(args.repeat, 1)):
            for threads in thread_counts:
                pairs = os.path.join(args.work, f"pairs-{n}-t{threads}.jsonl")
                clusters = os.path.join(args.work, f"clusters-{n}-t{threads}.jsonl")
                stats = os.path.join(args.work, f"stats-{n}-t{threads}.json")
                # Pinned to as many cores as threads: neardup's reader and
                # writer threads would otherwise give a 1-thread run a
                # second core.
                cores = ",".join(str(c) for c in range(threads))
                warm(path)
                wall, rss, _ = timed(["taskset", "-c", cores, BIN, "scan", "--quiet",
                                      "--threads", str(threads), path,
                                      "--pairs", pairs, "--clusters", clusters,
                                      "--stats", stats])
                with open(stats) as f:
                    timings = json.load(f)["timings"]
                runs[threads].append((wall, rss, timings))
                outputs[threads] = (pairs, clusters)
        for threads in thread_counts:
            walls = sorted(r[0] for r in runs[threads])
            wall = statistics.median(walls)
            rss = max(r[1] for r in runs[threads])
            # The stages of the run nearest the median.
            timings = min(runs[threads], key=lambda r: abs(r[0] - wall))[2]
            per_doc = wall / n
            base.setdefault(threads, per_doc)
            rows.append((n, threads, wall, mb / wall, rss, rss * 1e6 / n,
                         per_doc / base[threads]))
            each = f" (runs: {', '.join(f'{w:.1f}' for w in walls)} s)" if len(walls) > 1 else ""
            print(f"{n:>9} docs, {threads} thread(s): {wall:7.1f} s  {mb / wall:6.1f} MB/s  "
                  f"peak {rss:6.0f} MB ({rss * 1e6 / n:,.0f} B/doc)  "
                  f"time/doc vs smallest {per_doc / base[threads]:.2f}{each}", flush=True)
            print("          stages: " + ", ".join(
                f"{k} {v['secs'] + v['nanos'] / 1e9:.1f} s" for k, v in timings.items()))
        if 1 in outputs and 2 in outputs:
            same = all(filecmp.cmp(a, b, shallow=False)
                       for a, b in zip(outputs[1], outputs[2]))
            print(f"{n:>9} docs: output with 1 and 2 threads "
                  f"{'byte-identical' if same else 'DIFFERS'}")
            failed |= not same
        speedups = [r for r in rows if r[0] == n]
        if len(speedups) == 2:
            print(f"{n:>9} docs: 2 threads are {speedups[1][2] / speedups[0][2]:.2f}x "
                  f"as fast as 1")
    print()
    print("| documents | threads | wall | MB/s (file) | peak RSS | RSS / doc | time/doc vs smallest |")
    print("|---|---|---|---|---|---|---|")
    for n, t, wall, mbs, rss, per, rel in rows:
        print(f"| {n:,} | {t} | {wall:.1f} s | {mbs:.1f} | {rss:.0f} MB | {per:,.0f} B | {rel:.2f} |")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
