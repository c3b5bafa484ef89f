# A component whose initial memory (300 pages, 18.75 MiB) is over the
# default limit of 16 MiB is refused when it is instantiated, with what it
# asked for, the limit and what to do. --max-memory raises the limit, as
# `max_memory_bytes` does in a scenario file.
FILE big.wat
| ;; A `transform` that drops every element, with 300 pages of memory.
| (module
|   (import "torvyn:streaming/types@0.1.0" "[resource-drop]buffer"
|     (func $drop-buffer (param i32)))
|   (import "torvyn:streaming/types@0.1.0" "[resource-drop]flow-context"
|     (func $drop-context (param i32)))
|   (memory (export "memory") 300)
|   ;; ok(drop): the result's case at 16, the variant's at 24
|   (data (i32.const 24) "\01")
|   (global $heap (mut i32) (i32.const 1024))
|   (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
|     (global.get $heap)
|     (global.set $heap (i32.add (global.get $heap) (local.get 3))))
|   (func (export "torvyn:streaming/processor@0.1.0#process")
|       (param i64 i64 i32 i32 i32 i32) (result i32)
|     (call $drop-buffer (local.get 4))
|     (call $drop-context (local.get 5))
|     (i32.const 16)))
RUN run $TMP/big.wat --input -
STDIN
| hello
EXIT 4
RUN run $TMP/big.wat --input - --max-memory 32MiB
STDIN
| hello
# A limit under one page is refused as a usage error, before anything runs.
RUN run $TMP/big.wat --input - --max-memory 32
STDIN
| hello
EXIT 2
FILE big.yaml
| name: big
| component: big.wat
| max_memory_bytes: 33554432
| inputs:
|   - payload: hello
RUN check $TMP/big.yaml --snapshot $TMP/big.snapshot.yaml --update
