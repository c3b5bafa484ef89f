# Each sweep case says how the guest took its failure. buffer-hog traps
# when allocate answers an error: the summary names it and the flag;
# --require-handled fails that sweep (1), naming the cases on stderr.
# uppercase answers a process-error to both errors it may handle, so the
# flag passes it. Only a sweep takes the flag (2).
RUN run buffer-hog --input - --fail-host-call all --sweep-limit 3
STDIN
| a
RUN run buffer-hog --input - --fail-host-call all --sweep-limit 3 --require-handled
STDIN
| a
EXIT 1
RUN run buffer-hog --input - --fail-host-call all --sweep-limit 3 --require-handled --format json
STDIN
| a
EXIT 1
RUN run uppercase --input - --fail-host-call all --require-handled --format json
STDIN
| hello
| World
RUN run uppercase --input - --fail-host-call all --require-handled
STDIN
| hello
| World
RUN run uppercase --input - --fail-host-call 3 --require-handled
STDIN
| a
EXIT 2
RUN run uppercase --input - --require-handled
STDIN
| a
EXIT 2
