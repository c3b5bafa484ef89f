# An import the engine lacks is linked to a stub: the element that does
# not reach it passes, the one that calls it faults naming the function.
# inspect lists the stub (table and JSON). --refuse-unknown-imports
# refuses the component, naming the import and the flag.
RUN run unlinked-import --input - --format json
STDIN
| even
| odd
RUN inspect unlinked-import
RUN inspect unlinked-import --format json
RUN run unlinked-import --refuse-unknown-imports --input -
STDIN
| even
EXIT 3
