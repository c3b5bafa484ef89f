# --component STAGE=FILE must name a stage of the pipeline.
RUN check $ROOT/fixtures/pipelines/counter-upper-sink.yaml --snapshot $ROOT/tests/all/snapshots/all__snapshots__pipelines@counter-upper-sink.yaml.snap --component filter=trap
EXIT 2
