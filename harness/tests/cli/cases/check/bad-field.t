# A field of the wrong shape is reported with its file, line and path, and
# the page that lists every field.
FILE bad.yaml
| name: bad
| component: uppercase
| inputs:
|   - payload: a
|   - payload: {id: 7}
RUN check $TMP/bad.yaml --snapshot $TMP/bad.snap.yaml
EXIT 3
