# bench --input measures the given elements in turn, on both sides:
# plain lines (blank ones skipped); JSON Lines from stdin to a sink with an
# init config from a file. The built-in payload is for bench without
# --input; an empty input is refused. Fewer measured calls than elements:
# a note says which were sent.
FILE words.txt
| hello
|
| hello world
| abc
RUN --no-cache bench uppercase --input $TMP/words.txt --elements 14 --format json
FILE sink.json
| {"count": 2}
RUN --no-cache bench sink --input - --config @$TMP/sink.json --elements 7 --format json
STDIN
| {"payload_hex": "00ff10"}
| {"payload": {"id": 7}}
RUN --no-cache bench uppercase --input $TMP/words.txt --payload 8
EXIT 2
FILE blank.txt
|
|
RUN --no-cache bench uppercase --input $TMP/blank.txt
EXIT 3
FILE ten.txt
| a
| bb
| c
| d
| e
| f
| g
| h
| i
| j
RUN --no-cache bench uppercase --input $TMP/ten.txt --elements 1 --format json
