#!/bin/sh
# A model that fails while a file exists: parameter `failWhile` (a path); exits 5 while it is there,
# succeeds once it is gone (a transient failure, for re-runs).
path=$(python3 -c 'import json,os; print(json.load(open(os.environ["CONVEYOR_PARAMS"])).get("failWhile", ""))')
if [ -n "$path" ] && [ -e "$path" ]; then
    echo "failing: $path exists" >&2
    exit 5
fi
echo "succeeded"
