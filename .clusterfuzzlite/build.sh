#!/usr/bin/env bash
# Builds every fuzz target the way OSS-Fuzz and ClusterFuzzLite build Rust
# projects: `cargo fuzz build -O` with the sanitizer flags their
# environment sets (SANITIZER, RUSTFLAGS), each binary copied to $OUT with
# its seed corpus ($OUT/TARGET_seed_corpus.zip: fuzz/corpus/TARGET and
# fuzz/regressions/TARGET) and libFuzzer options ($OUT/TARGET.options).
#
# Run by their build image in $SRC/torvyn-engine; on a developer machine
# (with a nightly toolchain and cargo-fuzz) from the checkout:
#   RUSTUP_TOOLCHAIN=nightly OUT=/tmp/torvyn-fuzz-out .clusterfuzzlite/build.sh
set -euo pipefail
if [ -n "${SRC:-}" ] && [ -d "$SRC/torvyn-engine" ]; then
  cd "$SRC/torvyn-engine"
else
  cd "$(dirname "$0")/.."
fi
: "${OUT:?set OUT to the directory for the fuzzers}"
mkdir -p "$OUT"

sanitizer=${SANITIZER:-address}
case "$sanitizer" in
  address | memory | thread | leak) flags=(-s "$sanitizer") ;;
  # Coverage and undefined builds take their flags from RUSTFLAGS alone.
  *) flags=(-s none) ;;
esac

cargo fuzz build -O "${flags[@]}"
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=${CARGO_TARGET_DIR:-target}/$triple/release

for target in $(cargo fuzz list); do
  cp "$bin_dir/$target" "$OUT/"
  corpus=()
  for dir in "fuzz/corpus/$target" "fuzz/regressions/$target"; do
    [ -d "$dir" ] && corpus+=("$dir")
  done
  if [ ${#corpus[@]} -gt 0 ]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    zip -q -j -r "$OUT/${target}_seed_corpus.zip" "${corpus[@]}" -x '*/README.md'
  fi
  # As fuzz/run-all.sh runs them: a 30 s input is a hang, room for the
  # hostile fixtures' buffers, and no entropic scheduling (see there).
  cat >"$OUT/$target.options" <<OPTIONS
[libfuzzer]
timeout = 30
rss_limit_mb = 4096
entropic = 0
OPTIONS
done
