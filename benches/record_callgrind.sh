#!/usr/bin/env bash
# Instructions per 1 KiB `process` call, plain and recorded, on the calling
# thread and on the recorder's writer thread: callgrind counts every thread
# of `examples/call_loop.rs` at two call counts, and the difference divided
# by the extra calls is the per-call figure (start-up and compilation
# cancel out). Instruction counts do not move with the machine's load, so
# this is the figure to compare across runs; wall time is
# benches/record_rounds.sh.
#
#   benches/record_callgrind.sh [FIXTURES...]     (default: kib upper)
#
# `kib`: 1 KiB through `passthrough`; `upper`: 1 KiB through `uppercase`.
# BIN=PATH skips the build and counts that `call_loop` binary instead (one
# kept from another commit, to compare before and after).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }

fixtures=("$@")
[ ${#fixtures[@]} -gt 0 ] || fixtures=(kib upper)
low=${LOW:-1000}
high=${HIGH:-3000}

bin=${BIN:-}
if [ -z "$bin" ]; then
  cargo build --release --locked --example call_loop 2>/dev/null
  bin=${CARGO_TARGET_DIR:-target}/release/examples/call_loop
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Prints "calling writer": the instructions collected on thread 1 (main)
# and on the other threads (the writer).
count() {
  local dir=$out/$1-$2-$3
  mkdir -p "$dir"
  # Collected: the calls' loop on the calling thread, and the writer's
  # loop; not the start-up, nor Cranelift's compiling threads.
  valgrind --tool=callgrind --separate-threads=yes --dump-instr=no \
    --toggle-collect='*backend::block_on*' --toggle-collect='*record::write::Writer::run*' \
    --callgrind-out-file="$dir/cg" "$bin" "$1" "$3" "$2" >/dev/null 2>&1
  local main=0 rest=0
  for f in "$dir"/cg*; do
    local ir
    ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p; s/^totals: *\([0-9]*\).*/\1/p' "$f" | head -1)
    case "$f" in
      *-01) main=$((main + ir)) ;;
      *) rest=$((rest + ir)) ;;
    esac
  done
  echo "$main $rest"
}

printf '%-8s %-7s %14s %14s %14s %14s\n' fixture mode calling/call writer/call "calling÷plain" "both÷plain"
for f in "${fixtures[@]}"; do
  plain=
  for mode in plain memory file; do
    read -r m1 w1 < <(count "$f" "$mode" "$low")
    read -r m2 w2 < <(count "$f" "$mode" "$high")
    calls=$((high - low))
    main=$(((m2 - m1) / calls))
    writer=$(((w2 - w1) / calls))
    [ -n "$plain" ] || plain=$main
    printf '%-8s %-7s %14d %14d %14s %14s\n' "$f" "$mode" "$main" "$writer" \
      "$(awk -v a="$main" -v p="$plain" 'BEGIN { printf "%.3f", a / p }')" \
      "$(awk -v a="$main" -v b="$writer" -v p="$plain" 'BEGIN { printf "%.3f", (a + b) / p }')"
  done
done
