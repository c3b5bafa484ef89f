# The demo needs no file: five elements pulled, upper-cased and delivered,
# and nothing on stderr.
RUN demo
