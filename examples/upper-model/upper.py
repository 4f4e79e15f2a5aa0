"""Upper-cases a text file: input `source`, output `result` (a flow's first step in the examples)."""
import json
import os

with open(os.environ["CONVEYOR_INPUTS"], encoding="utf-8") as f:
    inputs = json.load(f)
with open(inputs["source"], encoding="utf-8") as f:
    text = f.read()
out = os.path.join(os.environ["CONVEYOR_OUTPUT_DIR"], "result.txt")
with open(out, "w", encoding="utf-8") as f:
    f.write(text.upper())
print(f"upper-cased {len(text)} characters", flush=True)
