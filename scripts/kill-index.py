#!/usr/bin/env python3
"""Kills `neardup index add` and `index compact` at random moments.

usage: scripts/kill-index.py [KILLS] [SEED]

NEARDUP_BUILD=debug uses target/debug (as CI does, after `cargo test`).

Generates a corpus with the project's generator (examples/synth_corpus),
splits it into batches, and adds them to an index one after another while
killing the writer with SIGKILL at a random moment, KILLS times (default
100). Now and then a compaction is started and killed instead. A killed
batch is added again later, as a cron job would. After every kill:
  * `neardup index verify` must pass (the index opens and every file
    checks),
  * every batch whose `add` had reported success must still be there:
    `neardup index query` of those batches must find all of their documents
    already indexed.
At the end the remaining batches are added without kills and the index's
pairs must equal one `neardup scan` of all batches.
Prints how many kills landed before and after the commit point; exits 1 on
any failure.
"""
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# CI runs this on the debug build (NEARDUP_BUILD=debug) with fewer kills.
BUILD = os.environ.get("NEARDUP_BUILD", "release")
BIN = os.path.join(ROOT, "target", BUILD, "neardup")
GEN = os.path.join(ROOT, "target", BUILD, "examples", "synth-corpus")
DOCS = 6000
BATCH = 300


def run(*args, ok=(0,)):
    p = subprocess.run([BIN, *args], capture_output=True, text=True)
    if p.returncode not in ok:
        raise SystemExit(f"{' '.join(args)}: exit {p.returncode}\n{p.stderr}")
    return p


def pair_set(text):
    out = set()
    for line in text.splitlines():
        r = json.loads(line)
        out.add((r["a"], r["b"], r["relation"]))
    return out


def generation(index):
    if not os.path.exists(os.path.join(index, "MANIFEST")):
        return 0
    return json.loads(run("index", "stats", "--index", index).stdout)["generation"]


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "neardup",
                    "--example", "synth-corpus"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.jsonl")
        subprocess.run([GEN, "--docs", str(DOCS), "--out", corpus], check=True,
                       capture_output=True)
        with open(corpus) as f:
            lines = f.readlines()
        batches = []
        for b in range(0, len(lines), BATCH):
            path = os.path.join(tmp, f"batch{b // BATCH:03}.jsonl")
            with open(path, "w") as out:
                out.writelines(lines[b:b + BATCH])
            batches.append(path)
        index = os.path.join(tmp, "index")
        committed = []
        durations = {"add": 0.5, "compact": 0.2}
        landed = {"before": 0, "after": 0, "writing": 0}
        delivered = 0
        failures = 0
        while delivered < kills:
            nxt = len(committed)
            if nxt == len(batches):
                # Every batch is in: start over on a fresh index.
                index = os.path.join(tmp, f"index{delivered}")
                committed = []
                nxt = 0
            compact = len(committed) >= 2 and rng.random() < 0.2
            kind = "compact" if compact else "add"
            args = ["index", kind, "--quiet", "--index", index] if compact else \
                ["index", "add", "--quiet", "--index", index, batches[nxt]]
            gen_before = generation(index)
            started = time.time()
            proc = subprocess.Popen([BIN, *args], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE)
            # Half the kills uniform over the run's expected length, half
            # near its end, where the files are written and renamed.
            low = 0.0 if rng.random() < 0.5 else 0.85
            time.sleep(rng.uniform(low * durations[kind], 1.1 * durations[kind]))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                delivered += 1
                moved = generation(index) > gen_before
                landed["after" if moved else "before"] += 1
                # Files of an unfinished commit: the kill landed while the
                # writer was writing (the next writer removes them).
                names = os.listdir(index) if os.path.isdir(index) else []
                named = 0
                if "MANIFEST" in names:
                    st = json.loads(run("index", "stats", "--index", index).stdout)
                    named = st["segments"] + (1 if st["generation"] > 0 else 0)
                written = [n for n in names if n.startswith(".neardup-")
                           or (n.endswith(".nds") and n[:4] in ("seg-", "stat"))]
                if len(written) > named:
                    landed["writing"] += 1
                if moved and not compact:
                    # Killed after its commit point: the batch is in.
                    committed.append(batches[nxt])
            else:
                err = proc.stderr.read().decode()
                if proc.returncode != 0:
                    print(f"{kind} failed: exit {proc.returncode}\n{err}")
                    failures += 1
                    break
                durations[kind] = 0.7 * durations[kind] + 0.3 * (time.time() - started)
                if not compact:
                    committed.append(batches[nxt])
            # The index opens, checks, and holds every committed batch.
            v = subprocess.run([BIN, "index", "verify", "--index", index],
                               capture_output=True, text=True)
            if os.path.exists(os.path.join(index, "MANIFEST")) and v.returncode != 0:
                print(f"kill {delivered}: verify failed\n{v.stderr}")
                failures += 1
            if committed:
                q = run("index", "query", "--index", index, *committed)
                m = re.search(r"\((\S+) added", q.stderr)
                if not m or m.group(1) != "0":
                    print(f"kill {delivered}: committed documents missing: {q.stderr}")
                    failures += 1
        for path in batches[len(committed):]:
            run("index", "add", "--quiet", "--index", index, path)
        run("index", "verify", "--index", index)
        scan = pair_set(run("scan", "--quiet", "--format", "jsonl", *batches).stdout)
        stored = pair_set(run("index", "pairs", "--index", index).stdout)
        print(f"kills: {delivered} ({landed['before']} before the commit point, of which "
              f"{landed['writing']} while files were being written; {landed['after']} after "
              f"it); verify and committed batches intact: "
              f"{delivered - failures}/{delivered}")
        print(f"final index: {len(stored)} pairs; one scan: {len(scan)} pairs; "
              + ("diff is empty" if stored == scan else f"diff: {len(stored ^ scan)}"))
        failures += len(stored ^ scan)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
