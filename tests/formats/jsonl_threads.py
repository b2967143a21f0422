#!/usr/bin/env python3
"""hunt over a JSON-lines file with 1 and 2 threads: the same alerts in the same
order and the same messages, whatever falls on the edges of the blocks of lines
the threads share (damaged, blank and CRLF lines, lines of 6 MiB and of 9 MiB —
over the reader's 8 MiB limit —, of exactly 8 MiB and of 8 MiB + 1 byte, and a
last line without its line break).

usage: jsonl_threads.py IISGUARD
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile

exe = sys.argv[1]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from checks import check, finish  # noqa: E402


def event(i, image, cmd, pad=0):
    data = {"Image": image, "CommandLine": cmd, "ParentImage": "C:\\Windows\\explorer.exe"}
    if pad:
        data["Pad"] = "A" * pad
    return json.dumps({"Event": {"System": {
        "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
        "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "web%02d" % (i % 7),
        "TimeCreated": {"#attributes": {"SystemTime": "2026-01-%02dT%02d:%02d:%02d.000000Z" % (
            1 + i // 86400 % 28, i // 3600 % 24, i // 60 % 60, i % 60)}},
        "EventRecordID": i}, "EventData": data}})


def make(path, seed, with_long_last):
    rnd = random.Random(seed)
    attack = "appcmd.exe install module /name:M%d /image:C:\\Windows\\Temp\\m%d.dll"
    out = bytearray()
    lines = []
    i = 0
    while len(out) < 56 << 20:  # 40 MiB of lines, and the two of 8 MiB
        i += 1
        r = rnd.random()
        if r < 0.002:
            line = event(i, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i, i))
        elif r < 0.003:
            line = '{"Event": {"System": '  # damaged
        elif r < 0.004:
            line = rnd.choice(["", "   "])
        else:
            line = event(i, "C:\\Windows\\System32\\svchost.exe", "svchost.exe -k netsvcs -p %d" % i)
        if i == 5:  # a damaged line, then one over the limit in the same block of lines
            line = '{"Event": {"System": '
        if i == 20:
            line = event(i, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i, i), 9 << 20)
        if i == 3000:  # under the limit: read
            line = event(i, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i, i), 6 << 20)
        if i == 9000:  # over it: reported and skipped
            line = event(i, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i, i), 9 << 20)
        if i in (12000, 15000):  # exactly the limit (read), one byte over it (skipped)
            short = event(i, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i, i), 1)
            want = (8 << 20) + (i == 15000)
            line = event(i, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i, i),
                         1 + want - len(short))
        b = line.encode() + (b"\r\n" if rnd.random() < 0.3 else b"\n")
        out += b
        lines.append(b)
    if with_long_last:
        out += event(i + 1, "C:\\x.exe", "x", 9 << 20).encode()
    else:
        out += event(i + 1, "C:\\Windows\\System32\\inetsrv\\appcmd.exe", attack % (i + 1, i + 1)).encode()
    with open(path, "wb") as f:
        f.write(out)


def hunt(path, threads, tmp):
    out = os.path.join(tmp, "out%d.jsonl" % threads)
    p = subprocess.run([exe, "hunt", "--threads", str(threads), "--format", "jsonl", path,
                        "-o", out, "--force"], capture_output=True, text=True)
    err = [l for l in p.stderr.splitlines() if not re.search(r" in [0-9.]+ s$", l)]
    with open(out) as f:
        return p.returncode, f.read(), err


with tempfile.TemporaryDirectory() as tmp:
    for seed, long_last in ((1, False), (2, True)):
        path = os.path.join(tmp, "events%d.jsonl" % seed)
        make(path, seed, long_last)
        rc1, out1, err1 = hunt(path, 1, tmp)
        rc2, out2, err2 = hunt(path, 2, tmp)
        n = out1.count("\n")
        check(rc1 == 2 and rc2 == 2, "seed %d: exit codes %d, %d (want 2: damaged lines)" % (seed, rc1, rc2))
        check(n > 50, "seed %d: only %d alerts" % (seed, n))
        check(out1 == out2, "seed %d: alerts differ between 1 and 2 threads" % seed)
        check(err1 == err2, "seed %d: messages differ: %s" % (
            seed, [l for l in err1 + err2 if (l in err1) != (l in err2)][:3]))
        over = [l for l in err1 if "line longer than the limit" in l]
        check(len(over) == 3 + long_last, "seed %d: %d lines over the limit reported" % (seed, len(over)))
        check("m3000.dll" in out1, "seed %d: the 6 MiB line was not hunted" % seed)
        check("m12000.dll" in out1 and "m15000.dll" not in out1,
              "seed %d: a line of exactly 8 MiB not hunted, or one of 8 MiB + 1 hunted" % seed)
        check("m9000.dll" not in out1 and "m20.dll" not in out1, "seed %d: a 9 MiB line was hunted" % seed)
        damaged = sum(1 for l in err1 if re.search(r"events%d\.jsonl:\d+: " % seed, l)) - len(over)
        check(damaged > 10, "seed %d: %d damaged lines reported" % (seed, damaged))
        summary = [l for l in err1 if " anomalies" in l]
        check(bool(summary) and ("%d anomalies" % (damaged + len(over))) in summary[0],
              "seed %d: summary %s, %d damaged + %d long" % (seed, summary, damaged, len(over)))

finish("jsonl threads")
