"""An EXPORT_DATA model: writes each input (inputs.json) to its destination (CONVEYOR_EXPORT_<NAME>)
with a header line naming the job (a stand-in for a real writer)."""
import json
import os

with open(os.environ["CONVEYOR_INPUTS"], encoding="utf-8") as f:
    inputs = json.load(f)
for name, path in sorted(inputs.items()):
    destination = os.environ["CONVEYOR_EXPORT_" + name.upper()]
    os.makedirs(os.path.dirname(destination), exist_ok=True)
    with open(path, encoding="utf-8") as source, open(destination + ".tmp", "w", encoding="utf-8") as target:
        target.write(f"# exported by job {os.environ['CONVEYOR_JOB_ID']}\n")
        target.write(source.read())
    os.replace(destination + ".tmp", destination)
    print(f"exported {name} to {destination}", flush=True)
