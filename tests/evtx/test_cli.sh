#!/usr/bin/env bash
# The dump command's contract: formats, exit codes, summary, bad inputs, pipes.
# usage: test_cli.sh IISGUARD [SHARED_DIR]
set -uo pipefail
exe=$1 shared=${2:-../shared}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

# usage errors
"$exe" dump >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "no input must exit 1"
"$exe" dump --format yaml x >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "bad format must exit 1"
"$exe" dump --threads lots x >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "bad --threads must exit 1"
"$exe" nosuchcommand >/dev/null 2>&1; [ $? -eq 1 ] && ok || ko "unknown command must exit 1"

# not EVTX, missing file: named on stderr, exit 2, other inputs still processed
printf 'not an event log' > "$tmp/junk.evtx"
"$exe" dump "$tmp/junk.evtx" "$tmp/missing.evtx" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && ok || ko "bad inputs must exit 2 (got $rc)"
grep -q "junk.evtx: offset 0x0: not an EVTX file" "$tmp/err" && ok || ko "junk file not named: $(cat "$tmp/err")"
grep -q "missing.evtx: offset 0x0: cannot read" "$tmp/err" && ok || ko "missing file not named"
grep -q "iisguard: dump: 2 files (2 unreadable)" "$tmp/err" && ok || ko "summary wrong: $(tail -1 "$tmp/err")"
[ ! -s "$tmp/out" ] && ok || ko "no records expected"

# a folder is searched recursively; -o writes to a file
mkdir -p "$tmp/d/sub" && cp "$tmp/junk.evtx" "$tmp/d/sub/x.EVTX" && printf x > "$tmp/d/readme.txt"
"$exe" dump -q "$tmp/d" -o "$tmp/o.jsonl" 2>"$tmp/err"
grep -q "1 files (1 unreadable)" "$tmp/err" && ok || ko "folder walk: $(cat "$tmp/err")"
[ -f "$tmp/o.jsonl" ] && ok || ko "-o did not create the file"

# -o never overwrites silently
"$exe" dump -q "$tmp/d" -o "$tmp/o.jsonl" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && grep -q "exists (use --force" "$tmp/err" && ok || ko "-o overwrote an existing file (rc $rc)"
"$exe" dump -q "$tmp/d" -o "$tmp/o.jsonl" --force 2>/dev/null; [ $? -eq 2 ] && ok || ko "--force"

# -o - is standard output (no file named "-")
(cd "$tmp" && "$exe" dump -q "$tmp/d" -o - >"$tmp/dash.out" 2>/dev/null); rc=$?
[ $rc -eq 2 ] && [ ! -e "$tmp/-" ] && ok || ko "-o - made a file or failed (rc $rc)"

# standard input and pipes: the log is read once, whole (a sample of the
# shared corpus when present; records carry the name they were read from)
f=$(ls "$shared"/data/evtx/*.evtx 2>/dev/null | head -1)
if [ -n "$f" ]; then
    "$exe" dump -q "$f" 2>/dev/null | sed 's|"path":"[^"]*"||g' >"$tmp/direct.jsonl"
    "$exe" dump -q - <"$f" 2>/dev/null | sed 's|"path":"[^"]*"||g' | cmp -s - "$tmp/direct.jsonl" && ok || ko "dump from standard input"
    "$exe" dump -q <(cat "$f") 2>/dev/null | sed 's|"path":"[^"]*"||g' | cmp -s - "$tmp/direct.jsonl" && ok || ko "dump from a pipe"
    [ -s "$tmp/direct.jsonl" ] && ok || ko "the sample gave no record"
else
    echo "SKIP: dump from a pipe (no shared EVTX samples)"
fi
printf 'not an event log' | "$exe" dump - >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "-: offset 0x0: not an EVTX file" "$tmp/err" && ok || ko "junk on standard input: exit $rc"

"$exe" dump --help | grep -q "usage: iisguard dump" && ok || ko "help"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
