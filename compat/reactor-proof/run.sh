#!/usr/bin/env bash
# Runs torvyn-reactor 0.1.1, unmodified from crates.io, on torvyn-engine
# 0.1.2 (compat/torvyn-engine-0.1):
#
# 1. downloads the published torvyn-reactor-0.1.1.crate with `cargo fetch`
#    (fetch/Cargo.toml), checks its SHA-256 against the checksum crates.io
#    gave (fetch/Cargo.lock), and unpacks it into published/ (a workspace
#    member, so its own tests can run: cargo tests only members);
# 2. `cargo test --workspace`, in one build (one feature set, the main
#    build's Wasmtime and Cranelift when CARGO_TARGET_DIR is its target
#    directory):
#    - torvyn-reactor: the crate's own unit and integration tests, over the
#      patched engine;
#    - torvyn-reactor-proof: its FlowDriver over real Wasm (WAT fixtures and
#      the guests fixtures/guests/build.sh built) and over the mock.
#
# Extra arguments go to `cargo test` (e.g. `-- --nocapture`).
set -euo pipefail
cd "$(dirname "$0")"

crate=torvyn-reactor-0.1.1
cargo fetch --locked --manifest-path fetch/Cargo.toml \
  --target "$(rustc -vV | sed -n 's/^host: //p')"
checksum=$(awk '/^name = "torvyn-reactor"$/ { found = 1 }
  found && /^checksum = / { gsub(/"/, "", $3); print $3; exit }' fetch/Cargo.lock)
file=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$crate.crate" | head -n 1)
echo "$checksum  $file" | sha256sum --check --quiet
rm -rf "published/$crate"
mkdir -p published
tar -xzf "$file" -C published

# The flow tests keep compiled guests in compiled-0.1/ beside them, keyed by
# the guest's bytes: what was compiled before the guests were last built is
# stale for good.
guests="${TORVYN_GUESTS:-${CARGO_TARGET_DIR:-../../target}/guests}"
newest=$(ls -t "$guests"/*.wasm 2>/dev/null | head -n 1 || true)
if [ -n "$newest" ] && [ -d "$guests/compiled-0.1" ]; then
  find "$guests/compiled-0.1" -name '*.bin' ! -newer "$newest" -delete
fi

cargo test --locked --workspace "$@"
