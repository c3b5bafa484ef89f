# --grant: the probe answers from what was granted; per stage in a
# pipeline, where an unknown stage is a usage error.
RUN run capability-probe --input - --grant wasi-random --format json
STDIN
| wasi-random
| wasi-network-egress
RUN run capability-probe --input - --format json
STDIN
| wasi-random
RUN pipeline counter-source capability-probe sink --grant nope=wasi-random
EXIT 2
