#!/usr/bin/env bash
# Fuzz every parser and decoder of neardup (see fuzz/).
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Needs the nightly toolchain (libFuzzer's sanitizer flags) and cargo-fuzz
# (`cargo install cargo-fuzz --locked`). Seeds come from the project's demo
# corpus (scripts/fuzz-seeds.py) and are merged into fuzz/corpus/TARGET, which
# libFuzzer grows and later runs reuse. Each target runs for the given time
# (default 300 s) on one core; crashes, hangs (-timeout) and allocations over
# the RSS limit are saved in fuzz/artifacts/TARGET. A table of wall time, CPU
# time, executions and findings is printed at the end and appended to
# fuzz/runs.log.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(jsonl warc html index_file truth)
fi

cargo build --release --quiet
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
python3 scripts/fuzz-seeds.py target/release/neardup "$seeds" >/dev/null

cargo +nightly fuzz build --release
# The scan's worker threads register thread-local destructors with glibc,
# which LeakSanitizer takes for a leak (see fuzz/lsan.supp).
export LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
summary=()
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  cp -n "$seeds/$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
  log="fuzz/artifacts/$t/last-run.log"
  before=$(find "fuzz/artifacts/$t" -type f ! -name '*.log' | wc -l)
  start=$(date +%s)
  status=0
  /usr/bin/time -f "%U %S" -o "$seeds/$t.cpu" \
    cargo +nightly fuzz run --release "$t" "fuzz/corpus/$t" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
      -print_final_stats=1 >"$log" 2>&1 || status=$?
  wall=$(( $(date +%s) - start ))
  cpu=$(tail -1 "$seeds/$t.cpu" 2>/dev/null | awk '{printf "%.0f", $1 + $2}')
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  after=$(find "fuzz/artifacts/$t" -type f ! -name '*.log' | wc -l)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  summary+=("$(printf '%-11s %6s s %6s s %10s %7s %3s %s' "$t" "$wall" "$cpu" "${execs:-?}" "$corpus" "$((after - before))" "exit $status")")
done
{
  echo "# $(date -u +%FT%TZ) $(git rev-parse --short HEAD) ${seconds}s per target"
  printf '%-11s %8s %8s %10s %7s %3s %s\n' target wall cpu execs corpus new status
  printf '%s\n' "${summary[@]}"
} | tee -a fuzz/runs.log
