# --trace-host-calls lists under each call the contract host calls the
# guest made: the function, its arguments in short (handles, sizes,
# offsets, never payload bytes) and the host's answer. `uppercase` reads
# its payload once and allocates once. Without the flag nothing changes.
RUN run uppercase --input - --trace-host-calls
STDIN
| hello
RUN run uppercase --input - --trace-host-calls --format yaml
STDIN
| hi
# On the mock backend the model makes the same host calls.
RUN run uppercase --input - --trace-host-calls --backend mock
STDIN
| hello
# A failed host call the fault plan chose is marked.
RUN run uppercase --input - --trace-host-calls --fail-host-call 1
STDIN
| hello
# A pipeline lists each stage's host calls.
RUN pipeline counter-source uppercase sink --config 'counter-source={"count": 1}' --trace-host-calls
