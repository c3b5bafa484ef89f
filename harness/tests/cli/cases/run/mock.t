# The mock backend runs fixtures by name from every command: run (the
# same outputs as Wasmtime), a fixture it has no model of (3, with what
# to do), a pipeline, a scripted scenario checked against the snapshot it
# wrote (and refused on Wasmtime), and bench against the engine.
FILE words.txt
| hello
| world
RUN run uppercase --backend mock -f json --input $TMP/words.txt
RUN run uppercase --backend wasmtime -f json --input $TMP/words.txt
RUN run passthrough --backend mock --input $TMP/words.txt
RUN run trap --backend mock
EXIT 3
RUN pipeline counter-source uppercase sink --backend mock --format json --config 'counter-source={"count": 4}'
RUN check $ROOT/fixtures/scenarios/mock-flaky-processor.yaml --snapshot $TMP/flaky.yaml --update
RUN check $ROOT/fixtures/scenarios/mock-flaky-processor.yaml --snapshot $TMP/flaky.yaml
RUN check $ROOT/fixtures/scenarios/mock-flaky-processor.yaml --snapshot $TMP/flaky.yaml --backend wasmtime
EXIT 3
RUN bench passthrough --backend mock --payload 64 --elements 300
