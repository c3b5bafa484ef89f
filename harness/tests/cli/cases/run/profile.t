# --profile FILE writes a guest profile (Firefox profiler format) and a
# note on stderr; the run's output is unchanged. The file's content is
# tested in tests/profile.rs.
RUN run uppercase --input - --profile $TMP/uppercase.json
STDIN
| hello
# A pipeline's profile has a thread per stage.
RUN pipeline counter-source uppercase sink --config 'counter-source={"count": 1}' --profile $TMP/pipeline.json
# The mock runs no WebAssembly: nothing to profile.
RUN run uppercase --input - --profile $TMP/mock.json --backend mock
STDIN
| hello
EXIT 3
# A sweep is many runs: refused.
RUN run uppercase --profile $TMP/sweep.json --fail-host-call all
EXIT 2
# Profiling and recording each run the component their own way.
RUN run uppercase --profile $TMP/both.json --record $TMP/rec.jsonl
EXIT 2
