# check accepts the suite's insta snapshots; a pipeline file whose sinks
# are all in `sinks:` is a pipeline to check too.
RUN check uppercase --snapshot $ROOT/tests/all/snapshots/all__snapshots__scenarios@uppercase.yaml.snap
RUN check $ROOT/fixtures/pipelines/mock-router-fan-out.yaml --snapshot $ROOT/tests/all/snapshots/all__snapshots__pipelines@mock-router-fan-out.yaml.snap
