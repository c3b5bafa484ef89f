# A Python sink answers fatal to the element its config names: bench
# stops there even with --keep-going, naming it. A config it refuses is
# its failure, in init.
NEEDS-GUEST py-sink
FILE words.txt
| a
| b
| stop
| c
RUN --cache-dir $GUESTS/compiled bench $GUESTS/py-sink.wasm --input $TMP/words.txt --config '{"fatal_on": "stop"}' --elements 7 --keep-going
EXIT 5
RUN --cache-dir $GUESTS/compiled bench $GUESTS/py-sink.wasm --input $TMP/words.txt --config [1]
EXIT 5
