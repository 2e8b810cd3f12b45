"""Shared by the cluster scripts: the release binary with the `cluster`
feature, the generated corpus, and hostfiles of free loopback ports."""

import os
import socket
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "scale")
BIN = os.path.join(ROOT, "target", "release", "neardup")
GEN = os.path.join(ROOT, "target", "release", "examples", "synth-corpus")


def prepare(docs):
    """Builds the binary and the generator; returns the path of the
    generated corpus of `docs` documents (made once, then reused)."""
    os.makedirs(WORK, exist_ok=True)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--features", "cluster", "--bin",
                    "neardup", "--example", "synth-corpus"], cwd=ROOT, check=True)
    corpus = os.path.join(WORK, f"corpus-{docs}.jsonl")
    if not os.path.exists(corpus):
        subprocess.run([GEN, "--docs", str(docs), "--out", corpus], check=True,
                       capture_output=True)
    return corpus


def write_hostfile(path, processes):
    """Writes a hostfile of `processes` free loopback ports (found by
    binding to port 0; the sockets are closed before the processes start)."""
    socks = [socket.socket() for _ in range(processes)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    with open(path, "w") as f:
        f.writelines(f"127.0.0.1:{p}\n" for p in ports)
