# bench compiles through the cache: the first run compiles, the second
# loads from the disk tier, and says so apart from the measured figures
# (JSON, and the table's compile line).
RUN --cache-dir $TMP/cache bench passthrough --payload 16 --elements 7 --format json
RUN --cache-dir $TMP/cache bench passthrough --payload 16 --elements 7 --format json
RUN --cache-dir $TMP/cache bench passthrough --payload 16 --elements 7
