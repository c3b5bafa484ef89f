#!/usr/bin/env bash
# Builds every fuzz target the way OSS-Fuzz and ClusterFuzzLite build Rust
# projects: `cargo fuzz build -O` with the sanitizer flags their
# environment sets (SANITIZER, RUSTFLAGS), each binary copied to $OUT with
# its seed corpus ($OUT/TARGET_seed_corpus.zip: fuzz/corpus/TARGET and
# fuzz/regressions/TARGET) and libFuzzer options ($OUT/TARGET.options).
#
# Run by their build image from $SRC/torvyn-engine; checked on a developer
# machine with the same commands:
#   SRC=$PWD/.. OUT=/tmp/out .clusterfuzzlite/build.sh
set -euo pipefail
cd "${SRC:?}/torvyn-engine"
: "${OUT:?}"
mkdir -p "$OUT"

sanitizer=${SANITIZER:-address}
case "$sanitizer" in
  address | memory | thread | leak) flags=(-s "$sanitizer") ;;
  # Coverage and undefined builds take their flags from RUSTFLAGS alone.
  *) flags=(-s none) ;;
esac

cargo fuzz build -O "${flags[@]}"
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=target/$triple/release

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
