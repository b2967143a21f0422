# Shared by the benchmark scripts (sourced).
# measure NAME RUNS CMD...: prints "NAME best-wall-seconds peak-RSS-KiB" — the
# best of RUNS wall-clock runs (perf_counter) and the largest resident size
# of the command's runs.
measure() {
  local name=$1 runs=$2; shift 2
  python3 - "$name" "$runs" "$@" <<'PY'
import resource, subprocess, sys, time
name, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
best = float('inf')
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = min(best, time.perf_counter() - t)
print(name, f'{best:.4f}', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}

# measure_pair NAME_A NAME_B RUNS CMD_A... -- CMD_B...: the two commands run
# alternately, RUNS times each, so that both see the same state of the
# machine (for a ratio between them); prints a "NAME best-wall-seconds
# peak-RSS-KiB" line for each (the peak: of both).
measure_pair() {
  local a=$1 b=$2 runs=$3; shift 3
  python3 - "$a" "$b" "$runs" "$@" <<'PY'
import resource, subprocess, sys, time
a, b, runs, rest = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
cmds = (rest[:rest.index('--')], rest[rest.index('--') + 1:])
best = [float('inf'), float('inf')]
for _ in range(runs):
    for k in (0, 1):
        t = time.perf_counter()
        subprocess.run(cmds[k], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best[k] = min(best[k], time.perf_counter() - t)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(a, f'{best[0]:.4f}', rss)
print(b, f'{best[1]:.4f}', rss)
PY
}

# Shared samples that libevtx's evtxexport decodes completely (it stops a
# file at its first bad record, which would flatter it), into the array
# named by $1 from the corpus folder $2.
full_samples() {
  local -n out=$1
  local corpus=$2 f _src _size _chunks recs bad n
  out=()
  while IFS=$'\t' read -r f _src _size _chunks recs bad; do
    [ "$f" = file ] && continue
    [ "$bad" = 0 ] || continue
    n=$(evtxexport -f xml "$corpus/$f" 2>/dev/null | grep -c '<Event xmlns' || true)
    [ "$n" = "$recs" ] && out+=("$corpus/$f")
  done < "$corpus/MANIFEST.tsv"
}
