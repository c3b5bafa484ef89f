# bench stops at the first element the component refuses (5), naming it
# and what to do; with --keep-going every element is measured and the
# refused one counted. A trap stops bench even so; the built-in payload is
# element 0. A config the component refuses is its failure; a config for
# a component without lifecycle is a usage error.
FILE words.txt
| ok
| fine
|
| !bad
| never
RUN --no-cache bench scribble --input $TMP/words.txt --elements 7
EXIT 5
RUN --no-cache bench scribble --input $TMP/words.txt --elements 14 --keep-going --format json
RUN --no-cache bench trap --elements 7 --keep-going
EXIT 5
RUN --no-cache bench sink --config '{"count": 0}'
EXIT 5
RUN --no-cache bench passthrough --config {}
EXIT 2
