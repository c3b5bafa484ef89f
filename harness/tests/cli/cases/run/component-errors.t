# A component that cannot be run is an input error (3) naming the file:
# a missing file, WAT with a syntax error (its line), a core module (what
# to do), a component for another world (the world, and inspect, which
# lists what it lacks).
RUN run $TMP/nowhere.wasm
EXIT 3
FILE bad.wat
| (module
|   (func (result i32) oops))
RUN run $TMP/bad.wat
EXIT 3
FILE core.wasm HEX 0061736d01000000
RUN run $TMP/core.wasm
EXIT 3
FILE wrong.wat
| (component (import "acme:db/query@1.0.0" (instance)))
RUN run $TMP/wrong.wat
EXIT 3
RUN inspect $TMP/wrong.wat
EXIT 3
