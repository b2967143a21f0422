#!/usr/bin/env bash
# The rule pack's commands: rules test | coverage | show | export | navigator,
# and the pack's precision on the shared EVTX corpus (when present).
# usage: test_cli.sh IISGUARD IGFIX RULES_DIR [SHARED_DIR]
set -uo pipefail
exe=$1 igfix=$2 rules=$3 shared=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
nrules=$(ls "$rules"/windows/*.yml | wc -l)

# rules test: the embedded tests of every rule pass
"$exe" rules test >"$tmp/t" 2>&1; rc=$?
[ $rc -eq 0 ] && ok || ko "rules test exited $rc: $(grep -v PASS "$tmp/t")"
grep -q "^$nrules rules: $nrules passed, 0 failed, 0 without tests" "$tmp/t" && ok || ko "rules test summary: $(tail -1 "$tmp/t")"
# ... and a failing expectation is reported with its reason and exit 1
cp "$rules/windows/iis_gacutil_install.yml" "$tmp/r.yml"
mkdir "$tmp/tests"
printf '%s\n' '{"_expect":"nomatch","_why":"wrongly benign","Channel":"Security","EventID":4688,"NewProcessName":"C:\\x\\gacutil.exe","CommandLine":"gacutil /i evil.dll"}' \
    '{"_expect":"match","_why":"plain install","Channel":"Security","EventID":4688,"NewProcessName":"C:\\x\\gacutil.exe","CommandLine":"gacutil.exe /i a.dll"}' \
    'not json' >"$tmp/tests/r.jsonl"
"$exe" rules test --no-builtin --tests "$tmp/tests" "$tmp/r.yml" >"$tmp/t" 2>&1; rc=$?
[ $rc -eq 1 ] && ok || ko "a failing test must exit 1 (got $rc)"
grep -q "FAIL .*(1 of 3 checks)" "$tmp/t" && ok || ko "failing counts: $(cat "$tmp/t")"
grep -q "line 1 (wrongly benign): unexpected alert" "$tmp/t" && ok || ko "failure reason: $(cat "$tmp/t")"
"$exe" rules test --no-builtin --tests "$tmp/none" "$tmp/r.yml" >"$tmp/t" 2>&1
grep -q "^NO TESTS" "$tmp/t" && ok || ko "a rule without tests must be listed"

# coverage: every install path seen by at least one rule, every rule's tests pass
"$exe" rules coverage >"$tmp/c"; rc=$?
[ $rc -eq 0 ] && ok || ko "coverage exited $rc"
grep -q "not covered" "$tmp/c" && ko "an install path is not covered: $(grep 'not covered' "$tmp/c")" || ok
[ "$(grep -c 'tests pass' "$tmp/c")" -eq "$nrules" ] && ok || ko "coverage: not every rule's tests pass"
"$exe" rules coverage --format json >"$tmp/c.json"
jq -e '(.install_paths | length) == 10 and all(.install_paths[]; (.telemetry | length) >= 1)' "$tmp/c.json" >/dev/null && ok || ko "coverage json paths"
jq -e --argjson n "$nrules" '(.rules | length) == $n and all(.rules[]; .tests.failed == 0)' "$tmp/c.json" >/dev/null && ok || ko "coverage json rules"
# every rule names a known install path
jq -r '[.install_paths[].telemetry[][]] | unique | length' "$tmp/c.json" | grep -qx "$nrules" && ok || ko "a rule names no known install path"

# show: the rule's YAML and the channels it reads
"$exe" rules show 5b0c7f6e-2f0a-4f2d-9d1b-7a3c1e8f4a01 >"$tmp/s"
grep -q "^title: IIS Module Installed With Appcmd$" "$tmp/s" && grep -q "^# reads: Security EventID 4688" "$tmp/s" && ok || ko "show: $(head -3 "$tmp/s")"
"$exe" rules show 00000000-0000-0000-0000-000000000000 >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "show of an unknown id must exit 2"

# export: the pack as Sigma files, byte for byte; never overwrites silently
"$exe" rules export "$tmp/x" 2>"$tmp/e"; rc=$?
[ $rc -eq 0 ] && [ "$(ls "$tmp/x" | wc -l)" -eq "$nrules" ] && ok || ko "export wrote $(ls "$tmp/x" | wc -l) files (rc $rc)"
for f in "$rules"/windows/*.yml; do cmp -s "$f" "$tmp/x/$(basename "$f")" || ko "export differs: $f"; done
grep -q "uses the correlation type 'absent'" "$tmp/e" && ok || ko "export must name rules using extensions"
"$exe" rules export "$tmp/x" >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "export over existing files must exit 1"
"$exe" rules check "$tmp/x" | grep -qx "loaded $nrules, rejected 0" && ok || ko "exported rules do not load"

# navigator: a layer naming T1505.004 with every rule tagged so
"$exe" rules navigator --output "$tmp/layer.json" 2>/dev/null
tagged=$(grep -l "attack.t1505.004" "$rules"/windows/*.yml | wc -l)
jq -e --argjson n "$tagged" '.domain == "enterprise-attack" and ([.techniques[] | select(.techniqueID == "T1505.004")][0].score == $n)' "$tmp/layer.json" >/dev/null && ok || ko "navigator layer"
"$exe" rules navigator --output "$tmp/layer.json" >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "navigator must not overwrite"

# the demo evidence: all three correlations fire
"$igfix" evtx "$tmp/demo.evtx" --scenario demo 2>/dev/null
"$exe" hunt -q --format jsonl "$tmp/demo.evtx" >"$tmp/demo.jsonl"
for id in 12 11 15; do
    grep -q "\"id\":\"5b0c7f6e-2f0a-4f2d-9d1b-7a3c1e8f4a$id\"" "$tmp/demo.jsonl" && ok || ko "demo: correlation ...$id did not fire"
done

# precision: the shared corpus holds no IIS component install, and no w3wp
# child process (no web shell sample): the pack raises nothing there
if [ -n "$shared" ] && [ -d "$shared/data/evtx" ]; then
    "$exe" hunt -q --format jsonl "$shared/data/evtx" >"$tmp/corpus.jsonl" 2>/dev/null
    n=$(wc -l <"$tmp/corpus.jsonl")
    [ "$n" -eq 0 ] && ok || ko "the pack alerts $n times on the shared corpus: $(jq -r '.rule.title' "$tmp/corpus.jsonl" | sort | uniq -c)"
else
    echo "SKIP: precision on the shared EVTX corpus (no $shared/data/evtx)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
