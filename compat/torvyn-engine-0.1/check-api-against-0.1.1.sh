#!/usr/bin/env bash
# Compiles and runs tests/api_0_1_1.rs against the published torvyn-engine
# 0.1.1 (with its Wasmtime 42), to show the test names 0.1.1's API as it
# is: the same file passes against this package (`cargo test --features
# mock --test api_0_1_1`) and against the published crate.
#
# Not part of CI: it builds Wasmtime 42 and Cranelift (about 10 minutes on
# 2 cores), in a temporary directory of its own; API_CHECK_TARGET_DIR
# names a target directory to keep between runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/tests"
cat >"$work/Cargo.toml" <<'EOF'
[package]
name = "api-check-0-1-1"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
torvyn-engine = { version = "=0.1.1", features = ["mock"] }
torvyn-types = "=0.1.1"
async-trait = "0.1"
# To name `wasmtime::Engine`, the type 0.1.1's `WasmtimeEngine::inner` returns.
wasmtime = { version = "42", default-features = false }
EOF
: >"$work/src/lib.rs"
# The test's `#![cfg(...)]` names this package's features; the checker has
# none.
grep -v '^#!\[cfg(' "$here/tests/api_0_1_1.rs" >"$work/tests/api_0_1_1.rs"
CARGO_TARGET_DIR="${API_CHECK_TARGET_DIR:-$work/target}" cargo test --manifest-path "$work/Cargo.toml" --test api_0_1_1
