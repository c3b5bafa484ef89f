#!/usr/bin/env bash
# Runs the benchmarks and prints the ratio table as Markdown, from
# criterion's estimates (target/criterion/**/new/estimates.json and the
# same under compare/published-mock/target/).
#
#   benches/report.sh                 run every bench, then print the tables
#   benches/report.sh --no-run        print the tables from the last run
#   benches/report.sh hot_path mock   run only these benches (of hot_path,
#                                     source_sink, mock, cold_path, interleaved,
#                                     published), then print
#
# Every goal is a ratio of two figures from the same run, so a busy machine
# moves both sides; still, run it on a quiet machine. The medians are used.
set -euo pipefail
cd "$(dirname "$0")/.."
crit=${CARGO_TARGET_DIR:-target}/criterion

run=1
benches=()
for arg in "$@"; do
  case "$arg" in
    --no-run) run=0 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) benches+=("$arg") ;;
  esac
done
if [ ${#benches[@]} -eq 0 ]; then
  benches=(hot_path source_sink mock cold_path interleaved published)
fi

if [ "$run" = 1 ]; then
  for b in "${benches[@]}"; do
    case "$b" in
      published)
        echo "== published-mock comparison" >&2
        cargo bench --quiet --manifest-path compare/published-mock/Cargo.toml --bench mock >&2
        ;;
      interleaved)
        echo "== interleaved" >&2
        mkdir -p "$crit"
        cargo bench --quiet --bench interleaved > "$crit/interleaved.md"
        ;;
      hot_path|source_sink|mock|cold_path)
        echo "== $b" >&2
        cargo bench --quiet --bench "$b" >&2
        ;;
      *) echo "unknown bench '$b' (hot_path, source_sink, mock, cold_path, interleaved, published)" >&2; exit 2 ;;
    esac
  done
fi

python3 - "$crit" compare/published-mock/target/criterion <<'PY'
import json, os, sys

est = {}
for root in sys.argv[1:]:
    for dirpath, _, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in files:
            continue
        try:
            with open(os.path.join(dirpath, "benchmark.json")) as f:
                bid = json.load(f)["full_id"]
            with open(os.path.join(dirpath, "estimates.json")) as f:
                est[bid] = json.load(f)["median"]["point_estimate"]
        except (OSError, KeyError, ValueError):
            pass

def fmt_ns(ns):
    if ns is None:
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"

rows = []
def ratio(label, num, den, goal=None, note=""):
    a, b = est.get(num), est.get(den)
    r = a / b if a is not None and b else None
    met = "—"
    if r is not None and goal is not None:
        met = "met" if r <= goal else "**missed**"
    rows.append((label, fmt_ns(a), fmt_ns(b), "—" if r is None else f"{r:.3f}",
                 "—" if goal is None else f"≤ {goal:g}", met, note))

sizes = [64, 1024, 65536]
def size_name(s):
    return {64: "64 B", 1024: "1 KiB", 65536: "64 KiB"}.get(s, f"{s} B")

for fx in ("passthrough", "uppercase"):
    for s in sizes:
        g = f"process_{fx}_cranelift_fuel"
        ratio(f"engine ÷ bindgen baseline: {fx} {size_name(s)} (Cranelift, fuel)",
              f"{g}/engine-sync/{s}", f"{g}/baseline/{s}", 1.05)
for variant, label in (("cranelift_nofuel", "Cranelift, no fuel"), ("winch_fuel", "Winch, fuel")):
    for fx in ("passthrough", "uppercase"):
        for s in sizes:
            g = f"process_{fx}_{variant}"
            ratio(f"engine ÷ bindgen baseline: {fx} {size_name(s)} ({label})",
                  f"{g}/engine-sync/{s}", f"{g}/baseline/{s}", 1.05)
for fx in ("passthrough", "uppercase"):
    for s in sizes:
        g = f"process_{fx}_cranelift_fuel"
        ratio(f"async (one task) ÷ sync: {fx} {size_name(s)}",
              f"{g}/engine-async/{s}", f"{g}/engine-sync/{s}", 1.3)
ratio("fuel on ÷ fuel off: uppercase 1 KiB",
      "process_uppercase_cranelift_fuel/engine-sync/1024",
      "process_uppercase_cranelift_nofuel/engine-sync/1024", 1.10)
ratio("fuel on ÷ fuel off: passthrough 1 KiB",
      "process_passthrough_cranelift_fuel/engine-sync/1024",
      "process_passthrough_cranelift_nofuel/engine-sync/1024", 1.10)
for fx in ("uppercase", "passthrough"):
    ratio(f"virtual clock ÷ system clock: {fx} 1 KiB",
          f"process_clock_{fx}/virtual/1024", f"process_clock_{fx}/system/1024", 1.05)
ratio("one system-clock reading (quanta) ÷ Instant::now + elapsed",
      "clock_read/engine-system", "clock_read/std-instant")
for s in (64, 1024):
    ratio(f"our mock (journal off) ÷ Wasmtime process: passthrough {size_name(s)}",
          f"mock_passthrough/mock-journal-off/{s}", f"mock_passthrough/wasmtime/{s}", 0.1)
    ratio(f"our mock (journal on) ÷ Wasmtime process: passthrough {size_name(s)}",
          f"mock_passthrough/mock-journal-on/{s}", f"mock_passthrough/wasmtime/{s}", 0.1)
for s in (64, 1024):
    ratio(f"our mock ÷ published 0.1.1 mock, journal off, {size_name(s)}",
          f"published_mock/ours-journal-off/{s}", f"published_mock/published-0.1.1/{s}", 1.0)
    ratio(f"our mock ÷ published 0.1.1 mock, journal on, {size_name(s)}",
          f"published_mock/ours-journal-on/{s}", f"published_mock/published-0.1.1/{s}", 2.0)
    ratio(f"our mock ÷ published 0.1.1 mock, journal off, const content type, {size_name(s)}",
          f"published_mock/ours-journal-off-static-type/{s}", f"published_mock/published-0.1.1/{s}")
    ratio(f"our mock ÷ published 0.1.1 mock, journal on, const content type, {size_name(s)}",
          f"published_mock/ours-journal-on-static-type/{s}", f"published_mock/published-0.1.1/{s}")
ratio("pooled instantiate (InstancePre) ÷ on-demand with linking",
      "instantiate/engine-pooled-instancepre/uppercase",
      "instantiate/baseline-ondemand-linking/uppercase", 0.3)
ratio("on-demand instantiate (InstancePre) ÷ on-demand with linking",
      "instantiate/engine-ondemand-instancepre/uppercase",
      "instantiate/baseline-ondemand-linking/uppercase")
ratio("disk cache hit ÷ Cranelift compile",
      "cache/disk-hit/uppercase", "cache/compile-cranelift/uppercase", 0.03)
ratio("disk cache hit ÷ Cranelift compile, py-uppercase (componentize-py)",
      "cache/disk-hit/py-uppercase", "cache/compile-cranelift/py-uppercase", 0.03)
ratio("memory cache hit ÷ Cranelift compile",
      "cache/memory-hit/uppercase", "cache/compile-cranelift/uppercase")
ratio("Winch compile ÷ Cranelift compile: uppercase fixture",
      "compile/winch/uppercase", "compile/cranelift/uppercase", 0.35)
ratio("Winch compile ÷ Cranelift compile: uppercase + 400 functions",
      "compile/winch/uppercase+400fn", "compile/cranelift/uppercase+400fn", 0.35)
ratio("pull ÷ baseline: counter-source",
      "pull_counter_source/engine-sync/0", "pull_counter_source/baseline/0", 1.05)
for s in (64, 1024):
    ratio(f"push ÷ baseline: sink {size_name(s)}",
          f"push_sink/engine-sync/{s}", f"push_sink/baseline/{s}", 1.05)
ratio("pipeline ÷ baseline: counter-source → uppercase → sink",
      "pipeline_counter_uppercase_sink/engine-sync/3-stages",
      "pipeline_counter_uppercase_sink/baseline/3-stages", 1.05)

print("| ratio | numerator | denominator | ratio | goal | |")
print("|---|---:|---:|---:|---:|---|")
for label, a, b, r, goal, met, _ in rows:
    if a == "—" and b == "—":
        continue
    print(f"| {label} | {a} | {b} | {r} | {goal} | {met} |")

print()
print("| throughput | elements/s |")
print("|---|---:|")
for bid in ("pull_counter_source/baseline/0", "pull_counter_source/engine-sync/0",
            "push_sink/baseline/64", "push_sink/engine-sync/64",
            "pipeline_counter_uppercase_sink/baseline/3-stages",
            "pipeline_counter_uppercase_sink/engine-sync/3-stages"):
    if bid in est:
        print(f"| {bid} | {1e9 / est[bid]:,.0f} |")
PY

if [ -s "$crit/interleaved.md" ]; then
  echo
  echo "Interleaved rounds (torvyn_harness::bench::compare_with, medians of 15 rounds):"
  echo
  cat "$crit/interleaved.md"
fi
