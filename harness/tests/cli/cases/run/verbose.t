# -vv logs every call's span, with its fields, to stderr; stdout is the
# same with and without it. RUST_LOG alone turns logging on; at warn, a
# fault is an event and no span is logged.
FILE in.txt
| a
| b
RUN --no-cache -vv run uppercase --input $TMP/in.txt
RUN --no-cache run uppercase --input $TMP/in.txt
RUN --no-cache run trap --input $TMP/in.txt
ENV RUST_LOG=torvyn_engine=warn
