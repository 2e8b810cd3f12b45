#!/usr/bin/env python3
"""Kills one process of a distributed scan (feature `cluster`) at random
moments and checks that the others stop cleanly.

usage: scripts/kill-cluster.py [TRIALS] [SEED] [DOCS]

Generates (or reuses) the synthetic corpus of DOCS documents (default
100000) in target/scale/ and times one 2-process run of it. Then, TRIALS
times (default 20), starts 2 or 3 processes of 1 or 2 workers on loopback
and kills one of them with SIGKILL at a random moment of the run. Every
other process must then, within 60 s:
  * exit with status 2 and the message "the cluster stopped" (or, for a
    victim killed before it had connected, the message that it did not
    connect within --connect-timeout, set to 20 s here),
  * and process 0 must not have written the pairs file.
A victim killed after the run had already ended is no failure if every
process exited 0 and process 0 wrote the single-machine scan's pairs.
Prints one line per trial; exits 1 on any failure (a hang, an abort, another
status, or output left behind).
"""

import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback import BIN, prepare, write_hostfile  # noqa: E402

CONNECT_TIMEOUT = 20
PATIENCE = 60


def start(corpus, hosts, processes, workers, i, out):
    cmd = [BIN, "scan", "--quiet", corpus, "--workers", str(workers), "--processes",
           str(processes), "--process", str(i), "--hostfile", hosts, "--connect-timeout",
           str(CONNECT_TIMEOUT)]
    if i == 0:
        cmd += ["--pairs", os.path.join(out, "pairs.jsonl")]
    err = open(os.path.join(out, f"stderr-{i}"), "w")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)


def run(corpus, processes, workers, out, victim=None, after=None):
    """Exit statuses (None for a process still running after PATIENCE s)."""
    hosts = os.path.join(out, "hosts.txt")
    write_hostfile(hosts, processes)
    procs = [start(corpus, hosts, processes, workers, i, out) for i in range(processes)]
    if victim is not None:
        time.sleep(after)
        procs[victim].kill()
    deadline = time.time() + PATIENCE
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=max(0.1, deadline - time.time())))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            codes.append(None)
    return codes


def stderr(out, i):
    with open(os.path.join(out, f"stderr-{i}")) as f:
        return f.read()


def stopped(message):
    """True for the messages of a run stopped by a lost process."""
    return "the cluster stopped" in message or "--connect-timeout" in message


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    args = sys.argv[1:]
    trials = int(args[0]) if args else 20
    rng = random.Random(int(args[1]) if len(args) > 1 else 1)
    corpus = prepare(int(args[2]) if len(args) > 2 else 100_000)
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        reference = os.path.join(tmp, "reference")
        os.makedirs(reference)
        began = time.time()
        if run(corpus, 2, 2, reference) != [0, 0]:
            raise SystemExit("the run without kills failed")
        length = time.time() - began
        want = read(os.path.join(reference, "pairs.jsonl"))
        print(f"a 2-process run takes {length:.1f} s; kills fall in 0.3 s to {length:.1f} s")
        for trial in range(trials):
            processes, workers = rng.choice([2, 3]), rng.choice([1, 2])
            victim, after = rng.randrange(processes), rng.uniform(0.3, length)
            out = os.path.join(tmp, f"trial-{trial}")
            os.makedirs(out)
            codes = run(corpus, processes, workers, out, victim, after)
            pairs = os.path.join(out, "pairs.jsonl")
            survivors = [i for i in range(processes) if i != victim]
            if codes[victim] == 0:
                ok = all(c == 0 for c in codes) and read(pairs) == want
                what = "killed after the end"
            else:
                ok = (all(codes[i] == 2 and stopped(stderr(out, i)) for i in survivors)
                      and not os.path.exists(pairs))
                what = "stopped cleanly" if ok else "FAILED"
            failures += not ok
            shown = ["hang" if c is None else c for c in codes]
            print(f"{trial:3}: {processes} processes x {workers} workers, killed {victim} "
                  f"at {after:4.1f} s: exit {shown} {what}", flush=True)
            if not ok:
                for i in survivors:
                    print(f"     process {i}: {stderr(out, i).strip()[-300:]}")
    print(f"{trials - failures} of {trials} trials passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
