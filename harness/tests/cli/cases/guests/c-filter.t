# The C guest (fixtures/guests/c/filter.c: wit-bindgen's C bindings and
# wasi-libc, built by zig's clang, made a component by wasm-tools with the
# WASI preview1 adapter) against its own scenarios and their committed
# snapshots: its three branches, its host calls, and a run of comments only.
NEEDS-GUEST c-filter
RUN --cache-dir $GUESTS/compiled check $ROOT/fixtures/guests/c/scenarios/filter.yaml --component $GUESTS/c-filter.wasm --snapshot $ROOT/fixtures/guests/c/scenarios/filter.snapshot.yaml
RUN --cache-dir $GUESTS/compiled check $ROOT/fixtures/guests/c/scenarios/host-calls.yaml --component $GUESTS/c-filter.wasm --snapshot $ROOT/fixtures/guests/c/scenarios/host-calls.snapshot.yaml
RUN --cache-dir $GUESTS/compiled check $ROOT/fixtures/guests/c/scenarios/comments.yaml --component $GUESTS/c-filter.wasm --snapshot $ROOT/fixtures/guests/c/scenarios/comments.snapshot.yaml

# The host calls of each call, as `run` shows them: a comment costs one
# read-all and no buffer.
RUN --cache-dir $GUESTS/compiled run $GUESTS/c-filter.wasm --input - --trace-host-calls
STDIN
| hello
| # a note

# A comment among the lines the host-call rule is about: check names the
# call that broke it and exits 1.
FILE strict.yaml
| name: c-filter-strict
| component: $GUESTS/c-filter.wasm
| expect_host_calls:
|   process: [read-all, allocate, append, freeze, "[resource-drop]mutable-buffer"]
| inputs:
|   - payload: hello
|   - payload: "# not a line"
RUN --cache-dir $GUESTS/compiled check $TMP/strict.yaml --snapshot $TMP/strict.snapshot.yaml --update
EXIT 1
