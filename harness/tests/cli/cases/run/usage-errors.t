# Usage errors exit with 2; a --config for a stage the pipeline lacks
# lists the stages.
RUN run
EXIT 2
RUN run uppercase --format xml
EXIT 2
RUN pipeline counter-source sink --config nope={}
EXIT 2
