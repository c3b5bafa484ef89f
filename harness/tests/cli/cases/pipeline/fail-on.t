# --fail-on applies to every stage of a pipeline (the message names the
# stage), and not to a sweep (2); an unknown kind is a usage error.
RUN pipeline --file $ROOT/fixtures/pipelines/counter-trap-sink.yaml
RUN pipeline --file $ROOT/fixtures/pipelines/counter-trap-sink.yaml --fail-on errors,faults
EXIT 5
RUN pipeline --file $ROOT/fixtures/pipelines/counter-trap-sink.yaml --fail-on init
RUN pipeline counter-source uppercase sink --fail-on any
RUN run uppercase --input - --fail-host-call all --fail-on any
STDIN
| a
EXIT 2
RUN run trap --fail-on traps
EXIT 2
