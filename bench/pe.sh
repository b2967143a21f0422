#!/usr/bin/env bash
# DLL analysis throughput on the real PE corpus (../shared/bench/pe-corpus.sh:
# ~680 Wine DLLs/EXEs), measured against peers in the same run:
#   - `iisguard scan` (parse every file and classify it by its exports;
#     components are then hashed and their signatures checked) against
#     `yara` with a rule classifying the same exports with its pe module
#     (target: ≥ 2× faster), and against pefile reading the same exports
#     (target: faster);
#   - `iisguard scan --all` (every file hashed, its sections' entropy and its
#     signature checked) for information.
#   usage: bench/pe.sh [CORPUS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
corpus=${1:-${PE_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/iisguard-pe-corpus}}
shared=../shared
if [ ! -d "$corpus/pe" ]; then
  [ -x "$shared/bench/pe-corpus.sh" ] || { echo "SKIP: no PE corpus and no $shared/bench"; exit 0; }
  bash "$shared/bench/pe-corpus.sh" "$corpus" >/dev/null
fi
bash "$shared/bench/peers.sh" >/dev/null
[ -x build/release/iisguard ] || make build >/dev/null
ig=build/release/iisguard
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=$(ls "$corpus/pe" | wc -l)
bytes=$(du -sb "$corpus/pe" | cut -f1)

cat > "$work/iis.yar" <<'YAR'
import "pe"
rule native_module { condition: pe.exports("RegisterModule") }
rule isapi_filter { condition: pe.exports("GetFilterVersion") and pe.exports("HttpFilterProc") }
rule isapi_extension { condition: pe.exports("GetExtensionVersion") and pe.exports("HttpExtensionProc") }
rule dll { condition: pe.is_dll() }
YAR
cat > "$work/exports_pefile.py" <<'PY'
import os, sys, pefile
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    pe = pefile.PE(os.path.join(d, n), fast_load=True)
    pe.parse_data_directories(directories=[pefile.DIRECTORY_ENTRY['IMAGE_DIRECTORY_ENTRY_EXPORT']])
    names = {s.name for s in getattr(getattr(pe, 'DIRECTORY_ENTRY_EXPORT', None), 'symbols', [])}
    print(n, b'RegisterModule' in names)
PY
# the same answer from each: the files classified as IIS components
ours=$({ "$ig" scan -q --format json "$corpus/pe" || true; } | wc -l)
theirs=$(yara -r "$work/iis.yar" "$corpus/pe" 2>/dev/null | grep -cv '^dll ' || true)
/usr/bin/python3 "$work/exports_pefile.py" "$corpus/pe" >/dev/null # fails loudly if pefile cannot run
r1=$(measure iisguard-scan-1t 5 "$ig" scan -q --format json "$corpus/pe")
r2=$(measure yara-1t 5 yara -p 1 -r "$work/iis.yar" "$corpus/pe")
r3=$(measure pefile-exports 1 /usr/bin/python3 "$work/exports_pefile.py" "$corpus/pe")
r4=$(measure iisguard-scan-all 3 "$ig" scan -q --all --format json "$corpus/pe")
python3 - "$files" "$bytes" "$ours" "$theirs" "$r1" "$r2" "$r3" "$r4" <<'PY'
import sys
files, size, ours, theirs = map(int, sys.argv[1:5])
rows = {}
for a in sys.argv[5:]:
    n, t, rss = a.split()
    rows[n] = (max(float(t), 0.0005), int(rss) / 1024)
print(f'PE corpus: {files} files, {size / 1e6:.0f} MB; IIS components found: iisguard {ours}, '
      f'yara {theirs}')
for n, (t, rss) in rows.items():
    print(f'  {n:22s} {t:8.3f} s   peak RSS {rss:7.1f} MiB')
def ratio(a, b, target, what):
    r = rows[a][0] / rows[b][0]
    print(f'{what:52s} {r:6.1f}x  target >= {target}x  {"ok" if r >= target else "MISSED"}')
ratio('yara-1t', 'iisguard-scan-1t', 2, 'scan (1 thread) vs yara pe.exports')
ratio('pefile-exports', 'iisguard-scan-1t', 1, 'scan vs pefile reading exports')
ratio('yara-1t', 'iisguard-scan-all', 1, 'scan --all (hash, entropy, signature) vs yara')
PY
