#!/usr/bin/env bash
# Runs every libFuzzer target in build/fuzz: `smoke` (30 s each, part of
# make test) or `long` (30 min each).  Seeds: fuzz/corpus/<target>/ plus the
# shared samples when ../shared is present; the working corpus lives in a
# temporary folder.  New crashers are left in the current folder.
set -euo pipefail
mode=${1:-smoke}
cd "$(dirname "$0")/.."
secs=30
[ "$mode" = long ] && secs=1800
pass=0 fail=0
for bin in build/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  t=$(basename "$bin")
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/corpus" "$work/seeds"
  [ -d "fuzz/corpus/$t" ] && cp -r "fuzz/corpus/$t/." "$work/seeds/" 2>/dev/null || true
  if [ "$t" = fuzz_evtx ] && [ -d ../shared/data/evtx ]; then
    find ../shared/data/evtx -name '*.evtx' -size -200k | head -n 60 | xargs -r -I{} cp {} "$work/seeds/" || true
  fi
  if [ "$t" = fuzz_iisconfig ] && [ -d ../shared/data/iis ]; then
    cp ../shared/data/iis/*.config "$work/seeds/" 2>/dev/null || true
  fi
  if [ "$t" = fuzz_yaml_fast ] && [ -d ../shared/data/sigma/rules/windows ]; then
    find ../shared/data/sigma/rules/windows -name '*.yml' | head -n 300 | xargs -r -I{} cp {} "$work/seeds/" || true
  fi
  if [ "$t" = fuzz_sigma ] && [ -d ../shared/data/sigma/rules/windows ]; then
    find ../shared/data/sigma/rules/windows -name '*.yml' | head -n 300 | xargs -r -I{} cp {} "$work/seeds/" || true
    # compiled rule files, their records only (the target adds the header)
    ig=$(ls build/asan/iisguard build/release/iisguard 2>/dev/null | head -n 1 || true)
    if [ -n "$ig" ]; then
      i=0
      for f in $(find ../shared/data/sigma/rules/windows -name '*.yml' | head -n 40); do
        i=$((i + 1))
        "$ig" rules compile "$f" -o "$work/c.igr" --force >/dev/null 2>&1 || true
        [ -f "$work/c.igr" ] && tail -c +17 "$work/c.igr" > "$work/seeds/compiled$i.bin"
        rm -f "$work/c.igr"
      done
    fi
  fi
  if [ "$t" = fuzz_match ] && [ -d ../shared/data/sigma/rules/windows ]; then
    # SigmaHQ rules, each followed by a process-creation event
    i=0
    for f in $(find ../shared/data/sigma/rules/windows/process_creation -name '*.yml' | head -n 200); do
      i=$((i + 1))
      { cat "$f"; printf '%%%%\nImage=C:\\Windows\\System32\\cmd.exe\nCommandLine=cmd.exe /c whoami /all\n'; } > "$work/seeds/rule$i.txt"
    done
  fi
  if [ "$t" = fuzz_pe ]; then
    # the MinGW fixtures, built here; small files of the PE corpus when present
    if command -v x86_64-w64-mingw32-gcc >/dev/null; then
      for f in tests/pe/fixtures/*.c; do
        x86_64-w64-mingw32-gcc -shared -O2 -o "$work/seeds/$(basename "$f" .c).dll" "$f" 2>/dev/null || true
      done
    fi
    if command -v mcs >/dev/null && [ -f /usr/lib/mono/4.5/System.Web.dll ]; then
      for f in tests/pe/fixtures/managed_*.cs; do
        mcs -target:library -r:/usr/lib/mono/4.5/System.Web.dll -out:"$work/seeds/$(basename "$f" .cs).dll" "$f" >/dev/null 2>&1 || true
      done
    fi
    pc=${PE_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/iisguard-pe-corpus}/pe
    [ -d "$pc" ] && find "$pc" -size -100k | head -n 40 | xargs -r -I{} cp {} "$work/seeds/" || true
    sc=${PE_CORPUS:-${XDG_CACHE_HOME:-$HOME/.cache}/iisguard-pe-corpus}/signed
    [ -d "$sc" ] && find "$sc" -size -140k | head -n 4 | xargs -r -I{} cp {} "$work/seeds/" || true
  fi
  if [ "$t" = fuzz_dotnet ] && command -v mcs >/dev/null && [ -f /usr/lib/mono/4.5/System.Web.dll ]; then
    # the metadata of the managed fixtures (what the target wraps in a PE)
    for f in tests/pe/fixtures/managed_*.cs; do
      mcs -target:library -r:/usr/lib/mono/4.5/System.Web.dll -out:"$work/m.dll" "$f" >/dev/null 2>&1 || continue
      python3 - "$work/m.dll" "$work/seeds/$(basename "$f" .cs).md" <<'PY' || true
import struct, sys
d = open(sys.argv[1], 'rb').read()
pe = struct.unpack_from('<I', d, 0x3c)[0]
opt = pe + 24
nsec, optsz = struct.unpack_from('<H', d, pe + 6)[0], struct.unpack_from('<H', d, pe + 20)[0]
cli_rva = struct.unpack_from('<I', d, opt + 96 + 14 * 8)[0]
secs = [struct.unpack_from('<IIII', d, opt + optsz + 40 * i + 8) for i in range(nsec)]
def off(rva):
    for vs, va, rs, ptr in secs:
        if va <= rva < va + max(vs, rs):
            return ptr + rva - va
md_rva, md_size = struct.unpack_from('<II', d, off(cli_rva) + 8)
open(sys.argv[2], 'wb').write(d[off(md_rva):off(md_rva) + md_size])
PY
    done
  fi
  if [ "$t" = fuzz_catalog ] && [ -x build/asan/tests/mkcat ] && command -v x86_64-w64-mingw32-gcc >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fuzz -keyout "$work/k.pem" \
      -out "$work/c.pem" >/dev/null 2>&1 || true
    for f in tests/pe/fixtures/isapi_*.c; do
      x86_64-w64-mingw32-gcc -shared -O2 -o "$work/$(basename "$f" .c).dll" "$f" 2>/dev/null || true
    done
    build/asan/tests/mkcat "$work/seeds/one.cat" "$work/c.pem" "$work/k.pem" "$work"/isapi_*.dll \
      >/dev/null 2>&1 || true
  fi
  echo "fuzz: $t for ${secs}s"
  if "$bin" -max_total_time="$secs" -max_len=140000 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 "$work/corpus" "$work/seeds" > "$work/log" 2>&1; then
    pass=$((pass + 1)); grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/log" | tail -n 2 || true
  else
    fail=$((fail + 1)); tail -n 40 "$work/log"
  fi
  rm -rf "$work"; trap - EXIT
done
echo "fuzz $mode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
