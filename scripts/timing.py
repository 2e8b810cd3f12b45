"""Shared by the measuring scripts: run a command under /usr/bin/time, and
read an input once before it is timed."""

import re
import subprocess


def warm(path):
    """Reads `path` once, so that a timed run finds it in the page cache.

    The development machine (a Firecracker VM) runs a DAMON `pageout`
    scheme (`/sys/kernel/mm/damon/admin/kdamonds/0`) that drops file pages
    nobody touched for about a minute, free memory or not: a corpus read
    four minutes earlier was wholly out of the cache with 23 GB free. A
    tool timed first on a corpus would then read it from disk while the
    tools after it find it cached. Every timed run reads its corpus this
    way first, whichever tool it times.
    """
    with open(path, "rb") as f:
        while f.read(16 << 20):
            pass


def timed(cmd):
    """(wall seconds, peak RSS MB, stdout) of `cmd`; exits with its stderr on failure."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True,
                       text=True)
    m = re.search(r"TIME (\S+) (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr[-2000:]}")
    return float(m.group(1)), int(m.group(2)) / 1024, p.stdout
