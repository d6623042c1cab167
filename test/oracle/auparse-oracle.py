#!/usr/bin/python3
"""Decodes every exec event of raw auditd logs with libauparse (the audit userspace's own parser),
independently of Vouch, and prints one JSON document: {file: [event, ...]}, each event
{id, argv, exe, cwd, auid, uid, euid, path0, euid_name}:
- argv comes from the EXECVE records (hex decoded), arguments the kernel split into aN[0], aN[1]...
  parts joined back;
- auid is null when unset;
- path0 is the name in the PATH record with item=0 (the program a failed execve tried);
- euid_name is the name an ENRICHED log gives the euid (null in a RAW log).
Run it from the repository root with the logs' paths as arguments.

Used by test/oracle/auditd-oracle.test.ts. Refresh the cached answer with
  /usr/bin/python3 test/oracle/auparse-oracle.py \
    $(python3 -c "import json; print(*json.load(open('test/oracle/auparse-oracle.json')))") \
    > /tmp/auparse-oracle.json && mv /tmp/auparse-oracle.json test/oracle/auparse-oracle.json
"""
import json
import re
import sys

import auparse

EXEC_SYSCALLS = {"execve", "execveat"}
UNSET = 4294967295
PART = re.compile(r"^a(\d+)\[(\d+)\]$")
WHOLE = re.compile(r"^a(\d+)$")


def fields(parser):
    """(name, raw value, interpreted value) of every field of the current record."""
    out = []
    if not parser.first_field():
        return out
    while True:
        name = parser.get_field_name()
        out.append((name, parser.get_field_str(), parser.interpret_field()))
        if not parser.next_field():
            return out


def number(raw):
    return None if raw is None else int(raw)


def event_of(parser, enriched):
    syscall = None
    cwd = None
    path0 = None
    args = {}
    parts = {}
    parser.first_record()
    while True:
        kind = parser.get_type_name()
        record = fields(parser)
        values = {name: (raw, text) for name, raw, text in record}
        if kind == "SYSCALL":
            syscall = values
        elif kind == "CWD" and "cwd" in values:
            cwd = values["cwd"][1]
        elif kind == "PATH" and values.get("item", (None,))[0] == "0" and "name" in values:
            path0 = values["name"][1]
        elif kind == "EXECVE":
            for name, _raw, text in record:
                whole = WHOLE.match(name)
                part = PART.match(name)
                if whole:
                    args[int(whole.group(1))] = text
                elif part:
                    parts.setdefault(int(part.group(1)), {})[int(part.group(2))] = text
        if not parser.next_record():
            break
    if syscall is None or syscall.get("syscall", (None, None))[1] not in EXEC_SYSCALLS:
        return None
    for index, pieces in parts.items():
        args[index] = "".join(pieces[k] for k in sorted(pieces))
    stamp = parser.get_timestamp()
    auid = number(syscall.get("auid", (None,))[0])
    exe = syscall.get("exe", (None, None))[1]
    return {
        "id": "%d.%03d:%d" % (stamp.sec, stamp.milli, stamp.serial),
        "argv": [args[i] for i in sorted(args)],
        "exe": exe,
        "cwd": cwd,
        "auid": None if auid == UNSET else auid,
        "uid": number(syscall.get("uid", (None,))[0]),
        "euid": number(syscall.get("euid", (None,))[0]),
        "path0": path0,
        "euid_name": syscall["euid"][1] if enriched and "euid" in syscall else None,
    }


def decode(path):
    # Names only when the log itself carries them (ENRICHED, after \x1d): a RAW log would be
    # named from this machine's passwd, which is not the one that wrote it.
    with open(path, "rb") as log:
        enriched = b"\x1d" in log.read()
    parser = auparse.AuParser(auparse.AUSOURCE_FILE, path)
    # Interpreted values exactly as the bytes were, not escaped for a terminal.
    parser.set_escape_mode(auparse.AUPARSE_ESC_RAW)
    events = []
    while parser.parse_next_event():
        event = event_of(parser, enriched)
        if event is not None:
            events.append(event)
    return events


if __name__ == "__main__":
    result = {path: decode(path) for path in sys.argv[1:]}
    json.dump(result, sys.stdout, indent=1, ensure_ascii=False, sort_keys=True)
    sys.stdout.write("\n")
