"""An IMPORT_DATA model: reads each file to import (CONVEYOR_IMPORT_<NAME>) and writes it as the
output of the same name, with its lines numbered (a stand-in for a real parser)."""
import os

prefix = "CONVEYOR_IMPORT_"
out_dir = os.environ["CONVEYOR_OUTPUT_DIR"]
for key, path in sorted(os.environ.items()):
    if not key.startswith(prefix):
        continue
    name = key[len(prefix):].lower()
    with open(path, encoding="utf-8") as source:
        lines = source.read().splitlines()
    with open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8") as target:
        for number, line in enumerate(lines, 1):
            target.write(f"{number}: {line}\n")
    print(f"imported {name}: {len(lines)} lines", flush=True)
