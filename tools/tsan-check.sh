#!/usr/bin/env bash
# Runs the threaded dump and hunt under ThreadSanitizer over the shared EVTX
# corpus (skips without it) and checks the output equals a one-thread run.
set -uo pipefail
exe=$1
dir=../shared/data/evtx rules=../shared/data/sigma/rules/windows
cd "$(dirname "$0")/.."
if [ ! -d "$dir" ]; then echo "SKIP: $dir not found"; echo "0 passed, 0 failed"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }
TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$exe" dump -q --threads 2 "$dir" -o "$tmp/t2.jsonl" 2>"$tmp/err"
[ $? -ne 66 ] && ! grep -q ThreadSanitizer "$tmp/err"; check $? "dump --threads 2 under TSan: $(grep -m1 -A3 ThreadSanitizer "$tmp/err")"
"$exe" dump -q --threads 1 "$dir" -o "$tmp/t1.jsonl" 2>/dev/null
cmp -s "$tmp/t1.jsonl" "$tmp/t2.jsonl"; check $? "dump output differs between 1 and 2 threads"
if [ -d "$rules" ]; then
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$exe" hunt -q --threads 2 --format jsonl --rules "$rules" "$dir" -o "$tmp/h2.jsonl" 2>"$tmp/err"
  [ $? -ne 66 ] && ! grep -q ThreadSanitizer "$tmp/err"; check $? "hunt --threads 2 under TSan: $(grep -m1 -A3 ThreadSanitizer "$tmp/err")"
  "$exe" hunt -q --threads 1 --format jsonl --rules "$rules" "$dir" -o "$tmp/h1.jsonl" 2>/dev/null
  cmp -s "$tmp/h1.jsonl" "$tmp/h2.jsonl"; check $? "hunt output differs between 1 and 2 threads"
  # JSON lines (the dump above): blocks of lines hunted over 2 threads
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$exe" hunt --threads 2 --format jsonl --rules "$rules" "$tmp/t1.jsonl" -o "$tmp/j2.jsonl" 2>"$tmp/err"
  [ $? -ne 66 ] && ! grep -q ThreadSanitizer "$tmp/err"; check $? "JSONL hunt --threads 2 under TSan: $(grep -m1 -A3 ThreadSanitizer "$tmp/err")"
  grep -v ' in [0-9.]* s$' "$tmp/err" > "$tmp/e2"
  "$exe" hunt --threads 1 --format jsonl --rules "$rules" "$tmp/t1.jsonl" -o "$tmp/j1.jsonl" 2>"$tmp/err"
  grep -v ' in [0-9.]* s$' "$tmp/err" > "$tmp/e1"
  cmp -s "$tmp/j1.jsonl" "$tmp/j2.jsonl" && [ -s "$tmp/j1.jsonl" ]; check $? "JSONL hunt output differs between 1 and 2 threads"
  cmp -s "$tmp/e1" "$tmp/e2"; check $? "JSONL hunt messages differ between 1 and 2 threads: $(diff "$tmp/e1" "$tmp/e2" | head -3)"
fi
echo "tsan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
