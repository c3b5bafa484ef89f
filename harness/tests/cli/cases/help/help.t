# The help texts: examples and exit codes; run's input formats; check and
# pipeline point to the field reference.
RUN --help
RUN run --help
RUN check --help
RUN pipeline --help
