#!/usr/bin/env bash
# EVTX decoding throughput: iisguard dump (1 and 2 threads) against libevtx's
# evtxexport, and python-evtx on a small subset, measured in the same run.
#
# The large file is built with ../shared/bench/mkbig-evtx.py from the shared
# samples that evtxexport decodes completely (it aborts a file at its first
# bad record and drops template-less records, so files it cannot finish would
# flatter the peer).  Throughput is counted in used chunk bytes and records.
# Targets: ≥ 50× evtxexport single-threaded, ≥ 1.8× from 1 to 2 threads,
# peak RSS ≤ 64 MiB.
#   usage: bench/evtx.sh [REPEAT]   (REPEAT of the corpus, default 12)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
repeat=${1:-12}
shared=../shared
[ -d "$shared/data/evtx" ] || { echo "SKIP: $shared/data/evtx not found"; exit 0; }
bash "$shared/bench/peers.sh" >/dev/null
[ -x build/release/iisguard ] || make build >/dev/null
ig=build/release/iisguard
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# samples evtxexport decodes completely
full_samples files "$shared/data/evtx"
python3 "$shared/bench/mkbig-evtx.py" "$work/big.evtx" "$repeat" "${files[@]}" >/dev/null
size=$(stat -c %s "$work/big.evtx")

# used chunk bytes and records, as counted by iisguard's summary
summary=$("$ig" dump -q --threads 1 "$work/big.evtx" -o /dev/null 2>&1 | tail -n 1)
records=$(sed -E 's/.* ([0-9]+) records.*/\1/' <<<"$summary")
used=$(python3 - "$work/big.evtx" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
print(sum(struct.unpack_from('<I', d, o + 48)[0] for o in range(4096, len(d), 65536)))
PY
)

r_ig1=$(measure ig1 9 "$ig" dump -q --threads 1 --format jsonl "$work/big.evtx" -o /dev/null)
r_ig2=$(measure ig2 9 "$ig" dump -q --threads 2 --format jsonl "$work/big.evtx" -o /dev/null)
r_ex=$(measure evtxexport 1 evtxexport -f xml "$work/big.evtx")

# python-evtx on a small subset (one repetition of a few files)
python3 "$shared/bench/mkbig-evtx.py" "$work/small.evtx" 1 "${files[@]:0:20}" >/dev/null
small_used=$(python3 - "$work/small.evtx" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
print(sum(struct.unpack_from('<I', d, o + 48)[0] for o in range(4096, len(d), 65536)))
PY
)
# Debian's python3-evtx lives in the system interpreter's packages
pyevtx=$(command -v evtx_dump.py || echo /usr/bin/evtx_dump.py)
if ! /usr/bin/python3 "$pyevtx" "$work/small.evtx" 2>&1 >/dev/null | head -c 300 | grep -q .; then :; else
  echo "python-evtx failed on the subset:"; /usr/bin/python3 "$pyevtx" "$work/small.evtx" 2>&1 >/dev/null | tail -n 3
fi
r_py=$(measure python-evtx 1 /usr/bin/python3 "$pyevtx" "$work/small.evtx")
r_igs=$(measure ig1-small 5 "$ig" dump -q --threads 1 "$work/small.evtx" -o /dev/null)

python3 - "$size" "$used" "$records" "$small_used" "$r_ig1" "$r_ig2" "$r_ex" "$r_py" "$r_igs" <<'PY'
import sys
size, used, recs, small_used = map(int, sys.argv[1:5])
rows = {}
for a in sys.argv[5:]:
    n, t, rss = a.split()
    rows[n] = (max(float(t), 0.001), int(rss))
def line(name, key, nbytes, nrec):
    t, rss = rows[key]
    rate = f'{nbytes / t / 1e6:9.1f} MB/s' + (f'  {nrec / t:12,.0f} rec/s' if nrec else ' ' * 20)
    print(f'{name:34s} {t:8.3f} s {rate}  peak RSS {rss / 1024:7.1f} MiB')
print(f'input: {size / 1e6:.1f} MB file, {used / 1e6:.1f} MB used chunk bytes, {recs} records')
line('iisguard dump jsonl, 1 thread', 'ig1', used, recs)
line('iisguard dump jsonl, 2 threads', 'ig2', used, recs)
line('evtxexport -f xml', 'evtxexport', used, recs)
line('python-evtx (subset)', 'python-evtx', small_used, 0)
line('iisguard (same subset)', 'ig1-small', small_used, 0)
ig1, ig2, ex = rows['ig1'][0], rows['ig2'][0], rows['evtxexport'][0]
py, igs = rows['python-evtx'][0], rows['ig1-small'][0]
peak = max(rows['ig1'][1], rows['ig2'][1]) / 1024
print(f'ratio vs evtxexport (1 thread): {ex / ig1:6.1f}x   target >= 50x  {"ok" if ex / ig1 >= 50 else "MISSED"}')
print(f'speed-up 1 -> 2 threads:        {ig1 / ig2:6.2f}x  target >= 1.8x {"ok" if ig1 / ig2 >= 1.8 else "MISSED"}')
print(f'ratio vs python-evtx (subset):  {py / igs:6.0f}x')
print(f'peak RSS:                       {peak:6.1f} MiB target <= 64   {"ok" if peak <= 64 else "MISSED"}')
PY
