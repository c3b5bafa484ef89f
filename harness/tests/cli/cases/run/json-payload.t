# A JSON payload is sent byte for byte as written (spacing, key order),
# as application/json.
RUN run passthrough --input - --format json --preview-bytes 0
STDIN
| {"payload":   {"zeta": 1,  "alpha" :[3, 1,2],"mid": {"b": true , "a": null}} }
