# Bad combinations of check's options are usage errors (2); a --component
# that is not there is an input error (3).
FILE upper.yaml
| name: upper
| component: uppercase
| inputs:
|   - payload: banana split
|   - payload: kiwi
RUN check $TMP/upper.yaml --snapshot $TMP/upper.snap.yaml --update
RUN check $TMP/upper.yaml --snapshot $TMP/upper.snap.yaml --compare exact --fuel-tolerance 5
EXIT 2
RUN check $TMP/upper.yaml --snapshot $TMP/upper.snap.yaml --compare roughly
EXIT 2
RUN check $TMP/upper.yaml --snapshot $TMP/upper.snap.yaml --fuel-tolerance ten
EXIT 2
RUN check $TMP/upper.yaml --snapshot $TMP/upper.snap.yaml --component missing.wasm
EXIT 3
