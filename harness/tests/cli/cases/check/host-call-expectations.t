# A scenario's `forbid_host_calls` and `expect_host_calls` fail a run that
# makes a host call they do not allow, naming the entry, the call and
# what was expected, with exit code 1 (the code of a failed check).

FILE forbid.yaml
| name: forbid-allocate
| component: uppercase
| forbid_host_calls: [allocate]
| inputs:
|   - payload: hi
RUN check $TMP/forbid.yaml --snapshot $TMP/forbid.snap.yaml --update
EXIT 1
FILE order.yaml
| name: wrong-order
| component: uppercase
| expect_host_calls:
|   process: [allocate, read-all]
| inputs:
|   - payload: hi
RUN check $TMP/order.yaml --snapshot $TMP/order.snap.yaml --update
EXIT 1
# The same on the mock backend.
RUN check $TMP/forbid.yaml --snapshot $TMP/forbid.snap.yaml --update --backend mock
EXIT 1
# A name that is no host function, or names two, is an input error.
FILE ambiguous.yaml
| name: ambiguous
| component: uppercase
| forbid_host_calls: [size]
RUN check $TMP/ambiguous.yaml --snapshot $TMP/ambiguous.snap.yaml
EXIT 3
# Met expectations pass, and --trace-host-calls puts the trace in the
# snapshot.
FILE good.yaml
| name: good
| component: uppercase
| expect_host_calls:
|   process: [read-all, allocate, append, set-content-type, freeze, "[resource-drop]mutable-buffer"]
| inputs:
|   - payload: hi
RUN check $TMP/good.yaml --snapshot $TMP/good.snap.yaml --update --trace-host-calls
CAT $TMP/good.snap.yaml
RUN check $TMP/good.yaml --snapshot $TMP/good.snap.yaml --trace-host-calls
