# bench prints the engine's and the baseline's time per element, their
# ratio, and the compile time on its own line; no elements is a usage
# error.
RUN --no-cache bench passthrough --payload 64 --elements 500
RUN --no-cache bench passthrough --elements 0
EXIT 2
