"""Conveyor's sample model: summarises a text given as a parameter.

Parameters (params.json, path in CONVEYOR_PARAMS):
  text     the text to summarise (string)
  top      how many of the most frequent words to report (integer, default 5)
Output: outputs/summary.json in CONVEYOR_OUTPUT_DIR.
"""
import collections
import json
import os
import re
import sys
import time

with open(os.environ["CONVEYOR_PARAMS"], encoding="utf-8") as f:
    params = json.load(f)

text = params.get("text", "")
top = int(params.get("top", 5))
words = re.findall(r"[\w']+", text.lower())
print(f"read {len(text)} characters, {len(words)} words", flush=True)
for step in range(1, 4):
    print(f"step {step}/3: counting", flush=True)
    time.sleep(0.2)
counts = collections.Counter(words)
summary = {
    "characters": len(text),
    "words": len(words),
    "distinct": len(counts),
    "top": counts.most_common(top),
}
out = os.path.join(os.environ["CONVEYOR_OUTPUT_DIR"], "summary.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump(summary, f, indent=2)
print(f"wrote {out}", file=sys.stderr, flush=True)
print("done", flush=True)
