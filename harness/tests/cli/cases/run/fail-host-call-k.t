# --fail-host-call K fails the K-th host call and marks it on the entry
# that made it; a value that is neither a number nor a mode is a usage
# error listing the forms.
RUN run uppercase --input - --fail-host-call 7 --format json
STDIN
| hello
| World
RUN run uppercase --fail-host-call sometimes
EXIT 2
