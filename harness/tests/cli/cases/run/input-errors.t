# Bad JSON Lines input names the file and line; a misspelt field too.
FILE in.jsonl
| {"payload": "a"}
|
| {"payload": nope}
RUN run uppercase --input $TMP/in.jsonl
EXIT 3
FILE typo.jsonl
| {"paylod": "a"}
RUN run uppercase --input $TMP/typo.jsonl
EXIT 3
