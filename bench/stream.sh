#!/usr/bin/env bash
# Streaming throughput on loopback, measured in the same run:
#   - `iisguard stream --nats` with the built-in pack over events of 64 hosts: events/s for one
#     instance, and for two instances partitioned by host (target: ≥ 1.8×);
#   - one instance against a consumer that only acknowledges (target: ≥ 50% of its rate);
#   - peak RSS of each instance.
#   usage: bench/stream.sh [EVENTS]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
command -v nats-server >/dev/null || { echo "SKIP: nats-server is not installed"; exit 0; }
[ -x build/release/iisguard ] || make build >/dev/null
ig=build/release/iisguard fix=build/release/igfix ctl=build/release/tests/natsctl
[ -x "$ctl" ] || cmake --build build/release --target natsctl >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=nats://127.0.0.1:$port
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/store" >/dev/null 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do "$ctl" "$url" setup 2>/dev/null && break; sleep 0.1; done
"$fix" evtx "$work/e.evtx" --scenario basic --count "$n" 2>/dev/null
"$ig" dump -q "$work/e.evtx" -o "$work/e1.jsonl"
# a fleet: the events spread over 64 hosts, so that both partitions get work
python3 - "$work/e1.jsonl" "$work/e.jsonl" <<'PY'
import sys
with open(sys.argv[1]) as f, open(sys.argv[2], 'w') as out:
    for i, line in enumerate(f):
        out.write(line.replace('"Computer":"WEB01.contoso.local"', f'"Computer":"WEB{i % 64:02d}.contoso.local"', 1))
PY
"$ctl" "$url" publish "$work/e.jsonl" 2 2>/dev/null

# run INSTANCES... : starts them, waits until their consumers have nothing pending, prints
# "seconds peak-rss-kib..."
run() {
  local t0 pids=() d specs=("$@")
  t0=$(date +%s.%N)
  for d in "${specs[@]}"; do
    IFS=: read -r subj dur <<<"$d"
    "$ig" stream -q --nats "$url" --stream EVENTS \
      --subject "$subj" --durable "$dur" --alerts-subject alerts.bench >/dev/null 2>&1 &
    pids+=($!)
  done
  local durs=()
  for d in "${specs[@]}"; do durs+=("${d#*:}"); done
  "$ctl" "$url" wait "${durs[@]}" # one connection polling every 10 ms
  local t1 rss=0 r pid; t1=$(date +%s.%N)
  for pid in "${pids[@]}"; do  # peak resident size of each instance
    r=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$rss" ] && rss=$r
  done
  kill -TERM "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
  echo "$(echo "$t1 - $t0" | bc) $rss"
}
one=$(run 'winlog.>:one')
two=$(run 'winlog.0.>:two0' 'winlog.1.>:two1')
ack=$("$ctl" "$url" ackall 'winlog.>' ackonly "$n")
python3 - "$n" "$one" "$two" "$ack" <<'PY'
import sys
n = int(sys.argv[1])
one, rss1 = sys.argv[2].split()
two, rss2 = sys.argv[3].split()
ack = float(sys.argv[4])
one, two = float(one), float(two)
print(f'{n} events on loopback JetStream')
print(f'  one instance        {one:7.2f} s  {n / one:9.0f} events/s  peak RSS {int(rss1) / 1024:6.1f} MiB')
print(f'  two instances       {two:7.2f} s  {n / two:9.0f} events/s  peak RSS {int(rss2) / 1024:6.1f} MiB (each)')
print(f'  acknowledging only  {ack:7.2f} s  {n / ack:9.0f} events/s')
r = one / two
print(f'1 -> 2 instances {r:5.2f}x  target >= 1.8x  {"ok" if r >= 1.8 else "MISSED"}')
r = ack / one
print(f'detection vs ack-only {100 * r:5.1f}%  target >= 50%  {"ok" if r >= 0.5 else "MISSED"}')
PY
