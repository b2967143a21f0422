#!/usr/bin/env bash
# EVTX writer end to end: igfix builds fixtures (with a manifest of what it
# wrote), then
#   - an independent structural check (python) of headers, checksums, record
#     framing, record ids and the name/template hash tables;
#   - `iisguard dump --format jsonl` must decode every record without an
#     anomaly and agree with the manifest on every System value and datum;
#   - `evtxexport -f xml` (libevtx, when installed) must do the same, and
#     agree with iisguard on count, EventRecordID, EventID, Computer and
#     TimeCreated.
# usage: test_writer.sh IGFIX IISGUARD
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 IGFIX IISGUARD" >&2
    exit 2
fi
IGFIX=$1
IISGUARD=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS: $*"; }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
# check NAME CMD...: runs CMD, PASS when it exits 0 (its output is shown on failure)
check() {
    local name=$1
    shift
    if "$@" >"$T/check.log" 2>&1; then
        ok "$name"
    else
        ko "$name"
        sed 's/^/    /' "$T/check.log"
    fi
}

# ---- python helpers ------------------------------------------------------------
cat >"$T/evtxcheck.py" <<'PY'
import datetime, html, json, re, struct, sys, zlib

def fail(msg):
    print(msg if len(msg) < 2000 else msg[:2000] + '...')
    sys.exit(1)

def load_manifest(path):
    return [json.loads(l) for l in open(path, encoding='utf-8') if l.strip()]

def iso(ft, digits):
    t = datetime.datetime(1601, 1, 1) + datetime.timedelta(microseconds=ft // 10)
    frac = '%07d' % (ft % 10000000)
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + (frac[:digits] if digits <= 7 else frac + '00') + 'Z'

def name_hash(s):
    h = 0
    for u in struct.unpack('<%dH' % len(s), s.encode('utf-16-le')):
        h = (h * 65599 + u) & 0xffffffff
    return h & 0xffff

def u16(c, p): return struct.unpack_from('<H', c, p)[0]
def u32(c, p): return struct.unpack_from('<I', c, p)[0]

def bx_name(c, p):
    off = u32(c, p)
    p += 4
    if off == p:  # inline: next(4) hash(2) nchars(2) UTF-16 NUL(2)
        p += 10 + 2 * u16(c, p + 6)
    elif not 512 <= off < p: fail('name offset %#x at %#x points forward' % (off, p - 4))
    return p

def bx_value(c, p):
    t = c[p]
    if t in (0x05, 0x45) and c[p + 1] == 1: return p + 4 + 2 * u16(c, p + 2)
    if t in (0x0d, 0x0e): return p + 4
    fail('unexpected token %#x at %#x' % (t, p))

def bx_element(c, p, depth=0):
    """Walks an element start, checking its data size and attribute list size."""
    if c[p] not in (0x01, 0x41) or depth > 64: fail('element expected at %#x' % p)
    tok, size, start = c[p], u32(c, p + 3), p + 7
    p = bx_name(c, start)
    if tok == 0x41:
        asize, p = u32(c, p), p + 4
        astart = p
        while True:
            if c[p] not in (0x06, 0x46): fail('attribute expected at %#x' % p)
            more = c[p] == 0x46
            p = bx_value(c, bx_name(c, p + 1))
            if not more: break
        if p - astart != asize: fail('attribute list size %d, actual %d at %#x' % (asize, p - astart, astart))
    if c[p] == 0x03:
        p += 1
    elif c[p] == 0x02:
        p += 1
        while c[p] != 0x04:
            p = bx_element(c, p, depth + 1) if c[p] in (0x01, 0x41) else bx_value(c, p)
        p += 1
    else:
        fail('element start not closed at %#x' % p)
    if p - start != size: fail('element data size %d, actual %d at %#x' % (size, p - start, start))
    return p

def bx_record(c, p, size):
    """Fragment header, template instance (inline definition walked), values, EOF, zero padding."""
    q = p + 24
    if c[q:q + 6] != bytes([0x0f, 1, 1, 0, 0x0c, 1]): fail('record at %#x: no template instance' % p)
    off, q = u32(c, q + 10), q + 14
    if off == q:
        dsize = u32(c, q + 20)
        if u32(c, q + 4) != u32(c, 6 + p + 24): fail('template id is not the GUID prefix at %#x' % q)
        d = q + 24
        if c[d:d + 4] != bytes([0x0f, 1, 1, 0]): fail('template without fragment header at %#x' % d)
        e = bx_element(c, d + 4)
        if c[e] != 0 or e + 1 - d != dsize: fail('template data size %d, actual %d at %#x' % (dsize, e + 1 - d, q))
        q = d + dsize
    elif not 512 <= off < p: fail('template reference %#x from %#x' % (off, q))
    n = u32(c, q)
    sizes = [u16(c, q + 4 + 4 * i) for i in range(n)]
    q += 4 + 4 * n + sum(sizes)
    if c[q] != 0 or any(c[q:p + size - 4]): fail('record at %#x: no EOF token / non-zero padding' % p)

def structure(path, manifest):
    """Checks the file layout against libevtx notes §2-§4, independently of any decoder."""
    d = open(path, 'rb').read()
    n = len(manifest)
    if d[:8] != b'ElfFile\0': fail('file signature')
    if struct.unpack_from('<I', d, 124)[0] != zlib.crc32(d[:120]): fail('file header CRC32')
    first, last, next_id, hsize, minor, major, block, nchunks = struct.unpack_from('<QQQIHHHH', d, 8)
    if (hsize, major, minor, block) != (128, 3, 1, 4096): fail('header size/version/block')
    if (len(d) - 4096) % 65536: fail('file size is not 4096 + k*65536')
    if nchunks != (len(d) - 4096) // 65536: fail('chunk count %d vs size' % nchunks)
    if next_id != n + 1: fail('next record id %d, want %d' % (next_id, n + 1))
    if nchunks and (first, last) != (0, nchunks - 1): fail('first/last chunk number')
    rid = 0
    for ci in range(nchunks):
        c = d[4096 + ci * 65536: 4096 + (ci + 1) * 65536]
        if c[:8] != b'ElfChnk\0': fail('chunk %d signature' % ci)
        fnum, lnum, fid, lid, hs, lastoff, free, dcrc = struct.unpack_from('<QQQQIIII', c, 8)
        if struct.unpack_from('<I', c, 124)[0] != zlib.crc32(c[128:512], zlib.crc32(c[:120])):
            fail('chunk %d header CRC32' % ci)
        if hs != 128 or not 512 < free <= 65536: fail('chunk %d header size/free offset' % ci)
        if dcrc != zlib.crc32(c[512:free]): fail('chunk %d records CRC32' % ci)
        if any(c[free:]): fail('chunk %d: bytes after the free space offset' % ci)
        if (fnum, fid) != (rid + 1, rid + 1): fail('chunk %d first record %d' % (ci, fid))
        p, last_p = 512, None
        while p < free:
            sig, size, r, wt = struct.unpack_from('<IIQQ', c, p)
            if sig != 0x2a2a or size < 32 or p + size > free or size % 8:
                fail('chunk %d: bad record framing at %#x' % (ci, p))
            if struct.unpack_from('<I', c, p + size - 4)[0] != size: fail('size copy at %#x' % p)
            rid += 1
            if r != rid: fail('record id %d, want %d' % (r, rid))
            if wt != manifest[rid - 1]['FileTime']: fail('record %d written time' % rid)
            bx_record(c, p, size)
            last_p = p
            p += size
        if (lnum, lid, lastoff) != (rid, rid, last_p): fail('chunk %d last record fields' % ci)
        # common string table: every entry is a name whose hash is in its bucket
        for b in range(64):
            off, steps = struct.unpack_from('<I', c, 128 + 4 * b)[0], 0
            while off:
                nxt, h, nch = struct.unpack_from('<IHH', c, off)
                s = c[off + 8: off + 8 + 2 * nch].decode('utf-16-le')
                if h != name_hash(s) or h % 64 != b or c[off + 8 + 2 * nch: off + 10 + 2 * nch] != b'\0\0':
                    fail('chunk %d: bad name %r in string table bucket %d' % (ci, s, b))
                off, steps = nxt, steps + 1
                if steps > 1000: fail('string table loop')
        for b in range(32):
            off, steps = struct.unpack_from('<I', c, 384 + 4 * b)[0], 0
            while off:
                if not 512 <= off < free or struct.unpack_from('<I', c, off + 4)[0] % 32 != b:
                    fail('chunk %d: bad template pointer %#x' % (ci, off))
                off, steps = struct.unpack_from('<I', c, off)[0], steps + 1
                if steps > 1000: fail('template table loop')
    if rid != n: fail('%d records in the file, manifest has %d' % (rid, n))
    print('structure ok: %d chunks, %d records' % (nchunks, rid))

def want_system(m):
    return {'EventRecordID': m['EventRecordID'], 'EventID': m['EventID'], 'Version': m['Version'],
            'Level': m['Level'], 'Task': m['Task'], 'Opcode': m['Opcode'],
            'Keywords': int(m['Keywords'], 16), 'ProcessID': m['ProcessID'], 'ThreadID': m['ThreadID'],
            'Provider': m['Provider'], 'Guid': m['Guid'], 'Channel': m['Channel'],
            'Computer': m['Computer'], 'UserID': m['UserID']}

def jsonl(path, manifest):
    """iisguard JSON lines vs the manifest."""
    recs = [json.loads(l) for l in open(path, encoding='utf-8') if l.strip()]
    if len(recs) != len(manifest): fail('iisguard: %d records, manifest %d' % (len(recs), len(manifest)))
    for r, m in zip(recs, manifest):
        s = r['Event']['System']
        pa = s['Provider']['#attributes']
        sec = s.get('Security')
        got = {'EventRecordID': s['EventRecordID'], 'EventID': s['EventID'], 'Version': s['Version'],
               'Level': s['Level'], 'Task': s['Task'], 'Opcode': s['Opcode'],
               'Keywords': int(s['Keywords'], 16), 'ProcessID': s['Execution']['#attributes']['ProcessID'],
               'ThreadID': s['Execution']['#attributes']['ThreadID'], 'Provider': pa['Name'],
               'Guid': ('{%s}' % pa['Guid']) if 'Guid' in pa else None, 'Channel': s['Channel'],
               'Computer': s['Computer'],
               'UserID': sec['#attributes']['UserID'] if isinstance(sec, dict) else None}
        want = want_system(m)
        if got != want: fail('iisguard record %d System: %r != %r' % (m['EventRecordID'], got, want))
        t = s['TimeCreated']['#attributes']['SystemTime']
        if t != iso(m['FileTime'], 6): fail('iisguard record %d time %s != %s' % (m['EventRecordID'], t, iso(m['FileTime'], 6)))
        data = r['Event'].get('EventData') or {}
        # iisguard's JSON trims trailing white space from strings, like evtx_dump
        if list(data.items()) != [(k, v.rstrip()) for k, v in m['Data']]:
            fail('iisguard record %d EventData: %r != %r' % (m['EventRecordID'], data, m['Data']))
    print('iisguard ok: %d records' % len(recs))

EV = re.compile(r'<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">(.*?)</Event>', re.S)
def xml_events(path):
    out = []
    for body in EV.findall(open(path, encoding='utf-8').read()):
        def tag(name):
            m = re.search(r'<%s>(.*?)</%s>' % (name, name), body, re.S)
            return html.unescape(m.group(1)) if m else None
        def attr(el, a):
            m = re.search(r'<%s\b[^>]*?\b%s="([^"]*)"' % (el, a), body)
            return html.unescape(m.group(1)) if m else None
        data = [(html.unescape(k), html.unescape(v)) for k, v in
                re.findall(r'<Data Name="([^"]*)">(.*?)</Data>', body, re.S)]
        data += [(html.unescape(k), '') for k in re.findall(r'<Data Name="([^"]*)"\s*/>', body)]
        out.append({'EventRecordID': int(tag('EventRecordID')), 'EventID': int(tag('EventID')),
                    'Version': int(tag('Version')), 'Level': int(tag('Level')),
                    'Task': int(tag('Task')), 'Opcode': int(tag('Opcode')),
                    'Keywords': int(tag('Keywords'), 16), 'ProcessID': int(attr('Execution', 'ProcessID')),
                    'ThreadID': int(attr('Execution', 'ThreadID')),
                    'Provider': attr('Provider', 'Name'), 'Guid': attr('Provider', 'Guid'),
                    'Channel': tag('Channel'), 'Computer': tag('Computer'),
                    'UserID': attr('Security', 'UserID'),
                    'TimeCreated': attr('TimeCreated', 'SystemTime'), 'Data': data})
    return out

def evtxexport(path, manifest, iisguard_jsonl):
    """evtxexport XML vs the manifest (data compared as a set: libevtx prints
    empty elements separately) and vs iisguard."""
    evs = xml_events(path)
    if len(evs) != len(manifest): fail('evtxexport: %d records, manifest %d' % (len(evs), len(manifest)))
    for e, m in zip(evs, manifest):
        got = {k: e[k] for k in want_system(m)}
        if got['Guid'] is not None and m['Guid'] is not None:
            got['Guid'] = got['Guid'].upper()
        if got != want_system(m): fail('evtxexport record %d System: %r != %r' % (m['EventRecordID'], got, want_system(m)))
        if e['TimeCreated'] != iso(m['FileTime'], 9): fail('evtxexport record %d time %s != %s' % (m['EventRecordID'], e['TimeCreated'], iso(m['FileTime'], 9)))
        if sorted(e['Data']) != sorted(tuple(x) for x in m['Data']):
            fail('evtxexport record %d EventData: %r != %r' % (m['EventRecordID'], e['Data'], m['Data']))
    recs = [json.loads(l) for l in open(iisguard_jsonl, encoding='utf-8') if l.strip()]
    if len(recs) != len(evs): fail('iisguard %d records, evtxexport %d' % (len(recs), len(evs)))
    for r, e in zip(recs, evs):
        s = r['Event']['System']
        a = (s['EventRecordID'], s['EventID'], s['Computer'], s['TimeCreated']['#attributes']['SystemTime'])
        b = (e['EventRecordID'], e['EventID'], e['Computer'], e['TimeCreated'][:26] + 'Z')
        if a != b: fail('iisguard and evtxexport disagree: %r != %r' % (a, b))
    print('evtxexport ok: %d records, agrees with iisguard' % len(evs))

def demo(path):
    """The demo story is all there."""
    recs = [json.loads(l)['Event'] for l in open(path, encoding='utf-8') if l.strip()]
    if not 20 <= len(recs) <= 60: fail('demo has %d events' % len(recs))
    def find(eid, pred):
        return [r for r in recs if r['System']['EventID'] == eid and pred(r.get('EventData') or {})]
    appcmd = 'appcmd.exe install module /name:ProxyModule /image:C:\\Windows\\System32\\inetsrv\\iisproxy.dll'
    checks = {
        'host is WEB01': all(r['System']['Computer'] == 'WEB01' for r in recs),
        'sysmon 1 appcmd under cmd.exe': find(1, lambda d: appcmd in d.get('CommandLine', '')
                                              and d.get('ParentImage', '').endswith('\\cmd.exe')
                                              and d.get('Image', '').endswith('\\appcmd.exe')),
        'sysmon 1 cmd.exe under w3wp.exe': find(1, lambda d: appcmd in d.get('CommandLine', '')
                                                and d.get('ParentImage', '').endswith('\\w3wp.exe')),
        'security 4688 appcmd': find(4688, lambda d: appcmd in d.get('CommandLine', '')
                                     and d.get('NewProcessName', '').endswith('\\appcmd.exe')),
        'gacutil /i': find(1, lambda d: 'gacutil.exe' in d.get('Image', '') and ' /i ' in d.get('CommandLine', '')),
        'powershell 4104 New-WebGlobalModule': find(4104, lambda d: 'New-WebGlobalModule' in d.get('ScriptBlockText', '')),
        'sysmon 11 applicationHost.config by non-IIS process':
            find(11, lambda d: d.get('TargetFilename', '').endswith('\\inetsrv\\config\\applicationHost.config')
                 and '\\inetsrv\\' not in d.get('Image', '').lower()),
        'iis-configuration 29': find(29, lambda d: 'ProxyModule' in d.get('Configuration', '')),
        'system 7045': find(7045, lambda d: d.get('ServiceName')),
        'timestamps increase': all(a['System']['TimeCreated']['#attributes']['SystemTime'] <
                                   b['System']['TimeCreated']['#attributes']['SystemTime']
                                   for a, b in zip(recs, recs[1:])),
    }
    bad = [k for k, v in checks.items() if not v]
    if bad: fail('demo is missing: ' + ', '.join(bad))
    print('demo ok: %d events' % len(recs))

def chunks_at_least(path, k):
    n = struct.unpack_from('<H', open(path, 'rb').read(), 42)[0]
    if n < k: fail('%d chunks, want at least %d' % (n, k))
    print('%d chunks' % n)

cmd = sys.argv[1]
if cmd == 'structure': structure(sys.argv[2], load_manifest(sys.argv[3]))
elif cmd == 'jsonl': jsonl(sys.argv[2], load_manifest(sys.argv[3]))
elif cmd == 'evtxexport': evtxexport(sys.argv[2], load_manifest(sys.argv[3]), sys.argv[4])
elif cmd == 'demo': demo(sys.argv[2])
elif cmd == 'chunks': chunks_at_least(sys.argv[2], int(sys.argv[3]))
else: fail('unknown command ' + cmd)
PY
PY=(python3 "$T/evtxcheck.py")

# dump_ok FILE OUT: iisguard decodes FILE to OUT with exit status 0 (no anomaly)
dump_ok() {
    "$IISGUARD" dump --format jsonl "$1" >"$2" 2>"$2.err" || { cat "$2.err"; return 1; }
    if grep -q ' anomal' "$2.err" && ! grep -q ' 0 anomalies' "$2.err"; then cat "$2.err"; return 1; fi
}
# export_ok FILE OUT: evtxexport exports FILE without complaint
export_ok() {
    evtxexport -f xml "$1" >"$2" 2>"$2.err" || { cat "$2.err"; return 1; }
    if grep -v -e '^evtxexport ' -e '^$' "$2.err" | grep -q .; then cat "$2.err"; return 1; fi
    if grep -qi -e 'error' -e 'unable' -e 'corrupt' "$2"; then grep -i -e error -e unable -e corrupt "$2" | head; return 1; fi
}

HAVE_EVTXEXPORT=0
if command -v evtxexport >/dev/null 2>&1; then
    HAVE_EVTXEXPORT=1
else
    echo "SKIP: evtxexport not installed (Debian: libevtx-utils); libevtx cross-checks skipped"
fi

# ---- fixtures -----------------------------------------------------------------------
run_case() { # NAME IGFIX-ARGS...
    local name=$1
    shift
    local f="$T/$name.evtx" m="$T/$name.manifest"
    check "$name: igfix builds it" "$IGFIX" evtx "$f" "$@" --manifest "$m"
    [ -s "$f" ] || return 0
    check "$name: layout, checksums and record ids" "${PY[@]}" structure "$f" "$m"
    check "$name: iisguard dump exits 0 without anomalies" dump_ok "$f" "$T/$name.jsonl"
    check "$name: iisguard output matches what was written" "${PY[@]}" jsonl "$T/$name.jsonl" "$m"
    if [ "$HAVE_EVTXEXPORT" = 1 ]; then
        check "$name: evtxexport -f xml exports it cleanly" export_ok "$f" "$T/$name.xml"
        check "$name: evtxexport matches what was written and agrees with iisguard" \
            "${PY[@]}" evtxexport "$T/$name.xml" "$m" "$T/$name.jsonl"
    fi
}

run_case demo --scenario demo
run_case basic --scenario basic
run_case basic7 --scenario basic --count 7 --seed 42
run_case big --scenario big --count 3000

check "demo: the IIS compromise story is complete" "${PY[@]}" demo "$T/demo.jsonl"
check "big: spans many chunks" "${PY[@]}" chunks "$T/big.evtx" 20
check "basic: 100 records by default" test "$(wc -l <"$T/basic.jsonl")" -eq 100

# the same arguments give the same bytes
"$IGFIX" evtx "$T/demo2.evtx" --scenario demo 2>/dev/null || true
check "demo: output is deterministic" cmp "$T/demo.evtx" "$T/demo2.evtx"

# an empty log is a valid header
check "empty: igfix --count 0" "$IGFIX" evtx "$T/empty.evtx" --count 0
check "empty: iisguard dump gives no records" dump_ok "$T/empty.evtx" "$T/empty.jsonl"
check "empty: no output" test ! -s "$T/empty.jsonl"

# damage is detected (the checks above can fail)
cp "$T/basic.evtx" "$T/damaged.evtx"
printf '\x55' | dd of="$T/damaged.evtx" bs=1 seek=$((4096 + 700)) conv=notrunc 2>/dev/null
check "damaged copy: iisguard reports it (exit 2)" \
    bash -c '"$1" dump -q "$2" >/dev/null 2>&1; test $? -eq 2' _ "$IISGUARD" "$T/damaged.evtx"
check "damaged copy: the structural check rejects it" \
    bash -c '! "$@"' _ "${PY[@]}" structure "$T/damaged.evtx" "$T/basic.manifest"

# usage errors
check "igfix rejects an unknown scenario" bash -c '! "$1" evtx "$2" --scenario nope' _ "$IGFIX" "$T/x.evtx"
check "igfix rejects a bad count" bash -c '! "$1" evtx "$2" --count 12x' _ "$IGFIX" "$T/x.evtx"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
