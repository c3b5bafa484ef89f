# --fail-on exits with 5 when a failure it names happened (stderr says
# which, and the first), and 0 by default; the table is printed all the
# same. trap: `process` traps (no lifecycle). lifecycle: init("") answers
# invalid-input. fatal-sink: `push` answers fatal.
RUN run trap --input -
STDIN
| a
| b
RUN run trap --input - --fail-on faults
STDIN
| a
| b
EXIT 5
RUN run trap --input - --fail-on errors
STDIN
| a
| b
RUN run trap --input - --fail-on init
STDIN
| a
| b
RUN run trap --input - --fail-on any
STDIN
| a
| b
EXIT 5
RUN run lifecycle --input -
STDIN
| a
| b
RUN run lifecycle --input - --fail-on init
STDIN
| a
| b
EXIT 5
RUN run lifecycle --input - --fail-on errors
STDIN
| a
| b
EXIT 5
RUN run lifecycle --input - --fail-on faults
STDIN
| a
| b
RUN run fatal-sink --input -
STDIN
| a
| b
RUN run fatal-sink --input - --fail-on errors
STDIN
| a
| b
EXIT 5
RUN run fatal-sink --input - --fail-on init,faults
STDIN
| a
| b
RUN run fatal-sink --input - --fail-on init --fail-on errors
STDIN
| a
| b
EXIT 5
RUN run uppercase --input - --fail-on any
STDIN
| a
| b
