# Middle stages take their role from their exports (the token-streaming
# example: filter, aggregator). run drives a filter with evaluate, an
# aggregator with ingest and flush. A router needs its ports mapped, which
# the command line cannot: the message says to use --file.
RUN pipeline token-source token-filter sentence-aggregator sink --format json
RUN run token-filter --input -
STDIN
| fine
| darn it
RUN run sentence-aggregator --input -
STDIN
| so
| long
RUN pipeline token-source router sink
EXIT 3
