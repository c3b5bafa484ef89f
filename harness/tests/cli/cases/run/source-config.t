# A source with an init config counts to it.
RUN run counter-source --config '{"count": 2}' --format json
