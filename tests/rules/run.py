#!/usr/bin/env python3
"""Data-driven tests of the built-in rules: every rule in RULES_DIR has a file
TESTS_DIR/<name>.jsonl of events marked "_expect": "match" | "nomatch"; the rule
alone (--no-builtin --rules FILE) must alert on exactly the "match" ones. A
correlation rule runs with the whole of RULES_DIR (the rules it refers to), and
its alerts must list exactly the "match" events.
usage: run.py IISGUARD RULES_DIR TESTS_DIR"""
import json, os, re, subprocess, sys, tempfile


def main():
    exe, rules_dir, tests_dir = sys.argv[1:4]
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
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, 'events.jsonl')
                with open(path, 'w', encoding='utf-8') as f:
                    for i, e in enumerate(events):
                        e = dict(e)
                        e.pop('_expect', None)
                        e.pop('_why', None)
                        e.setdefault('RecordNumber', i + 1)
                        f.write(json.dumps(e) + '\n')
                text = open(rule, encoding='utf-8').read()
                corr = re.search(r'^correlation:', text, re.M) is not None
                rid = re.search(r'^id:\s*(\S+)', text, re.M).group(1)
                r = subprocess.run([exe, 'hunt', '-q', '--no-builtin', '--format', 'jsonl',
                                    '--rules', rules_dir if corr else rule, path],
                                   capture_output=True)
                if r.returncode not in (0, 1):
                    print(f'FAIL {n}: hunt exited {r.returncode}: {r.stderr.decode()[-300:]}')
                    failed += 1
                    continue
                hits = set()
                for line in r.stdout.decode().splitlines():
                    a = json.loads(line)
                    if a['rule']['id'] != rid:
                        continue
                    if corr:
                        hits.update(e['record_id'] for e in a['correlation']['events'])
                    else:
                        hits.add(a['winlog']['record_id'])
            npos = sum(1 for e in events if e.get('_expect') == 'match')
            nneg = sum(1 for e in events if e.get('_expect') == 'nomatch')
            if npos == 0 or nneg == 0:
                print(f'FAIL {n}: needs both matching and non-matching events')
                failed += 1
            for i, e in enumerate(events):
                want = e.get('_expect') == 'match'
                got = (i + 1) in hits
                if want == got:
                    passed += 1
                else:
                    failed += 1
                    print(f'FAIL {n} event {i + 1} ({e.get("_why", "")}): '
                          f'{"no alert" if want else "unexpected alert"}')
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
