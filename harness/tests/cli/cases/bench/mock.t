# bench on the mock: the mock beside the engine (tests/cli/bench.rs checks
# the ratio against the two figures). A component without a mock model is
# refused before anything runs, with the models there are and what to run
# instead.
RUN --no-cache bench uppercase --backend mock --payload 64 --elements 210
RUN --no-cache bench trap --backend mock
EXIT 3
RUN --no-cache bench fixtures/components/passthrough.wat --backend mock
EXIT 3
