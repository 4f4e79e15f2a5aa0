"""Counts the lines and words of a text file: input `source`, output `counts` (JSON)."""
import json
import os

with open(os.environ["CONVEYOR_PARAMS"], encoding="utf-8") as f:
    params = json.load(f)
with open(os.environ["CONVEYOR_INPUTS"], encoding="utf-8") as f:
    inputs = json.load(f)
with open(inputs["source"], encoding="utf-8") as f:
    text = f.read()
counts = {"label": params["label"], "lines": len(text.splitlines()), "words": len(text.split()), "text": text}
with open(os.path.join(os.environ["CONVEYOR_OUTPUT_DIR"], "counts.json"), "w", encoding="utf-8") as f:
    json.dump(counts, f)
print(f"{counts['lines']} lines, {counts['words']} words", flush=True)
