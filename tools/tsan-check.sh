#!/usr/bin/env bash
# Runs the threaded dump and hunt under ThreadSanitizer over the shared EVTX
# corpus (skips without it) and checks the output equals a one-thread run;
# with nats-server and natsctl, `stream --nats` too.
#   usage: tools/tsan-check.sh TSAN-IISGUARD [NATSCTL]
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
# stream --nats: the fetching thread and the consumer's acknowledgements
# (natsctl: the test helper of another build, the second argument)
ctl=${2:-} fix=$(dirname "$exe")/igfix
if command -v nats-server >/dev/null && [ -n "$ctl" ] && [ -x "$ctl" ] && [ -x "$fix" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url=nats://127.0.0.1:$port
  nats-server -js -a 127.0.0.1 -p "$port" -sd "$tmp/store" >/dev/null 2>&1 &
  srv=$!
  for _ in $(seq 50); do "$ctl" "$url" setup 2>/dev/null && break; sleep 0.1; done
  "$fix" evtx "$tmp/b.evtx" --scenario basic --count 5000 2>/dev/null
  "$fix" evtx "$tmp/d.evtx" --scenario demo 2>/dev/null
  "$exe" dump -q "$tmp/b.evtx" "$tmp/d.evtx" -o "$tmp/ev.jsonl" 2>/dev/null
  "$ctl" "$url" publish "$tmp/ev.jsonl" 1 >/dev/null 2>&1
  TSAN_OPTIONS="halt_on_error=1 exitcode=66" "$exe" stream -q --nats "$url" --stream EVENTS \
    --subject 'winlog.>' --durable tsan --alerts-subject alerts.tsan >/dev/null 2>"$tmp/err" &
  inst=$!
  for _ in $(seq 600); do
    [ "$("$ctl" "$url" pending tsan 2>/dev/null | cut -d' ' -f1)" = 0 ] && break
    sleep 0.1
  done
  kill -TERM "$inst"; wait "$inst"; rc=$?
  [ "$rc" -ne 66 ] && ! grep -q ThreadSanitizer "$tmp/err"; check $? "stream --nats under TSan: $(grep -m1 -A3 ThreadSanitizer "$tmp/err")"
  [ "$("$ctl" "$url" pending tsan 2>/dev/null)" = "0 0" ] && [ "$rc" = 1 ]; check $? "stream --nats under TSan: exit $rc, pending $("$ctl" "$url" pending tsan 2>&1)"
  kill "$srv"; wait "$srv" 2>/dev/null
fi
echo "tsan: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
