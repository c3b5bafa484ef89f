#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60) with cargo-fuzz on a
# nightly toolchain, installing cargo-fuzz (and nightly) if missing, then
# prints executions, coverage and findings per target.
#
#   fuzz/run-all.sh [SECONDS] [TARGET...]
#
# TORVYN_FUZZ_JOBS=N runs N targets at once (default 1; each target is one
# process). TORVYN_FUZZ_SANITIZER picks cargo-fuzz's sanitizer (default
# address; `none` runs about twice as fast). The build honours
# CARGO_TARGET_DIR (default: target/ of the workspace); TORVYN_FUZZ_PREBUILT
# (below) skips it.
#
# New corpus entries go to fuzz/work/TARGET/ (not committed); the committed
# seed corpus fuzz/corpus/TARGET/ and crashes fuzz/regressions/TARGET/ are
# read as seeds. Crashes land in fuzz/artifacts/TARGET/ (see fuzz/README.md
# to turn one into a committed regression). Logs: fuzz/work/TARGET.log.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
toolchain=${TORVYN_FUZZ_TOOLCHAIN:-nightly}
jobs=${TORVYN_FUZZ_JOBS:-1}
sanitizer=${TORVYN_FUZZ_SANITIZER:-address}

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  rustup toolchain install "$toolchain" --profile minimal
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

# Build once, then run the binaries: editing the tree during a long run
# does not rebuild anything under it. TORVYN_FUZZ_PREBUILT=DIR runs the
# binaries in DIR instead (built earlier, e.g. at another commit, to compare
# two builds side by side) and builds nothing.
if [ -n "${TORVYN_FUZZ_PREBUILT:-}" ]; then
  bin_dir=$TORVYN_FUZZ_PREBUILT
else
  cargo "+$toolchain" fuzz build -s "$sanitizer"
  triple=$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')
  bin_dir="${CARGO_TARGET_DIR:-target}/$triple/release"
fi

run_one() {
  local t=$1
  mkdir -p "fuzz/work/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" "fuzz/artifacts/$t"
  # -timeout: an input running this long is a hang (a finding);
  # -rss_limit_mb: room for the hostile fixtures and the sanitizer;
  # -entropic=0: with the hundred thousand features these targets reach,
  # libFuzzer's entropic scheduler spent 94% of component_bytes' time in
  # InputCorpus::AddRareFeature (0.5 exec/s, against 9 without it).
  # The CPU time it got (with several jobs on few cores, or other work on
  # the machine, less than the wall time it ran) goes to TARGET.cpu.
  local start=$SECONDS
  local timer=()
  if [ -x /usr/bin/time ]; then
    timer=(/usr/bin/time -f '%U %S %M' -o "fuzz/work/$t.cpu")
  fi
  "${timer[@]}" "$bin_dir/$t" -artifact_prefix="fuzz/artifacts/$t/" \
    -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 -entropic=0 \
    "fuzz/work/$t" "fuzz/corpus/$t" "fuzz/regressions/$t" >"fuzz/work/$t.log" 2>&1 || true
  echo "$((SECONDS - start))" >"fuzz/work/$t.wall"
}

running=0
for t in "${targets[@]}"; do
  echo "fuzzing $t for ${secs}s"
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

printf '\n%-16s %8s %8s %12s %8s %8s %8s %8s %8s %8s\n' \
  target wall-s cpu-s executions exec/s cov ft corpus rss-mb crashes
status=0
for t in "${targets[@]}"; do
  log="fuzz/work/$t.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  crashes=$(find "fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
  # Corpus: the inputs libFuzzer kept in its working directory.
  corpus=$(find "fuzz/work/$t" -type f 2>/dev/null | wc -l)
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  wall=$(cat "fuzz/work/$t.wall" 2>/dev/null || echo '?')
  cpu=$(awk '{printf "%d", $1 + $2}' "fuzz/work/$t.cpu" 2>/dev/null || echo '?')
  if grep -qE 'ERROR: libFuzzer|panicked at|==ERROR' "$log"; then status=1; fi
  printf '%-16s %8s %8s %12s %8s %8s %8s %8s %8s %8s\n' "$t" "$wall" "${cpu:-?}" \
    "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "${rss:-?}" "$crashes"
done
exit $status
