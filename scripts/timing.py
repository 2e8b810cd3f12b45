"""Shared by the measuring scripts: run a command under /usr/bin/time."""

import re
import subprocess


def timed(cmd):
    """(wall seconds, peak RSS MB, stdout) of `cmd`; exits with its stderr on failure."""
    p = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], capture_output=True,
                       text=True)
    m = re.search(r"TIME (\S+) (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr[-2000:]}")
    return float(m.group(1)), int(m.group(2)) / 1024, p.stdout
