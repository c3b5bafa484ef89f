# Plain lines from stdin, as a table; from a file (-i), as YAML, with a
# seed in hex.
RUN run uppercase --input -
STDIN
| one
| two words
FILE in.txt
| abc
RUN run uppercase -i $TMP/in.txt --format yaml --seed 0x2a
