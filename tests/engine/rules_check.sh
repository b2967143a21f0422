#!/usr/bin/env bash
# `iisguard rules check` over SigmaHQ's Windows rules: at least 99% load and
# compile; every rejection is printed with file:line: reason.  Then the same
# rules, loaded (parsed and compiled) by 1 and by 3 threads, hunt the EVTX
# corpus (when given) to the same alerts and the same messages.
set -uo pipefail
exe=$1 dir=$2 evtx=${3:-}
[ -d "$dir" ] || { echo "SKIP: $dir not found (the shared Sigma rules are absent)"; exit 77; }
out=$("$exe" rules check "$dir")
rc=$?
echo "$out" | grep -v '^loaded ' | sed 's/^/  rejected: /'
last=$(echo "$out" | tail -n 1)
echo "$last"
read -r loaded rejected < <(sed -E 's/loaded ([0-9]+), rejected ([0-9]+)/\1 \2/' <<<"$last")
total=$((loaded + rejected))
# every rejection names file, line and reason
bad=$(echo "$out" | grep -v '^loaded ' | grep -cvE '^[^:]+:[0-9]+: .+' || true)
pct=$((total ? loaded * 10000 / total : 0))
echo "accepted $loaded of $total ($((pct / 100)).$((pct % 100))%)"
ok=1
[ "$pct" -ge 9900 ] || ok=0
[ "$bad" -eq 0 ] || ok=0
[ "$rc" -le 1 ] || ok=0
if [ -n "$evtx" ] && [ -d "$evtx" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  untimed() { sed -E 's/ in [0-9.]+ s/ in X s/; s/[0-9.]+ s elapsed/X s elapsed/'; }
  for t in 1 3; do
    "$exe" hunt --no-builtin --format jsonl --threads "$t" --rules "$dir" "$evtx" \
      >"$tmp/a$t" 2>"$tmp/e$t"
  done
  n=$(wc -l <"$tmp/a1")
  if [ "$n" -gt 0 ] && cmp -s "$tmp/a1" "$tmp/a3" &&
     diff <(untimed <"$tmp/e1") <(untimed <"$tmp/e3") >/dev/null; then
    echo "1 and 3 loading threads: the same $n alerts and messages"
  else
    echo "FAIL: 1 and 3 loading threads differ ($n alerts with 1):"
    diff <(untimed <"$tmp/e1") <(untimed <"$tmp/e3") | head -5
    ok=0
  fi
fi
echo "$ok passed, $((1 - ok)) failed"
[ "$ok" -eq 1 ]
