#!/usr/bin/env python3
"""SigmaHQ regression data: for every info.yml under REGRESSION_DIR, the rule
it names (found beside the regression data under ../sigma/rules*) must match
its .evtx when run with `iisguard hunt`.  Prints misses with the reason.

usage: regression_hunt.py IISGUARD SIGMA_DIR"""
import json, os, re, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'engine'))
from sigmadata import rule_index  # noqa: E402


def main():
    exe, sigma = sys.argv[1], sys.argv[2]
    reg = os.path.join(sigma, 'regression_data')
    if not os.path.isdir(reg):
        print(f'SKIP: {reg} not found (the shared Sigma data is absent)')
        return 77
    rules = rule_index(sigma)
    total = hit = 0
    misses = []
    for d, _, names in sorted(os.walk(reg)):
        if 'info.yml' not in names:
            continue
        info = open(os.path.join(d, 'info.yml'), encoding='utf-8').read()
        ids = re.findall(r'^\s*-?\s*id:\s*([0-9a-fA-F-]{36})', info, re.M)
        rid = ids[1].lower() if len(ids) > 1 else None  # [0] is the test's own id
        evtx = [os.path.join(d, n) for n in names if n.endswith('.evtx')]
        for e in evtx:
            total += 1
            if rid not in rules:
                misses.append(f'{e}: rule {rid} not found')
                continue
            r = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', '--rules', rules[rid], e],
                               capture_output=True)
            got = [json.loads(l)['rule']['id'].lower() for l in r.stdout.decode().splitlines()]
            if rid in got:
                hit += 1
            else:
                err = r.stderr.decode().strip().splitlines()
                misses.append(f'{e}: rule {rid} ({os.path.basename(rules[rid])}) did not match'
                              + (f' [{err[-1]}]' if err else ''))
    print(f'regression hunt: {total} cases, {hit} matched ({hit / max(total, 1):.2%})')
    for m in misses:
        print('  MISS', m)
    print(f'{hit} passed, {total - hit} failed')
    return 0 if total and hit == total else 1


if __name__ == '__main__':
    sys.exit(main())
