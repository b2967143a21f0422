#!/usr/bin/env bash
# The hunt command's contract on events the project writes itself (igfix's
# demo attack, 34 alerts of the built-in pack): exit codes, rule selection,
# time range and time zones, output files, stable order, messages.
# usage: hunt_cli.sh IISGUARD IGFIX
set -u # no pipefail: hunt exits 1 when it finds alerts
exe=$1 igfix=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
hunt() { "$exe" hunt -q "$@"; }

"$igfix" evtx "$tmp/demo.evtx" --scenario demo >/dev/null 2>&1 || { echo "FAIL: igfix"; exit 1; }
d=$tmp/demo.evtx
hunt --format jsonl "$d" >"$tmp/all.jsonl"; rc=$?
all=$(wc -l <"$tmp/all.jsonl")
[ $rc -eq 1 ] && [ "$all" -eq 34 ] && ok || ko "demo: exit $rc, $all alerts (want 1, 34)"

# exit status: 0 without alerts, 2 on unreadable or damaged input and usage
printf '%s\n' '{"Event":{"System":{"Channel":"Security","EventID":4624,"Computer":"A"},"EventData":{"TargetUserName":"bob"}}}' >"$tmp/quiet.jsonl"
hunt "$tmp/quiet.jsonl" >/dev/null; rc=$?
[ $rc -eq 0 ] && ok || ko "no alert must exit 0 (got $rc)"
hunt "$tmp/nosuch.evtx" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok || ko "a missing input must exit 2 (got $rc)"
hunt --bogus "$d" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok || ko "an unknown option must exit 2 (got $rc)"
{ cat "$tmp/quiet.jsonl"; echo '{"Event": broken'; jq -c 'select(.winlog.record_id == 10) | {Event: {System: {Channel: .winlog.channel, EventID: .event.code, Computer: .host.name, Provider: {"#attributes": {Name: .event.provider}}}, EventData: .winlog.event_data}}' "$tmp/all.jsonl"; } >"$tmp/mixed.jsonl"
"$exe" hunt --format jsonl "$tmp/mixed.jsonl" >"$tmp/m" 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && ok || ko "a damaged line must exit 2 (got $rc)"
grep -q "mixed.jsonl:2: " "$tmp/e" && ok || ko "the damaged line is named with file:line: $(head -2 "$tmp/e")"
[ "$(wc -l <"$tmp/m")" -ge 1 ] && ok || ko "the lines after a damaged one are hunted"

# rule selection (never by title)
hunt --format jsonl --min-level high "$d" >"$tmp/h"
[ "$(wc -l <"$tmp/h")" -eq 28 ] && ! grep -qv '"level":"\(high\|critical\)"' "$tmp/h" && ok || ko "--min-level high: $(wc -l <"$tmp/h") alerts"
echo "5b0c7f6e-2f0a-4f2d-9d1b-7a3c1e8f4a09  # noisy here" >"$tmp/excl"
hunt --format jsonl --exclude-rules "$tmp/excl" "$d" >"$tmp/x"
[ "$(wc -l <"$tmp/x")" -eq 26 ] && ! jq -e 'select(.rule.id | endswith("4a09"))' "$tmp/x" >/dev/null && ok || ko "--exclude-rules: $(wc -l <"$tmp/x") alerts"
hunt --format jsonl --tags attack.t1505.004 "$d" >"$tmp/t"
[ -s "$tmp/t" ] && jq -e -s 'all(.[]; .correlation != null or any(.rule.tags[]; . == "attack.t1505.004"))' "$tmp/t" >/dev/null && ok || ko "--tags"
"$exe" hunt --status nosuch "$d" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "no rule selected: 24 loaded" "$tmp/e" && ok || ko "--status leaving no rule: exit $rc, $(cat "$tmp/e")"
printf 'title: broken\nid: x\nlogsource: {product: windows}\ndetection:\n  sel: {Image|nosuchmod: x}\n  condition: sel\n' >"$tmp/bad.yml"
"$exe" hunt --format jsonl --rules "$tmp/bad.yml" "$d" >"$tmp/b" 2>"$tmp/e"; rc=$?
grep -q "bad.yml:1: unknown modifier 'nosuchmod'" "$tmp/e" && grep -q "24 rules loaded, 1 rejected" "$tmp/e" && ok || ko "a rejected rule is listed with file:line and counted: $(cat "$tmp/e")"
[ $rc -eq 1 ] && cmp -s "$tmp/b" "$tmp/all.jsonl" && ok || ko "the other rules still run (exit $rc)"

# time range, with offsets
hunt --format jsonl --from 2024-03-12T09:00:00Z "$d" >"$tmp/f1"
hunt --format jsonl --from 2024-03-12T10:00:00+01:00 "$d" >"$tmp/f2"
n=$(wc -l <"$tmp/f1")
[ "$n" -gt 0 ] && [ "$n" -lt 34 ] && cmp -s "$tmp/f1" "$tmp/f2" && ok || ko "--from with and without an offset: $n alerts"
jq -e -s 'all(.[]; ."@timestamp" >= "2024-03-12T09:00:00")' "$tmp/f1" >/dev/null && ok || ko "--from left earlier events in"
hunt --format jsonl --to 2024-03-12T09:00:00Z "$d" >"$tmp/t1"
[ $(($(wc -l <"$tmp/t1") + n)) -eq 34 ] && ok || ko "--to and --from do not split the alerts"

# time zones: offsets, tz database names (daylight saving per event), the machine's
hunt --format csv --timezone +05:30 "$d" | sed -n 2p | grep -q '^2024-03-12T13:33:43\.[0-9]*+05:30,' && ok || ko "--timezone +05:30"
if [ -f /usr/share/zoneinfo/Europe/Berlin ]; then
    hunt --format csv --timezone Europe/Berlin "$d" | sed -n 2p | grep -q '^2024-03-12T09:03:43\.[0-9]*+01:00,' && ok || ko "--timezone Europe/Berlin (winter)"
    printf '%s\n' '{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WEB01","TimeCreated":{"#attributes":{"SystemTime":"2024-07-01T12:00:00.000000Z"}},"EventRecordID":1},"EventData":{"Image":"C:\\Windows\\System32\\inetsrv\\appcmd.exe","CommandLine":"appcmd.exe install module /name:X /image:C:\\x.dll","ParentImage":"C:\\Windows\\System32\\cmd.exe"}}}' >"$tmp/summer.jsonl"
    hunt --format csv --timezone Europe/Berlin "$tmp/summer.jsonl" | sed -n 2p | grep -q '^2024-07-01T14:00:00\.000000+02:00,' && ok || ko "--timezone Europe/Berlin (summer time)"
    TZ=Asia/Kolkata hunt --format csv --local "$d" | sed -n 2p | grep -q '+05:30,' && ok || ko "--local follows the machine's zone"
else
    echo "SKIP: no tz database"
fi
"$exe" hunt --timezone Mars/Olympus "$d" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "not found: Mars/Olympus" "$tmp/e" && ok || ko "an unknown zone must exit 2 (got $rc)"
"$exe" hunt --timezone ../../etc/passwd "$d" >/dev/null 2>&1; [ $? -eq 2 ] && ok || ko "a path is not a zone"
hunt --format jsonl --timezone +05:30 "$d" | cmp -s - "$tmp/all.jsonl" && ok || ko "JSON lines stay in UTC"

# output: never overwritten without --force; - is standard output
echo keep >"$tmp/out"
"$exe" hunt "$d" -o "$tmp/out" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && [ "$(cat "$tmp/out")" = keep ] && ok || ko "an existing output must be kept (exit $rc)"
hunt --format jsonl "$d" -o "$tmp/out" --force; cmp -s "$tmp/out" "$tmp/all.jsonl" && ok || ko "--force"
hunt --format jsonl "$d" -o - | cmp -s - "$tmp/all.jsonl" && ok || ko "-o -"

# standard input and pipes: read once, whatever the format
"$exe" dump -q "$d" -o "$tmp/demo.jsonl" 2>/dev/null
# (alerts compared without where their events were read from)
key() { jq -c '[.rule.id, ."@timestamp", .winlog.record_id, .correlation.count]'; }
key <"$tmp/all.jsonl" >"$tmp/s1"
hunt --format jsonl - <"$d" | key | cmp -s - "$tmp/s1" && ok || ko "EVTX on standard input"
hunt --format jsonl - <"$tmp/demo.jsonl" | key | cmp -s - "$tmp/s1" && ok || ko "JSON lines on standard input"
"$exe" dump -q --format xml "$d" 2>/dev/null | hunt --format jsonl - | key | cmp -s - "$tmp/s1" && ok || ko "event XML on standard input"
hunt --format jsonl --threads 2 <(cat "$tmp/demo.jsonl") | key | cmp -s - "$tmp/s1" && ok || ko "JSON lines through a pipe (process substitution)"
hunt --format jsonl <(cat "$d") | key | cmp -s - "$tmp/s1" && ok || ko "EVTX through a pipe"
mkfifo "$tmp/fifo.jsonl"
cat "$tmp/demo.jsonl" >"$tmp/fifo.jsonl" &
timeout 60 "$exe" hunt -q --format jsonl "$tmp/fifo.jsonl" | key | cmp -s - "$tmp/s1" && ok || ko "a FIFO (read once, no hang)"
wait
mkdir "$tmp/nothing" && echo notes >"$tmp/nothing/readme.txt"
"$exe" hunt "$tmp/nothing" >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "nothing: no input in this folder (no file named \*.evtx, .*; 1 other file)" "$tmp/e" && ok || ko "a folder without event logs is said: exit $rc, $(head -1 "$tmp/e")"
mkdir "$tmp/norules"
"$exe" hunt --rules "$tmp/norules" "$d" >/dev/null 2>"$tmp/e"
grep -q "norules:0: no rule file (\*.yml, \*.yaml) in this folder" "$tmp/e" && ok || ko "a rule folder without rules is said: $(head -1 "$tmp/e")"
printf 'not an event log\n' | "$exe" hunt - >/dev/null 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "^iisguard: -: " "$tmp/e" && ok || ko "junk on standard input: exit $rc, $(head -1 "$tmp/e")"

# formats and a stable order (two runs, any thread count)
hunt --format csv "$d" >"$tmp/c"
[ "$(wc -l <"$tmp/c")" -eq 35 ] && head -1 "$tmp/c" | grep -q '^timestamp,level,rule_id,' && ok || ko "csv: header + 34 rows"
hunt --format jsonl --threads 2 "$d" | cmp -s - "$tmp/all.jsonl" && ok || ko "2 threads give the same alerts in the same order"
NO_COLOR=1 hunt "$d" >"$tmp/txt1"; NO_COLOR=1 hunt "$d" >"$tmp/txt2"
cmp -s "$tmp/txt1" "$tmp/txt2" && ! grep -q $'\033' "$tmp/txt1" && ok || ko "text output: stable, no colour when not a terminal"

# -q: nothing on stderr for a clean run; otherwise a summary
hunt "$d" >/dev/null 2>"$tmp/e"; [ ! -s "$tmp/e" ] && ok || ko "-q printed: $(head -2 "$tmp/e")"
"$exe" hunt "$d" >/dev/null 2>"$tmp/e"
grep -q "hunt: 34 alerts (critical 6, high 22, medium 4, low 2" "$tmp/e" && grep -q "top rule" "$tmp/e" && grep -q "top host" "$tmp/e" && ok || ko "summary: $(cat "$tmp/e")"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
