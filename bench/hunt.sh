#!/usr/bin/env bash
# Hunting throughput, measured against peers in the same run:
#   - every SigmaHQ Windows rule over the shared EVTX corpus and over a large
#     file built from it, against libevtx's evtxexport merely parsing them
#     (target: ≥ 10× faster);
#   - JSON-lines input (the corpus dumped by iisguard, REPEAT times) against
#     jq -c 'select(...)' on the same events (target: ≥ 10×), hunted with every
#     SigmaHQ Windows rule, with the built-in pack, and with one rule that
#     selects what the jq filter selects;
#   - 1 → 2 threads (target: ≥ 1.8×), each ratio from runs of the two that
#     alternate (measure_pair), so that a slow spell of the machine does not
#     fall on one side only; peak RSS printed;
#   - loading every SigmaHQ rule alone (a one-line input), and with the
#     one-rule hunt what no rule evaluation can go below;
#   - the same rules compiled ahead (`iisguard rules compile`): loading them,
#     and the JSONL hunt with them.
#   usage: bench/hunt.sh [REPEAT]   (REPEAT of the corpus in the large file, default 4)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
repeat=${1:-4}
shared=../shared
corpus=$shared/data/evtx rules=$shared/data/sigma/rules/windows
[ -d "$corpus" ] && [ -d "$rules" ] || { echo "SKIP: $corpus or $rules not found"; exit 0; }
bash "$shared/bench/peers.sh" >/dev/null
[ -x build/release/iisguard ] || make build >/dev/null
ig=build/release/iisguard
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ls "$corpus"/*.evtx > "$work/files"
# the large file: samples evtxexport decodes completely (it stops a file at
# its first bad record, which would flatter it)
full_samples full "$corpus"
python3 "$shared/bench/mkbig-evtx.py" "$work/big.evtx" "$repeat" "${full[@]}" >/dev/null
# (exit status 2: the corpus has damaged files; 1: alerts)
"$ig" dump -q "$corpus" -o "$work/corpus.jsonl" 2>/dev/null || true
for _ in $(seq "$repeat"); do cat "$work/corpus.jsonl"; done > "$work/big.jsonl"
cat > "$work/select.yml" <<'YML'
title: Process creation (what the jq filter selects)
id: 0b6a4c8e-1d2f-4e3a-9b5c-7d8e9f0a1b2c
status: test
level: informational
logsource:
  product: windows
detection:
  sel:
    EventID:
      - 4688
      - 1
  condition: sel
YML
records=$("$ig" dump -q "$corpus" -o /dev/null 2>&1 | sed -nE 's/.* ([0-9]+) records.*/\1/p' || true)
alerts=$({ "$ig" hunt -q --no-builtin --format jsonl --rules "$rules" "$corpus" 2>/dev/null || true; } | wc -l)

cat > "$work/evtxexport-all.sh" <<SH
for f in \$(cat "$work/files"); do evtxexport -f xml "\$f" >/dev/null 2>&1 || true; done
SH
r1=$(measure corpus-evtxexport 3 bash "$work/evtxexport-all.sh")
r2=$(measure corpus-hunt-1t 3 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$rules" "$corpus" -o /dev/null)
r3=$(measure corpus-hunt-2t 3 "$ig" hunt -q --no-builtin --threads 2 --format jsonl --rules "$rules" "$corpus" -o /dev/null)
r4=$(measure big-evtxexport 3 evtxexport -f xml "$work/big.evtx")
r5=$(measure big-hunt-1t 3 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$rules" "$work/big.evtx" -o /dev/null)
r6=$(measure big-hunt-2t 3 "$ig" hunt -q --no-builtin --threads 2 --format jsonl --rules "$rules" "$work/big.evtx" -o /dev/null)
r7=$(measure jsonl-jq 5 jq -c 'select(.Event.System.EventID == 4688 or .Event.System.EventID == 1)' "$work/big.jsonl")
r8=$(measure jsonl-hunt-sigma-1t 5 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$rules" "$work/big.jsonl" -o /dev/null)
r9=$(measure jsonl-hunt-sigma-2t 5 "$ig" hunt -q --no-builtin --threads 2 --format jsonl --rules "$rules" "$work/big.jsonl" -o /dev/null)
r10=$(measure jsonl-hunt-pack-1t 3 "$ig" hunt -q --threads 1 --format jsonl "$work/big.jsonl" -o /dev/null)
r11=$(measure jsonl-hunt-select-1t 3 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$work/select.yml" "$work/big.jsonl" -o /dev/null)
head -1 "$work/big.jsonl" > "$work/one.jsonl"
r12=$(measure rules-load-1t 5 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$rules" "$work/one.jsonl" -o /dev/null)
r13=$(measure rules-load-2t 5 "$ig" hunt -q --no-builtin --threads 2 --format jsonl --rules "$rules" "$work/one.jsonl" -o /dev/null)
"$ig" rules compile "$rules" -o "$work/rules.igr" >/dev/null || true
r14=$(measure compiled-load-1t 5 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$work/rules.igr" "$work/one.jsonl" -o /dev/null)
r15=$(measure jsonl-compiled-1t 5 "$ig" hunt -q --no-builtin --threads 1 --format jsonl --rules "$work/rules.igr" "$work/big.jsonl" -o /dev/null)
r16=$(measure jsonl-compiled-2t 5 "$ig" hunt -q --no-builtin --threads 2 --format jsonl --rules "$work/rules.igr" "$work/big.jsonl" -o /dev/null)
h1=("$ig" hunt -q --no-builtin --threads 1 --format jsonl -o /dev/null --rules)
h2=("$ig" hunt -q --no-builtin --threads 2 --format jsonl -o /dev/null --rules)
s1=$(measure_pair big-scale-1t big-scale-2t 7 "${h1[@]}" "$rules" "$work/big.evtx" -- "${h2[@]}" "$rules" "$work/big.evtx")
s2=$(measure_pair jsonl-scale-1t jsonl-scale-2t 5 "${h1[@]}" "$rules" "$work/big.jsonl" -- "${h2[@]}" "$rules" "$work/big.jsonl")
s3=$(measure_pair jsonl-cscale-1t jsonl-cscale-2t 5 "${h1[@]}" "$work/rules.igr" "$work/big.jsonl" -- "${h2[@]}" "$work/rules.igr" "$work/big.jsonl")

python3 - "$records" "$alerts" "$(stat -c %s "$work/big.evtx")" "$(stat -c %s "$work/big.jsonl")" \
  "$r1" "$r2" "$r3" "$r4" "$r5" "$r6" "$r7" "$r8" "$r9" "$r10" "$r11" "$r12" "$r13" \
  "$r14" "$r15" "$r16" "$(sed -n 1p <<<"$s1")" "$(sed -n 2p <<<"$s1")" \
  "$(sed -n 1p <<<"$s2")" "$(sed -n 2p <<<"$s2")" "$(sed -n 1p <<<"$s3")" "$(sed -n 2p <<<"$s3")" <<'PY'
import sys
records, alerts, big, jl = map(int, sys.argv[1:5])
rows = {}
for a in sys.argv[5:]:
    n, t, rss = a.split()
    rows[n] = (max(float(t), 0.0005), int(rss) / 1024)
print(f'corpus: {records} records, {alerts} alerts with every SigmaHQ Windows rule; '
      f'large file {big / 1e6:.0f} MB; JSONL {jl / 1e6:.0f} MB')
for n, (t, rss) in rows.items():
    print(f'  {n:22s} {t:8.3f} s   peak RSS {rss:7.1f} MiB')
def ratio(a, b, target, what):
    r = rows[a][0] / rows[b][0]
    print(f'{what:52s} {r:6.2f}x  target >= {target}x  {"ok" if r >= target else "MISSED"}')
ratio('corpus-evtxexport', 'corpus-hunt-1t', 10, 'corpus: hunt (1 thread) vs evtxexport parsing')
ratio('corpus-evtxexport', 'corpus-hunt-2t', 10, 'corpus: hunt (2 threads) vs evtxexport parsing')
ratio('big-evtxexport', 'big-hunt-1t', 10, 'large file: hunt (1 thread) vs evtxexport parsing')
ratio('big-scale-1t', 'big-scale-2t', 1.8, 'large file: 1 -> 2 threads')
ratio('jsonl-jq', 'jsonl-hunt-sigma-1t', 10, 'JSONL: hunt, every SigmaHQ rule (1 thread) vs jq')
ratio('jsonl-jq', 'jsonl-hunt-sigma-2t', 10, 'JSONL: hunt, every SigmaHQ rule (2 threads) vs jq')
ratio('jsonl-jq', 'jsonl-hunt-pack-1t', 10, 'JSONL: hunt, built-in pack (1 thread) vs jq')
ratio('jsonl-jq', 'jsonl-hunt-select-1t', 10, 'JSONL: hunt, the jq filter as a rule (1 thread) vs jq')
ratio('jsonl-scale-1t', 'jsonl-scale-2t', 1.8, 'JSONL, every SigmaHQ rule: 1 -> 2 threads')
ratio('jsonl-jq', 'jsonl-compiled-1t', 10, 'JSONL: hunt, every SigmaHQ rule compiled (1 thread) vs jq')
ratio('jsonl-jq', 'jsonl-compiled-2t', 10, 'JSONL: hunt, every SigmaHQ rule compiled (2 threads) vs jq')
ratio('jsonl-cscale-1t', 'jsonl-cscale-2t', 1.8, 'JSONL, every SigmaHQ rule compiled: 1 -> 2 threads')
# what no rule evaluation can go below: loading every rule (a one-line input)
# plus reading the JSON lines into events (the one-rule hunt)
floor = rows['rules-load-1t'][0] + rows['jsonl-hunt-select-1t'][0]
print(f'JSONL, every SigmaHQ rule, 1 thread: loading the rules ({rows["rules-load-1t"][0]:.3f} s) + '
      f'reading the events ({rows["jsonl-hunt-select-1t"][0]:.3f} s) alone: '
      f'{rows["jsonl-jq"][0] / floor:.1f}x jq')
print(f'loading every SigmaHQ rule: YAML {rows["rules-load-1t"][0]:.3f} s, compiled '
      f'{rows["compiled-load-1t"][0]:.3f} s (1 thread, with process start)')
PY
