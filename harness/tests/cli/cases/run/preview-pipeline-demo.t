# --preview-bytes applies to the demo and to pipelines.
RUN demo --preview-bytes 3 --format json
RUN pipeline counter-source passthrough sink --preview-bytes 1 --config 'counter-source={"count": 12}' --format yaml
