"""A model that misbehaves on purpose, to show what the runner contains (parameter `behaviour`):

- `allocate`: fills `megabytes` MB of memory, holds it `seconds` (default 1) and exits 0 (usage is
  measured).
- `hog`: allocates 50 MB at a time without end (ends when the memory limit kills it).
- `forks`: starts `children` processes that sleep, and says how many it could start.
- `ignore-term`: ignores SIGTERM and sleeps (only SIGKILL ends it).
- `escape`: starts a child in a session of its own (setsid) that keeps the output open and
  sleeps, then sleeps itself (`leave`: exits at once instead).
- `print`: writes `megabytes` MB of output lines as fast as it can.
- `fill`: writes `megabytes` MB to files in its folder, 8 MB at a time, a little at a time.
- `hold`: sleeps `seconds` (with its input `data`, if given, in its folder meanwhile).
- `read`: reads its own input `data`, then tries to read the file `path`, and says what it could.
- `env`: prints the environment variable `variable` and the interpreter it runs on.
- `report`: says how far it is, its results and an event through `$CONVEYOR_PROGRESS` over
  `seconds` seconds (and one line that is not JSON, which the runner counts and ignores).

Every process it starts carries `marker` in its command line, so a test can look for leftovers.
"""
import json
import os
import signal
import sys
import time

params = json.load(open(os.environ["CONVEYOR_PARAMS"]))
behaviour = params.get("behaviour", "allocate")
marker = params.get("marker", "")
megabytes = int(params.get("megabytes", 100))


def sleeper(seconds):
    """Replaces this process with a sleep whose command line carries the marker."""
    os.execvp("python3", ["python3", "-c", "import time; time.sleep(%d)" % seconds, marker])


if behaviour == "allocate":
    block = bytearray(megabytes * 1024 * 1024)
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    print("allocated %d MB" % megabytes, flush=True)
    time.sleep(int(params.get("seconds", 1)))
elif behaviour == "hog":
    blocks = []
    while True:
        block = bytearray(50 * 1024 * 1024)
        for offset in range(0, len(block), 4096):
            block[offset] = 1
        blocks.append(block)
        print("holding %d MB" % (50 * len(blocks)), flush=True)
elif behaviour == "forks":
    wanted = int(params.get("children", 2000))
    started = 0
    for _ in range(wanted):
        try:
            pid = os.fork()
        except OSError as error:
            print("fork failed after %d children: %s" % (started, error), flush=True)
            break
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        started += 1
    print("started %d of %d children" % (started, wanted), flush=True)
elif behaviour == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
    while True:
        time.sleep(1)
elif behaviour == "escape":
    if os.fork() == 0:
        os.setsid()
        sleeper(300)
    print("left a child in its own session holding the output", flush=True)
    if not params.get("leave", False):
        sleeper(300)
elif behaviour == "print":
    line = ("x" * 1023 + "\n").encode()
    for _ in range(megabytes * 1024):
        sys.stdout.buffer.write(line)
    sys.stdout.flush()
elif behaviour == "fill":
    chunk = b"x" * (8 * 1024 * 1024)
    for index in range(max(1, megabytes // 8)):
        with open("fill-%d.bin" % index, "wb") as out:
            out.write(chunk)
        print("wrote %d MB" % (8 * (index + 1)), flush=True)
        time.sleep(0.2)
elif behaviour == "hold":
    time.sleep(int(params.get("seconds", 1)))
elif behaviour == "read":
    own = os.environ.get("CONVEYOR_INPUT_DATA")
    if own:
        print("read my input: %d bytes" % len(open(own, "rb").read()), flush=True)
    try:
        print("read %s: %d bytes" % (params["path"], len(open(params["path"], "rb").read())), flush=True)
    except OSError as error:
        print("cannot read %s: %s" % (params["path"], error.strerror), flush=True)
elif behaviour == "report":
    steps = max(1, int(params.get("seconds", 4)))
    with open(os.environ["CONVEYOR_PROGRESS"], "a") as progress:
        def say(**fields):
            progress.write(json.dumps(fields) + "\n")
            progress.flush()
        say(progress=0.0, message="starting")
        progress.write("this is not JSON\n")
        for step in range(1, steps + 1):
            time.sleep(1)
            say(progress=step / steps, message="step %d of %d" % (step, steps))
            if step == 1:
                say(event="checkpoint written")
        say(result="rows", value=1200)
        say(result="score", value=0.93)
        say(result="label", value="ok")
        say(progress=1.0, message="done")
elif behaviour == "env":
    name = params.get("variable", "")
    print("%s=%s" % (name, os.environ.get(name, "(not set)")), flush=True)
    print("interpreter %s" % sys.executable, flush=True)
else:
    print("unknown behaviour %r" % behaviour, file=sys.stderr)
    sys.exit(2)
