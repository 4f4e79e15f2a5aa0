#!/bin/sh
# A model whose log grows while it runs: `count` lines (default 10), one every `interval` seconds
# (default 0.5). For following a log live (the web page's test).
count=$(sed -n 's/.*"count": *\([0-9]*\).*/\1/p' "$CONVEYOR_PARAMS")
interval=$(sed -n 's/.*"interval": *\([0-9.]*\).*/\1/p' "$CONVEYOR_PARAMS")
count=${count:-10}
interval=${interval:-0.5}
i=1
while [ "$i" -le "$count" ]; do
    echo "tick $i of $count"
    i=$((i + 1))
    sleep "$interval"
done
echo "done ticking"
