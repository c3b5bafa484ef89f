# Cache sizes it refuses; a bound or cache stats with --no-cache; a file
# where the cache directory should be (4, naming it).
RUN --cache-dir $TMP/cache --cache-max-size=0 cache stats
EXIT 2
RUN --cache-dir $TMP/cache '--cache-max-size=12 parsecs' cache stats
EXIT 2
RUN --cache-dir $TMP/cache --cache-max-size=-1 cache stats
EXIT 2
RUN --no-cache --cache-max-size 1GiB cache stats
EXIT 2
RUN --no-cache cache stats
EXIT 2
FILE a-file
| x
RUN --cache-dir $TMP/a-file inspect uppercase
EXIT 4
