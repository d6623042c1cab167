#!/usr/bin/python3
"""Decodes every exec event of raw auditd logs with `ausearch -i` (the audit userspace's search
tool, interpreting every field), independently of Vouch and of libauparse's Python bindings, and
prints one JSON document: {file: [event, ...]}, each event {id, argv, exe, cwd}. ausearch names
uids from the local passwd file, which is not the one that wrote the logs, so uids are left to
auparse-oracle.py. Values are read from `--escape shell` output: `\\ooo` is a byte, `\\X` is X.
Run it from the repository root with the logs' paths as arguments.

Used by test/oracle/auditd-oracle.test.ts. Refresh the cached answer with
  /usr/bin/python3 test/oracle/ausearch-oracle.py \\
    $(python3 -c "import json; print(*json.load(open('test/oracle/ausearch-oracle.json')))") \\
    > /tmp/ausearch-oracle.json && mv /tmp/ausearch-oracle.json test/oracle/ausearch-oracle.json
"""
import calendar
import json
import os
import re
import subprocess
import sys
import time

HEADER = re.compile(r"^type=(\S+) msg=audit\((\d\d/\d\d/\d\d \d\d:\d\d:\d\d)\.(\d{3}):(\d+)\) : ?(.*)$")
PART = re.compile(r"^a(\d+)\[(\d+)\]$")
WHOLE = re.compile(r"^a(\d+)$")


def unescape(value):
    """Undoes `--escape shell`: `\\ooo` octal bytes, `\\X` for X; the bytes are UTF-8."""
    out = bytearray()
    i = 0
    raw = value.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):
            octal = raw[i + 1 : i + 4]
            if len(octal) == 3 and all(0x30 <= b <= 0x37 for b in octal):
                out.append(int(octal, 8))
                i += 4
                continue
            out.append(raw[i + 1])
            i += 2
            continue
        out.append(c)
        i += 1
    return out.decode("utf-8", "replace")


def fields(text):
    """key=value pairs of an interpreted record; a value ends at the first unescaped space."""
    result = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        eq = text.find("=", i)
        space = text.find(" ", i)
        if eq < 0 or (0 <= space < eq):
            # A word without a value (free text in some records).
            i = len(text) if space < 0 else space
            continue
        key = text[i:eq]
        j = eq + 1
        while j < len(text) and text[j] != " ":
            j += 2 if text[j] == "\\" else 1
        result.append((key, unescape(text[eq + 1 : j])))
        i = j
    return result


def event_of(records):
    syscall, cwd, args, parts, stamp = None, None, {}, {}, None
    for kind, when, millis, serial, body in records:
        stamp = (when, millis, serial)
        values = fields(body)
        if kind == "SYSCALL":
            syscall = dict(values)
        elif kind == "CWD":
            cwd = dict(values).get("cwd")
        elif kind == "EXECVE":
            for name, value in values:
                whole, part = WHOLE.match(name), PART.match(name)
                if whole:
                    args[int(whole.group(1))] = value
                elif part:
                    parts.setdefault(int(part.group(1)), {})[int(part.group(2))] = value
    if syscall is None or syscall.get("syscall") not in ("execve", "execveat"):
        return None
    for index, pieces in parts.items():
        args[index] = "".join(pieces[k] for k in sorted(pieces))
    when, millis, serial = stamp
    seconds = calendar.timegm(time.strptime(when, "%m/%d/%y %H:%M:%S"))
    return {
        "id": "%d.%s:%s" % (seconds, millis, serial),
        "argv": [args[i] for i in sorted(args)],
        "exe": syscall.get("exe"),
        "cwd": cwd,
    }


def decode(path):
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    output = subprocess.run(
        ["ausearch", "-i", "--escape", "shell", "-if", path],
        env=env, capture_output=True, check=False,
    ).stdout.decode("utf-8", "surrogateescape")
    events = []
    for block in output.split("\n----\n"):
        records = []
        for line in block.split("\n"):
            match = HEADER.match(line)
            if match:
                records.append(match.groups())
        event = event_of(records) if records else None
        if event is not None:
            events.append(event)
    return events


if __name__ == "__main__":
    result = {path: decode(path) for path in sys.argv[1:]}
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")
