# --config @FILE reads the init config from a file, for run and for a
# pipeline's stage; a file that is not there is an input error (3).
FILE count.json
| {"count": 2}
RUN run counter-source --config @$TMP/count.json --format json
RUN pipeline counter-source sink --config counter-source=@$TMP/count.json --format json
RUN run counter-source --config @/no/such/count.json
EXIT 3
