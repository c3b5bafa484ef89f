# init runs without a config (with ""): the lifecycle fixture refuses it,
# so no element is sent and the table says why. A source whose init fails
# is never pulled (init, then teardown).
FILE words.txt
| a
| b
RUN run lifecycle --input $TMP/words.txt
RUN run counter-source --config 'no count' -f json
