#!/usr/bin/env bash
# Compiled rule files (`iisguard rules compile`): a compiled file gives the
# rules, alerts and messages its YAML gave (files and lines included), an
# existing output is kept without --force, a damaged file is reported with a
# byte offset while the rest still loads, compiled files can be compiled
# together with YAML.  The built-in pack (exported) and igfix's demo attack
# always; every SigmaHQ rule over the shared EVTX corpus when ../shared is there.
# usage: rules_compile.sh IISGUARD IGFIX [SHARED_DIR]
set -u
exe=$1 igfix=$2 shared=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
untimed() { sed -E 's/ in [0-9.]+ s/ in X s/; s/[0-9.]+ s elapsed/X s elapsed/'; }

"$igfix" evtx "$tmp/demo.evtx" --scenario demo >/dev/null 2>&1 || { echo "FAIL: igfix"; exit 1; }
"$exe" rules export "$tmp/pack" >/dev/null || { echo "FAIL: rules export"; exit 1; }
printf 'title: broken\nid: x\nlogsource: {product: windows}\ndetection:\n  sel: {Image|nosuchmod: x}\n  condition: sel\n' >"$tmp/pack/zz_bad.yml"
printf 'title: [unclosed\n' >"$tmp/pack/zz_syntax.yml"

"$exe" rules compile "$tmp/pack" -o "$tmp/pack.igr" >"$tmp/c.out"; rc=$?
"$exe" rules check "$tmp/pack" >"$tmp/y.out"
[ $rc -eq 1 ] && cmp -s "$tmp/c.out" "$tmp/y.out" && ok || ko "compile prints what check prints (exit $rc): $(diff "$tmp/c.out" "$tmp/y.out" | head -3)"
grep -q "zz_bad.yml:1: unknown modifier 'nosuchmod'" "$tmp/c.out" && grep -q "zz_syntax.yml:2: YAML" "$tmp/c.out" && ok || ko "rejections named: $(head -3 "$tmp/c.out")"
"$exe" rules check "$tmp/pack.igr" >"$tmp/b.out"
cmp -s "$tmp/b.out" "$tmp/y.out" && ok || ko "check of the compiled file: $(diff "$tmp/b.out" "$tmp/y.out" | head -4)"
head -c 8 "$tmp/pack.igr" | grep -q IGSIGMA && ok || ko "the compiled file's header"

# the same alerts and messages when hunting
"$exe" hunt --no-builtin --format jsonl --rules "$tmp/pack" "$tmp/demo.evtx" >"$tmp/h1" 2>"$tmp/e1"; r1=$?
"$exe" hunt --no-builtin --format jsonl --rules "$tmp/pack.igr" "$tmp/demo.evtx" >"$tmp/h2" 2>"$tmp/e2"; r2=$?
[ $r1 -eq 1 ] && [ $r2 -eq 1 ] && [ "$(wc -l <"$tmp/h1")" -eq 34 ] && cmp -s "$tmp/h1" "$tmp/h2" && ok || ko "alerts from the compiled file (exit $r1/$r2, $(wc -l <"$tmp/h1")/$(wc -l <"$tmp/h2"))"
diff <(untimed <"$tmp/e1") <(untimed <"$tmp/e2") >/dev/null && ok || ko "hunt's messages: $(diff <(untimed <"$tmp/e1") <(untimed <"$tmp/e2") | head -4)"
"$exe" hunt -q --no-builtin --format jsonl --min-level critical --rules "$tmp/pack.igr" "$tmp/demo.evtx" >"$tmp/h3"
"$exe" hunt -q --no-builtin --format jsonl --min-level critical --rules "$tmp/pack" "$tmp/demo.evtx" >"$tmp/h4"
[ -s "$tmp/h3" ] && cmp -s "$tmp/h3" "$tmp/h4" && ok || ko "selection applies to compiled rules"

# a rule file read from a pipe is read once, as YAML (only regular files are looked at for a header)
"$exe" rules check <(cat "$tmp/pack/iis_appcmd_module_install.yml") >"$tmp/p1"
tail -1 "$tmp/p1" | grep -q "^loaded 1, rejected 0$" && ok || ko "a rule file from a pipe: $(cat "$tmp/p1")"

# the output is kept unless --force; an unwritable one exits 2
"$exe" rules compile "$tmp/pack" -o "$tmp/pack.igr" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "exists (use --force" "$tmp/e" && ok || ko "an existing output: exit $rc, $(cat "$tmp/e")"
"$exe" rules compile "$tmp/pack" -o "$tmp/pack.igr" --force >/dev/null; rc=$?
[ $rc -eq 1 ] && ok || ko "--force: exit $rc"
"$exe" rules compile "$tmp/pack" -o "$tmp/nodir/x.igr" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && [ ! -e "$tmp/nodir/x.igr" ] && ok || ko "an unwritable output: exit $rc"
"$exe" rules compile "$tmp/pack" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok || ko "no -o: exit $rc"

# damaged: reported with a byte offset, the records before still load
size=$(stat -c %s "$tmp/pack.igr")
head -c $((size - 40)) "$tmp/pack.igr" >"$tmp/cut.igr"
"$exe" hunt --no-builtin --format jsonl --rules "$tmp/cut.igr" "$tmp/demo.evtx" >"$tmp/h5" 2>"$tmp/e5"; rc=$?
grep -q "cut.igr:0: damaged compiled rule file at byte [0-9]*: a record is cut short" "$tmp/e5" && grep -q "checksum" "$tmp/e5" && ok || ko "a cut file is reported: $(grep -i damaged "$tmp/e5" | head -3)"
[ $rc -eq 1 ] && [ -s "$tmp/h5" ] && ok || ko "the rest of a cut file still hunts (exit $rc)"
# a compiled file's runs are read by several threads: messages and alerts in the same order
"$exe" hunt --no-builtin --format jsonl --threads 1 --rules "$tmp/cut.igr" --rules "$tmp/pack.igr" "$tmp/demo.evtx" >"$tmp/t1" 2>"$tmp/u1"
"$exe" hunt --no-builtin --format jsonl --threads 2 --rules "$tmp/cut.igr" --rules "$tmp/pack.igr" "$tmp/demo.evtx" >"$tmp/t2" 2>"$tmp/u2"
cmp -s "$tmp/t1" "$tmp/t2" && diff <(untimed <"$tmp/u1") <(untimed <"$tmp/u2") >/dev/null && ok || ko "--threads 1 and 2 load a compiled file alike: $(diff <(untimed <"$tmp/u1") <(untimed <"$tmp/u2") | head -3)"
printf 'IGSIGMA\032\001\000\000\000\000\000\000\000F\377\377\377\377' >"$tmp/bad.igr"
"$exe" rules check "$tmp/bad.igr" >"$tmp/b6"; rc=$?
grep -q "bad.igr:0: damaged compiled rule file at byte 16" "$tmp/b6" && [ $rc -eq 1 ] && ok || ko "a hand-made bad record: exit $rc, $(cat "$tmp/b6")"

# compiled files compile together with YAML
mkdir "$tmp/more"
printf 'title: extra\nid: 9a0c2d52-1111-4c3b-9d7e-0123456789ab\nlevel: low\nlogsource: {product: windows, service: security}\ndetection:\n  sel: {EventID: 4624}\n  condition: sel\n' >"$tmp/more/extra.yml"
"$exe" rules compile "$tmp/pack.igr" "$tmp/more" -o "$tmp/merged.igr" >/dev/null
"$exe" rules check "$tmp/merged.igr" >"$tmp/m1"
"$exe" rules check "$tmp/pack" "$tmp/more" >"$tmp/m2"
cmp -s "$tmp/m1" "$tmp/m2" && tail -1 "$tmp/m1" | grep -q "^loaded [0-9]*, rejected 2$" && ok || ko "a merged compiled file: $(diff "$tmp/m1" "$tmp/m2" | head -3)"

# `rules show` of a compiled rule whose YAML is gone: the rule as loaded
"$exe" rules compile "$tmp/more/extra.yml" -o "$tmp/extra.igr" >/dev/null 2>&1
rm "$tmp/more/extra.yml"
"$exe" rules show 9a0c2d52-1111-4c3b-9d7e-0123456789ab --no-builtin "$tmp/extra.igr" >"$tmp/sh"
grep -q "the rule as loaded" "$tmp/sh" && grep -q "^title: extra$" "$tmp/sh" && grep -q "^  service: security$" "$tmp/sh" &&
  grep -q "^# reads: Security$" "$tmp/sh" && ok || ko "rules show without the YAML: $(cat "$tmp/sh")"

# every SigmaHQ rule: the same alerts over the shared corpus
if [ -n "$shared" ] && [ -d "$shared/data/sigma/rules" ] && [ -d "$shared/data/evtx" ]; then
  "$exe" rules compile "$shared/data/sigma/rules" -o "$tmp/sigma.igr" >"$tmp/s1"
  "$exe" rules check "$shared/data/sigma/rules" >"$tmp/s2"
  cmp -s "$tmp/s1" "$tmp/s2" && ok || ko "SigmaHQ: compile and check differ"
  "$exe" hunt -q --no-builtin --format jsonl --rules "$shared/data/sigma/rules" "$shared/data/evtx" >"$tmp/a1" 2>/dev/null
  "$exe" hunt -q --no-builtin --format jsonl --rules "$tmp/sigma.igr" "$shared/data/evtx" >"$tmp/a2" 2>/dev/null
  [ "$(wc -l <"$tmp/a1")" -gt 1000 ] && cmp -s "$tmp/a1" "$tmp/a2" && ok || ko "SigmaHQ alerts: $(wc -l <"$tmp/a1") from YAML, $(wc -l <"$tmp/a2") compiled"
  echo "SigmaHQ: $(tail -1 "$tmp/s1"), $(wc -l <"$tmp/a1") alerts over the shared corpus either way"
else
  echo "SKIP (part): ../shared not found, SigmaHQ rules not compiled"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
