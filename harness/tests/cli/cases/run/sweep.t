# --fail-host-call all: one case per host call, each failing that call;
# a row per case in the table, `failed_host_call`, the function and the
# answer in JSON.
RUN run uppercase --input - --fail-host-call all
STDIN
| hello
| World
RUN run uppercase --input - --fail-host-call all --format json
STDIN
| hello
| World
