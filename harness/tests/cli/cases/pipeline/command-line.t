# A pipeline from the command line: stages by name, --max-pulls, a
# stage's --config, JSON.
RUN pipeline counter-source uppercase sink --max-pulls 10
RUN pipeline counter-source uppercase sink --config 'counter-source={"count": 4}' --format json
