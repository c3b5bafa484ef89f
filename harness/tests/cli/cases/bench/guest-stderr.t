# validator: `{` passes, `#` writes to stderr and traps, the rest is
# refused with invalid-input. Without --keep-going bench stops at the
# refusal; with it, at the trap, showing what the guest wrote. Without the
# element that traps, every element is measured and the refusal counted.
FILE records.jsonl
| {"payload": {"id": 1}}
| {"payload": {"id": 22}}
| {"payload": "not json"}
| {"payload": "#comment"}
RUN --no-cache bench validator --input $TMP/records.jsonl --elements 7
EXIT 5
RUN --no-cache bench validator --input $TMP/records.jsonl --elements 7 --keep-going
EXIT 5
FILE three.jsonl
| {"payload": {"id": 1}}
| {"payload": {"id": 22}}
| {"payload": "not json"}
RUN --no-cache bench validator --input $TMP/three.jsonl --elements 7 --keep-going --format json
