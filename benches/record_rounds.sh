#!/usr/bin/env bash
# Runs the recording-overhead benchmark (benches/record.rs) ROUNDS times and
# prints, per fixture, memory ÷ plain and file ÷ plain for every round and
# their median. One criterion run gives one ratio; on a 2-core machine the
# recorder's writer thread and the calling thread share the cores with
# everything else, so a single run can land high or low: the rounds show
# the spread.
#
#   benches/record_rounds.sh [ROUNDS] [BENCH-BINARY]
#
# ROUNDS defaults to 5. BENCH-BINARY (a `record-*` binary from
# target/release/deps, e.g. one kept from another commit) skips the build
# and runs that binary instead. CPUS=0 runs every thread on CPU 0 (taskset),
# so the writer's whole cost lands on the calling thread: the upper bound.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
bin=${2:-}
if [ -z "$bin" ]; then
  cargo bench -p torvyn-engine --bench record --no-run --locked 2>/dev/null
  bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/record-* | grep -v "\.d$" | head -1)
fi
pin=()
if [ -n "${CPUS:-}" ]; then
  pin=(taskset -c "$CPUS")
fi

echo "binary: $bin; rounds: $rounds; cpus: ${CPUS:-all}"
for _ in $(seq "$rounds"); do
  # Criterion prints the id, then `time: [low median high]`.
  "${pin[@]}" "$bin" --bench 2>&1 | awk '
    /^record_/ { id = $1 }
    /time:/ && id != "" {
      for (i = 1; i <= NF; i++) if ($i == "time:") break
      v = $(i + 3); u = $(i + 4)
      if (u == "ns") v = v / 1000; else if (u == "ms") v = v * 1000
      print id, v; id = ""
    }'
done | awk '
  {
    split($1, p, "/"); f = p[1]; k = p[2]
    if (k == "plain") { plain[f] = $2; next }
    key = f " " k " ÷ plain"
    r = $2 / plain[f]
    vals[key] = vals[key] sprintf(" %.3f", r)
    n[key]++; all[key, n[key]] = r
  }
  END {
    for (key in vals) {
      m = n[key]
      for (i = 1; i <= m; i++) s[i] = all[key, i]
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
      med = (m % 2) ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
      printf "%-36s median %.3f  rounds:%s\n", key, med, vals[key]
    }
  }' | sort
