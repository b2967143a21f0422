#!/usr/bin/env python3
"""Data-driven tests of the built-in rules: every rule in RULES_DIR has a file
TESTS_DIR/<name>.jsonl of events marked "_expect": "match" | "nomatch"; the rule
alone (--no-builtin --rules FILE) must alert on exactly the "match" ones. A
correlation rule runs with the whole of RULES_DIR (the rules it refers to), and
its alerts must list exactly the "match" events. With IGFIX, every test runs a
second time on the same events written as an EVTX file by `igfix --from-jsonl`.
usage: run.py IISGUARD RULES_DIR TESTS_DIR [IGFIX]"""
import json, os, re, subprocess, sys, tempfile


def hunt(exe, rules, path, rid, corr):
    """Record ids the rule `rid` alerted on (or listed), or an error string."""
    r = subprocess.run([exe, 'hunt', '-q', '--no-builtin', '--format', 'jsonl',
                        '--rules', rules, path], capture_output=True)
    if r.returncode not in (0, 1):
        return f'hunt exited {r.returncode}: {r.stderr.decode()[-300:]}'
    hits = set()
    for line in r.stdout.decode().splitlines():
        a = json.loads(line)
        if a['rule']['id'] != rid:
            continue
        if corr:
            hits.update(e['record_id'] for e in a['correlation']['events'])
        else:
            hits.add(a['winlog']['record_id'])
    return hits


def main():
    exe, rules_dir, tests_dir = sys.argv[1:4]
    igfix = sys.argv[4] if len(sys.argv) > 4 else None
    passed = failed = 0
    for d, _, names in sorted(os.walk(rules_dir)):
        for n in sorted(names):
            if not n.endswith('.yml'):
                continue
            rule = os.path.join(d, n)
            test = os.path.join(tests_dir, n[:-4] + '.jsonl')
            if not os.path.exists(test):
                print(f'FAIL {n}: no test file {test}')
                failed += 1
                continue
            events = [json.loads(l) for l in open(test, encoding='utf-8') if l.strip()]
            npos = sum(1 for e in events if e.get('_expect') == 'match')
            nneg = sum(1 for e in events if e.get('_expect') == 'nomatch')
            if npos == 0 or nneg == 0:
                print(f'FAIL {n}: needs both matching and non-matching events')
                failed += 1
            text = open(rule, encoding='utf-8').read()
            corr = re.search(r'^correlation:', text, re.M) is not None
            rid = re.search(r'^id:\s*(\S+)', text, re.M).group(1)
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, 'events.jsonl')
                with open(path, 'w', encoding='utf-8') as f:
                    for i, e in enumerate(events):
                        e = dict(e)
                        e.pop('_expect', None)
                        e.pop('_why', None)
                        e.setdefault('RecordNumber', i + 1)
                        f.write(json.dumps(e) + '\n')
                inputs = [('jsonl', path)]
                if igfix:
                    evtx = os.path.join(tmp, 'events.evtx')
                    r = subprocess.run([igfix, 'evtx', evtx, '--from-jsonl', path],
                                       capture_output=True)
                    if r.returncode != 0:
                        print(f'FAIL {n}: igfix: {r.stderr.decode()[-300:]}')
                        failed += 1
                    else:
                        inputs.append(('evtx', evtx))
                for kind, p in inputs:
                    hits = hunt(exe, rules_dir if corr else rule, p, rid, corr)
                    if isinstance(hits, str):
                        print(f'FAIL {n} ({kind}): {hits}')
                        failed += 1
                        continue
                    for i, e in enumerate(events):
                        want = e.get('_expect') == 'match'
                        if want == ((i + 1) in hits):
                            passed += 1
                        else:
                            failed += 1
                            print(f'FAIL {n} event {i + 1} ({kind}; {e.get("_why", "")}): '
                                  f'{"no alert" if want else "unexpected alert"}')
    print(f'{passed} checks passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
