#!/usr/bin/python3
"""Runs laurel (the auditd plugin that turns audit records into JSON) on raw auditd logs, reading
them on standard input as it reads auditd's dispatcher, with enrichment from this machine's
processes turned off so the answer depends on the log alone, in four settings (MODES): both argv
modes (execve-argv = array, string), and each with execve-argv-limit-bytes = 2000, where laurel
cuts arguments out of the middle of long argument lists. Prints one JSON document
{file: {mode: [event, ...]}} holding laurel's own output for every event with an EXECVE record or
an execve syscall (in the limited modes, only those where laurel cut something out).
Run it from the repository root with the logs' paths as arguments.

Used by test/oracle/laurel-oracle.test.ts. Refresh the cached answer with
  /usr/bin/python3 test/oracle/laurel-oracle.py \\
    $(python3 -c "import json; print(*json.load(open('test/oracle/laurel-oracle.json')))") \\
    > /tmp/laurel-oracle.json && mv /tmp/laurel-oracle.json test/oracle/laurel-oracle.json
"""
import json
import subprocess
import sys
import tempfile

MODES = {
    "array": 'execve-argv = [ "array" ]',
    "string": 'execve-argv = [ "string" ]',
    "array-limited": 'execve-argv = [ "array" ]\nexecve-argv-limit-bytes = 2000',
    "string-limited": 'execve-argv = [ "string" ]\nexecve-argv-limit-bytes = 2000',
}

CONFIG = """directory = "{directory}"
statusreport-period = 0
[auditlog]
file = "-"
[transform]
{transform}
[enrich]
pid = false
execve-env = []
container = false
script = false
"""


def is_exec(event):
    syscall = event.get("SYSCALL") or {}
    return "EXECVE" in event or syscall.get("syscall") in (59, 322, "execve", "execveat")


def was_cut(event):
    execve = event.get("EXECVE") or {}
    argv = execve.get("ARGV") or []
    return any(isinstance(a, dict) for a in argv) or "<<< Skipped: " in execve.get("ARGV_STR", "")


def run_laurel(path, mode):
    with tempfile.TemporaryDirectory() as directory:
        config = f"{directory}/laurel.toml"
        with open(config, "w") as out:
            out.write(CONFIG.format(directory=directory, transform=MODES[mode]))
        with open(path, "rb") as log:
            output = subprocess.run(
                ["laurel", "--config", config], stdin=log, capture_output=True, check=True
            ).stdout
    events = [json.loads(line) for line in output.decode("utf-8").splitlines() if line.strip()]
    limited = mode.endswith("-limited")
    return [event for event in events if is_exec(event) and (not limited or was_cut(event))]


if __name__ == "__main__":
    result = {path: {mode: run_laurel(path, mode) for mode in MODES} for path in sys.argv[1:]}
    # One event a line, so a change to the answer reads as a change to the events it touches.
    compact = {"ensure_ascii": False, "sort_keys": True, "separators": (",", ":")}
    files = []
    for path in sorted(result):
        modes = []
        for mode in MODES:
            events = ",\n".join("   " + json.dumps(event, **compact) for event in result[path][mode])
            modes.append(f'  {json.dumps(mode)}: [\n{events}\n  ]')
        files.append(f' {json.dumps(path)}: {{\n' + ",\n".join(modes) + "\n }")
    sys.stdout.write("{\n" + ",\n".join(files) + "\n}\n")
