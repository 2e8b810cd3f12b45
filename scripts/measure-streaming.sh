#!/usr/bin/env bash
# Throughput and peak memory of `neardup scan` on generated corpora of two
# sizes, to check that memory does not grow with the input.
#
# usage: scripts/measure-streaming.sh [DOCS_SMALL] [DOCS_LARGE] [jsonl|warc] [WORKDIR]
#
# Defaults: 725,000 and 1,450,000 documents (2.7 and 5.3 GB of text;
# 1.1 and 2.2 GB of .jsonl.gz), JSONL, in /tmp/neardup-streaming. The
# corpora come from `cargo run --release --example synth-corpus` (see
# corpora/README.md) and are deleted at the end; plan for about 4 times the
# text size of free disk for them and the scan's scratch files. Needs GNU
# time (/usr/bin/time) for the peak RSS.
set -euo pipefail
small=${1:-725000}
large=${2:-1450000}
format=${3:-jsonl}
work=${4:-/tmp/neardup-streaming}
ext=$([ "$format" = warc ] && echo warc.gz || echo jsonl.gz)
cd "$(dirname "$0")/.."
cargo build --release --quiet --example synth-corpus
cargo build --release --quiet
mkdir -p "$work"
trap 'rm -f "$work"/corpus-*."$ext"' EXIT
printf '%-10s %-12s %-12s %-10s %-10s %-12s %s\n' docs "text (MB)" "file (MB)" "wall (s)" "MB/s" "peak RSS" pairs
for docs in "$small" "$large"; do
  corpus="$work/corpus-$docs.$ext"
  target/release/examples/synth-corpus --docs "$docs" --format "$format" --out "$corpus" 2>/dev/null
  /usr/bin/time -f '%e %M' -o "$work/time.txt" \
    target/release/neardup scan "$corpus" --quiet --temp-dir "$work" --stats "$work/stats.json" \
    --pairs "$work/pairs.jsonl" >/dev/null
  python3 - "$docs" "$corpus" "$work" <<'PY'
import json, os, sys
docs, corpus, work = sys.argv[1:]
wall, rss_kb = open(f"{work}/time.txt").read().split()[-2:]
text = json.load(open(f"{work}/stats.json"))["input_bytes"]
pairs = sum(1 for _ in open(f"{work}/pairs.jsonl"))
wall = float(wall)
print(f"{docs:<10} {text / 1e6:<12.0f} {os.path.getsize(corpus) / 1e6:<12.0f} {wall:<10.1f} "
      f"{text / 1e6 / wall:<10.1f} {int(rss_kb) // 1024} MB{'':<6} {pairs}")
PY
done
