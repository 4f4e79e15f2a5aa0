#!/bin/sh
# A model that fails: prints a little and exits with the code given as parameter `code` (default 3).
echo "starting a model that will fail"
code=$(python3 -c 'import json,os; print(json.load(open(os.environ["CONVEYOR_PARAMS"])).get("code", 3))')
echo "exiting with code $code" >&2
exit "$code"
