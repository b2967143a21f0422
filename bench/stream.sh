#!/usr/bin/env bash
# Streaming throughput on loopback, measured in the same run:
#   - `iisguard stream --nats` with the built-in pack over events of 64 hosts: events/s for one
#     instance, and for two instances partitioned by host (target: ≥ 1.8×);
#   - one instance against a consumer that only acknowledges (target: ≥ 50% of its rate), and
#     one such consumer against two (what the server itself gives a second consumer here);
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

# Times a run from the start of its consumers to their last acknowledgement
# (watched by natsctl lastack, which also checks that nothing is left to
# deliver).  timed DURABLE... -- COMMAND...: sets T to the seconds
timed() {
  local durs=() la=$work/lastack.$RANDOM
  while [ "$1" != -- ]; do durs+=("$1"); shift; done
  shift
  "$ctl" "$url" lastack "${durs[@]}" > "$la" &
  S0=$(cpu "$srv")
  local w=$!
  until grep -q ready "$la" 2>/dev/null; do sleep 0.01; done
  local t0; t0=$(date +%s.%N)
  "$@"
  wait "$w"
  T=$(echo "$(sed -n 2p "$la" | cut -d' ' -f1) - $t0" | bc)
  S=$(echo "$(cpu "$srv") - $S0" | bc)
}
# CPU seconds (user + system) a process has used so far
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
# instances SUBJ:DURABLE... : starts them and returns; $pids holds them
instances() {
  pids=()
  local d subj dur
  for d in "$@"; do
    IFS=: read -r subj dur <<<"$d"
    "$ig" stream -q --nats "$url" --stream EVENTS \
      --subject "$subj" --durable "$dur" --alerts-subject alerts.bench >/dev/null 2>&1 &
    pids+=($!)
  done
}
# run SUBJ:DURABLE... : "seconds peak-rss-kib server-cpu instances-cpu"
run() {
  local durs=() d rss=0 r pid c=0
  for d in "$@"; do durs+=("${d#*:}"); done
  timed "${durs[@]}" -- instances "$@"
  for pid in "${pids[@]}"; do  # peak resident size of each instance
    r=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$rss" ] && rss=$r
    c=$(echo "$c + $(cpu "$pid")" | bc)
  done
  kill -TERM "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null || true
  echo "$T $rss $S $c"
}
one=$(run 'winlog.>:one')
two=$(run 'winlog.0.>:two0' 'winlog.1.>:two1')
timed ackonly -- "$ctl" "$url" ackall 'winlog.>' ackonly "$n" >/dev/null
ack="$T $S"
# two consumers that only acknowledge, one per partition: what the server gives two consumers
# (each stops 5 s after its last message; the time is that of the last acknowledgement)
acks2() {
  "$ctl" "$url" ackall 'winlog.0.>' ack0 1000000000 >/dev/null &
  pids=($!)
  "$ctl" "$url" ackall 'winlog.1.>' ack1 1000000000 >/dev/null &
  pids+=($!)
}
timed ack0 ack1 -- acks2
wait "${pids[@]}"
ack2="$T $S"
python3 - "$n" "$(nproc)" "$one" "$two" "$ack" "$ack2" <<'PY'
import sys
n, cores = int(sys.argv[1]), int(sys.argv[2])
one, rss1, srv1, cpu1 = map(float, sys.argv[3].split())
two, rss2, srv2, cpu2 = map(float, sys.argv[4].split())
ack, srva = map(float, sys.argv[5].split())
ack2, srva2 = map(float, sys.argv[6].split())
print(f'{n} events on loopback JetStream, {cores} cores shared by the server and the consumers')
def row(what, t, rss=None, srv=None, cpu=None):
    line = f'  {what:20s} {t:6.2f} s {n / t:8.0f} events/s'
    if rss is not None:
        line += f'  peak RSS {rss / 1024:5.1f} MiB'
    line += f'  CPU per event: server {1e6 * srv / n:4.1f} us'
    if cpu is not None:
        line += f', iisguard {1e6 * cpu / n:4.1f} us; cores busy {(srv + cpu) / t:4.2f}'
    print(line)
row('one instance', one, rss1, srv1, cpu1)
row('two instances', two, rss2, srv2, cpu2)
row('acknowledging only', ack, None, srva)
row('2 x acknowledging', ack2, None, srva2)
r = one / two
print(f'1 -> 2 instances {r:5.2f}x  target >= 1.8x  {"ok" if r >= 1.8 else "MISSED"}'
      f'  (1 -> 2 consumers that only acknowledge: {ack / ack2:4.2f}x, the server\'s own limit here)')
r = ack / one
print(f'detection vs ack-only {100 * r:5.1f}%  target >= 50%  {"ok" if r >= 0.5 else "MISSED"}')
PY
