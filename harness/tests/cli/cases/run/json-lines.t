# JSON Lines input: a text payload, hex bytes with their content type, a
# deadline; a blank line is skipped. yaml and json are the snapshot form:
# no wall time in them.
FILE in.jsonl
| {"payload": "hello"}
|
| {"payload_hex": "616263", "content_type": "x/y"}
| {"payload": "MiXeD 1", "deadline_ms": 5}
RUN run uppercase --input $TMP/in.jsonl --format json
