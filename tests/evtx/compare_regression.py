#!/usr/bin/env python3
"""Compares `iisguard dump --format jsonl` with the evtx_dump JSON shipped
beside each .evtx of SigmaHQ's regression data (../shared).  Key order and
number formatting are normalised.  Exit 1 when fewer than MIN_EXACT of the
records are equal, or when a difference is not listed in KNOWN below.

usage: compare_regression.py IISGUARD REGRESSION_DIR [--verbose]"""
import json, os, subprocess, sys

MIN_EXACT = 0.99
# Differences we accept, by (file stem, record index): the exact differing
# paths and the reason.  Any other difference fails the test.
KNOWN = {
    ('ad691d92-15f2-4181-9aa4-723c74f9ddc3', 0): (
        {'/Event/EventData/ParentCommandLine', '/Event/System/TimeCreated/#attributes/SystemTime'},
        'the shipped JSON disagrees with its own .evtx: the .evtx holds "Explorer.EXE" and a '
        'FILETIME of 100 ns resolution, the JSON says "Explorer.exe" with 9 fractional digits'),
}


def load_concat(path):
    s = open(path, encoding='utf-8').read()
    dec, i, out = json.JSONDecoder(), 0, []
    while i < len(s):
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            break
        o, i = dec.raw_decode(s, i)
        out.append(o)
    return out


def norm(o):
    if isinstance(o, dict):
        return {k: norm(v) for k, v in o.items()}
    if isinstance(o, list):
        return [norm(v) for v in o]
    if isinstance(o, float) and o.is_integer():
        return int(o)
    return o


def diff(a, b, path=''):
    if type(a) != type(b):
        return [f'{path}: {a!r} != {b!r}']
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f'{path}/{k}: missing in ours ({b[k]!r})')
            elif k not in b:
                out.append(f'{path}/{k}: extra in ours ({a[k]!r})')
            else:
                out += diff(a[k], b[k], f'{path}/{k}')
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f'{path}: list length {len(a)} != {len(b)}']
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += diff(x, y, f'{path}[{i}]')
        return out
    return [] if a == b else [f'{path}: {a!r} != {b!r}']


def main():
    exe, root = sys.argv[1], sys.argv[2]
    if not os.path.isdir(root):
        print(f'SKIP: {root} not found (the shared regression data is absent)')
        return 77
    verbose = '--verbose' in sys.argv
    files = []
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith('.evtx') and os.path.exists(os.path.join(d, n[:-5] + '.json')):
                files.append(os.path.join(d, n))
    files.sort()
    total = exact = 0
    unexpected = []
    for f in files:
        want = load_concat(f[:-5] + '.json')
        r = subprocess.run([exe, 'dump', '-q', '--threads', '1', f], capture_output=True)
        got = [json.loads(l) for l in r.stdout.decode('utf-8').splitlines() if l.strip()]
        stem = os.path.basename(f)[:-5]
        if len(got) != len(want):
            unexpected.append(f'{f}: {len(got)} records, expected {len(want)}')
        for i, (g, w) in enumerate(zip(got, want)):
            total += 1
            d = diff(norm(g), norm(w))
            if not d:
                exact += 1
            else:
                paths = {x.split(':')[0] for x in d}
                known = KNOWN.get((stem, i))
                if known is None or paths != known[0]:
                    unexpected.append(f'{f} record {i}: ' + '; '.join(d[:5]))
                elif verbose:
                    print(f'  known difference in {stem} record {i}: {known[1]}')
    ratio = exact / total if total else 0.0
    print(f'regression JSON: {len(files)} files, {total} records, {exact} exact ({ratio:.2%})')
    for u in unexpected[: (None if verbose else 20)]:
        print('  DIFF', u)
    failed = total == 0 or ratio < MIN_EXACT or bool(unexpected)
    accepted = total - exact - len([u for u in unexpected if ' record ' in u])
    print(f'{exact} passed, {len(unexpected)} failed, {accepted} skipped')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
