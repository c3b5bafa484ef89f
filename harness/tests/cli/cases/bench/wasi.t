# bench runs a WASI-importing component on both sides.
RUN --no-cache bench wasi-hello --payload 64 --elements 200
