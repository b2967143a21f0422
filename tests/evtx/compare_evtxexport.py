#!/usr/bin/env python3
"""For every .evtx under DIR that libevtx's evtxexport parses, checks that
`iisguard dump --format xml` yields the same EventRecordIDs, and for each the
same EventID, Computer and TimeCreated.  evtxexport drops records it cannot
decode (template-less ones, everything after a bad record), so every record
it prints must be among ours, equal; records only we decode are counted.

usage: compare_evtxexport.py IISGUARD DIR"""
import os, re, shutil, subprocess, sys
import xml.etree.ElementTree as ET

NS = '{http://schemas.microsoft.com/win/2004/08/events/event}'


def facts(ev):
    sysel = ev.find(NS + 'System')
    if sysel is None:
        return None
    def text(tag):
        e = sysel.find(NS + tag)
        return None if e is None else (e.text or '')
    tc = sysel.find(NS + 'TimeCreated')
    t = tc.get('SystemTime') if tc is not None else None
    if t:
        m = re.match(r'(.*\.\d{1,7})\d*Z$', t)
        t = m.group(1) if m else t
        whole, frac = t.split('.') if '.' in t else (t, '')
        t = whole + '.' + frac.ljust(7, '0')
    rid = text('EventRecordID')
    return rid, (text('EventID'), text('Computer'), t)


def parse_docs(blob):
    out = {}
    for m in re.finditer(r'<Event[ >].*?</Event>', blob, re.S):
        try:
            ev = ET.fromstring(m.group(0))
        except ET.ParseError:
            continue
        f = facts(ev)
        if f and f[0] is not None:
            out[f[0]] = f[1]
    return out


def main():
    exe, root = sys.argv[1], sys.argv[2]
    if not os.path.isdir(root):
        print(f'SKIP: {root} not found (the shared EVTX corpus is absent)')
        return 77
    if shutil.which('evtxexport') is None:
        print('SKIP: evtxexport (libevtx-utils) not installed')
        return 77
    files = sorted(os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns
                   if n.endswith('.evtx'))
    theirs_total = ours_total = only_ours = 0
    bad = []
    for f in files:
        r = subprocess.run(['evtxexport', '-f', 'xml', f], capture_output=True)
        theirs = parse_docs(r.stdout.decode('utf-8', 'replace'))
        o = subprocess.run([exe, 'dump', '-q', '--format', 'xml', '--threads', '1', f],
                           capture_output=True)
        ours = {}
        for line in o.stdout.decode('utf-8').splitlines():
            ours.update(parse_docs(line))
        theirs_total += len(theirs)
        ours_total += len(ours)
        only_ours += len(set(ours) - set(theirs))
        for rid, fa in theirs.items():
            if rid not in ours:
                bad.append(f'{f}: record {rid} missing from ours')
            elif ours[rid] != fa:
                bad.append(f'{f}: record {rid}: ours {ours[rid]} != evtxexport {fa}')
    print(f'evtxexport agreement: {len(files)} files, evtxexport {theirs_total} records, '
          f'iisguard {ours_total}, {only_ours} decoded only by iisguard, {len(bad)} disagreements')
    for b in bad[:20]:
        print('  ', b)
    print(f'{theirs_total - len(bad)} passed, {len(bad)} failed')
    return 1 if bad or theirs_total == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
