#!/bin/sh
# The benchmark's model: does nothing, successfully. An optional parameter `sleep` (seconds) makes it wait.
sleep_for=$(sed -n 's/.*"sleep": *\([0-9.]*\).*/\1/p' "$CONVEYOR_PARAMS")
[ -n "$sleep_for" ] && sleep "$sleep_for"
true
