#!/usr/bin/env bash
# `iisguard rules check` over SigmaHQ's Windows rules: at least 99% load and
# compile; every rejection is printed with file:line: reason.
set -uo pipefail
exe=$1 dir=$2
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
echo "$ok passed, $((1 - ok)) failed"
[ "$ok" -eq 1 ]
