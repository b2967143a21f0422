#!/usr/bin/env python3
"""SigmaHQ regression data through the JSON-lines reader: every .json under
REGRESSION_DIR (evtx_dump output: pretty-printed, several objects one after
the other) is split into its objects, written one object per line to a
temporary .jsonl file, and `iisguard hunt` must match the rule that the
neighbouring info.yml names (rules found as tests/engine/regression_hunt.py
finds them: by id under the sigma checkout's rules* folders, beside
regression_data).  Prints the misses, the percentage and "N passed, M failed";
exits 77 when the data is absent.

usage: jsonl_regression.py IISGUARD REGRESSION_DIR   (or the sigma checkout)"""
import json, os, re, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'engine'))
from sigmadata import rule_index  # noqa: E402


def split_objects(text):
    """The JSON texts of `text`, each as it is written there, on one line
    (a raw newline can only be white space between tokens in JSON)."""
    dec = json.JSONDecoder()
    out, i = [], 0
    while True:
        while i < len(text) and text[i] in ' \t\r\n':
            i += 1
        if i >= len(text):
            return out
        _, end = dec.raw_decode(text, i)
        out.append(text[i:end].replace('\r', ' ').replace('\n', ' '))
        i = end


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1])
        return 2
    exe, reg = sys.argv[1], sys.argv[2]
    if os.path.isdir(os.path.join(reg, 'regression_data')):
        reg = os.path.join(reg, 'regression_data')
    if not os.path.isdir(reg):
        print(f'SKIP: {reg} not found (the shared Sigma data is absent)')
        return 77
    rules = rule_index(os.path.dirname(os.path.abspath(reg)))
    total = hit = 0
    misses = []
    with tempfile.TemporaryDirectory(prefix='jsonl_regression_') as tmp:
        for d, _, names in sorted(os.walk(reg)):
            if 'info.yml' not in names:
                continue
            with open(os.path.join(d, 'info.yml'), encoding='utf-8') as f:
                info = f.read()
            ids = re.findall(r'^\s*-?\s*id:\s*([0-9a-fA-F-]{36})', info, re.M)
            rid = ids[1].lower() if len(ids) > 1 else None  # [0] is the test's own id
            for n in sorted(names):
                if not n.endswith('.json'):
                    continue
                total += 1
                src = os.path.join(d, n)
                if rid not in rules:
                    misses.append(f'{src}: rule {rid} not found')
                    continue
                try:
                    with open(src, encoding='utf-8') as f:
                        objs = split_objects(f.read())
                except ValueError as e:
                    misses.append(f'{src}: not JSON ({e})')
                    continue
                jl = os.path.join(tmp, f'{total}_{n[:-5]}.jsonl')
                with open(jl, 'w', encoding='utf-8', newline='\n') as f:
                    f.write(''.join(o + '\n' for o in objs))
                r = subprocess.run(
                    [exe, 'hunt', '-q', '--format', 'jsonl', '--rules', rules[rid], jl],
                    capture_output=True)
                got = []
                for line in r.stdout.decode('utf-8', 'replace').splitlines():
                    try:
                        got.append(json.loads(line)['rule']['id'].lower())
                    except (ValueError, KeyError, TypeError, AttributeError):
                        pass
                if rid in got:
                    hit += 1
                else:
                    err = r.stderr.decode('utf-8', 'replace').strip().splitlines()
                    misses.append(f'{src}: rule {rid} ({os.path.basename(rules[rid])}) did not '
                                  f'match {len(objs)} events' + (f' [{err[-1]}]' if err else ''))
    print(f'jsonl regression hunt: {total} cases, {hit} matched ({hit / max(total, 1):.2%})')
    for m in misses:
        print('  MISS', m)
    print(f'{hit} passed, {total - hit} failed')
    return 0 if total and hit == total else 1


if __name__ == '__main__':
    sys.exit(main())
