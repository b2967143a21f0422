#!/usr/bin/env python3
"""PE analysis on fixtures built here with MinGW-w64 (tests/pe/fixtures):
every fixture classified as expected with its anomalies, version strings and
debug path; then damaged copies (truncated, pointers out of the file,
absurd counts, looping thunks) must be read within limits, reported, and
never crash.  Exits 77 (skip) when MinGW-w64 is not installed.
usage: test_pe.py IISGUARD FIXTURE_SOURCES [MKCAT]"""
import json, os, shutil, struct, subprocess, sys, tempfile

exe, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
mkcat = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 else None
CC64, CC32, RC = 'x86_64-w64-mingw32-gcc', 'i686-w64-mingw32-gcc', 'x86_64-w64-mingw32-windres'
if not all(shutil.which(t) for t in (CC64, CC32, RC)):
    print('SKIP: MinGW-w64 is not installed (Debian gcc-mingw-w64-x86-64, gcc-mingw-w64-i686)')
    sys.exit(77)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from checks import check, finish  # noqa: E402


def inspect(*paths):
    r = subprocess.run([exe, 'inspect', '-q', '--format', 'json'] + list(paths),
                       capture_output=True, timeout=60)
    if r.returncode < 0 or r.returncode > 2:
        return None, r
    return [json.loads(l) for l in r.stdout.decode().splitlines()], r


def many_imports(n):
    """A PE32+ DLL importing n functions by ordinal from one DLL (past the limit)."""
    sec_rva, sec_off = 0x1000, 0x200
    desc = sec_rva            # import descriptors (one + terminator)
    name = sec_rva + 40       # "x.dll"
    thunks = sec_rva + 48     # n ordinal thunks + 0
    body = bytearray(48 + 8 * (n + 1))
    struct.pack_into('<IIIII', body, 0, thunks, 0, 0, name, thunks)
    body[40:46] = b'x.dll\0'
    for i in range(n):
        struct.pack_into('<Q', body, 48 + 8 * i, (1 << 63) | (i % 65535 + 1))
    raw = (len(body) + 0x1FF) & ~0x1FF
    body += b'\0' * (raw - len(body))
    h = bytearray(sec_off)
    h[0:2] = b'MZ'
    struct.pack_into('<I', h, 0x3c, 0x40)
    h[0x40:0x44] = b'PE\0\0'
    struct.pack_into('<HHIIIHH', h, 0x44, 0x8664, 1, 0, 0, 0, 240, 0x2022)
    opt = 0x58
    struct.pack_into('<H', h, opt, 0x20b)
    struct.pack_into('<II', h, opt + 32, 0x1000, 0x200)
    struct.pack_into('<II', h, opt + 56, sec_rva + raw, sec_off)
    struct.pack_into('<I', h, opt + 108, 16)
    struct.pack_into('<II', h, opt + 112 + 8, desc, 40)
    sec = opt + 240
    h[sec:sec + 5] = b'.data'
    struct.pack_into('<IIII', h, sec + 8, raw, sec_rva, raw, sec_off)
    return bytes(h) + bytes(body)


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, **kw)


def signing(tmp):
    ca, leaf = os.path.join(tmp, 'ca'), os.path.join(tmp, 'leaf')
    ext = os.path.join(tmp, 'ext.cnf')
    open(ext, 'w').write('[v3]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=codeSigning\n'
                         'keyUsage=digitalSignature\n')
    run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj',
        '/CN=iisguard test CA', '-keyout', ca + '.key', '-out', ca + '.pem')
    run('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=iisguard test signer',
        '-keyout', leaf + '.key', '-out', leaf + '.csr')
    run('openssl', 'x509', '-req', '-in', leaf + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '.key',
        '-CAcreateserial', '-days', '30', '-extfile', ext, '-extensions', 'v3', '-out',
        leaf + '.pem')
    src_dll = os.path.join(tmp, 'isapi_filter.dll')
    signed = os.path.join(tmp, 'signed.dll')
    nested = os.path.join(tmp, 'nested.dll')
    run('osslsigncode', 'sign', '-certs', leaf + '.pem', '-key', leaf + '.key', '-h', 'sha256',
        '-in', src_dll, '-out', signed)
    run('osslsigncode', 'sign', '-certs', leaf + '.pem', '-key', leaf + '.key', '-h', 'sha1',
        '-nest', '-in', signed, '-out', nested)
    data = bytearray(open(signed, 'rb').read())
    lfanew = struct.unpack_from('<I', data, 0x3c)[0]
    cert_off, cert_size = struct.unpack_from('<II', data, lfanew + 24 + 112 + 32)
    # a changed code byte: the digest no longer matches
    tampered = bytearray(data)
    tampered[0x400] ^= 0xFF
    open(os.path.join(tmp, 'tampered.dll'), 'wb').write(tampered)
    # a changed signature byte (the RSA signature ends the SignedData)
    entry_len = struct.unpack_from('<I', data, cert_off)[0]
    badsig = bytearray(data)
    badsig[cert_off + entry_len - 10] ^= 0xFF
    open(os.path.join(tmp, 'badsig.dll'), 'wb').write(badsig)
    # a certificate table pointing past the end
    broken = bytearray(data)
    struct.pack_into('<I', broken, lfanew + 24 + 112 + 36, cert_size + 4096)
    open(os.path.join(tmp, 'broken.dll'), 'wb').write(broken)
    files = ['signed.dll', 'nested.dll', 'tampered.dll', 'badsig.dll', 'broken.dll',
             'isapi_filter.dll']

    def verify(trust):
        args = [exe, 'inspect', '-q', '--format', 'json'] + (['--trust', trust] if trust else [])
        r = subprocess.run(args + [os.path.join(tmp, f) for f in files], capture_output=True)
        return {os.path.basename(json.loads(l)['path']): json.loads(l)['signature']
                for l in r.stdout.decode().splitlines()}

    got = verify(ca + '.pem')
    managed = shutil.which('mcs') is not None and os.path.exists('/usr/lib/mono/4.5/System.Web.dll')
    if managed:
        for name, refs in (('managed_module', True), ('managed_handler', True),
                           ('managed_spoof', False)):
            run('mcs', '-target:library', '-out:' + os.path.join(tmp, name + '.dll'),
                *(['-r:/usr/lib/mono/4.5/System.Web.dll'] if refs else []),
                os.path.join(src, name + '.cs'))
    else:
        print('SKIP: managed modules (mono-mcs and libmono-system-web4.0-cil missing)')
    want = {'signed.dll': 'trusted', 'nested.dll': 'trusted', 'tampered.dll': 'hash_mismatch',
            'badsig.dll': 'signature_invalid', 'broken.dll': 'malformed',
            'isapi_filter.dll': 'unsigned'}
    for f, st in want.items():
        check(got.get(f, {}).get('status') == st,
              f'{f}: signature {got.get(f, {}).get("status")} ({got.get(f, {}).get("why")}), want {st}')
    n = got['nested.dll']['signatures']
    check(len(n) == 2 and n[0]['digest'] == 'SHA256' and n[1]['digest'] == 'SHA1' and
          n[1]['nested'] == 1 and n[1]['status'] == 'trusted', f'nested signatures {n}')
    check(got['signed.dll']['signer'] == 'CN=iisguard test signer', f'signer {got["signed.dll"]}')
    # without the CA: valid but untrusted
    got = verify(None)
    check(got['signed.dll']['status'] == 'untrusted', f'untrusted: {got["signed.dll"]}')
    # RFC 3161 time-stamps from osslsigncode's built-in TSA: verified when the
    # TSA chains to the trust store at the stamped time
    tsa = os.path.join(tmp, 'tsa')
    open(ext, 'a').write('[ts]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=critical,timeStamping\n'
                         'keyUsage=digitalSignature\n')
    run('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=iisguard test TSA',
        '-keyout', tsa + '.key', '-out', tsa + '.csr')
    run('openssl', 'x509', '-req', '-in', tsa + '.csr', '-CA', ca + '.pem', '-CAkey', ca + '.key',
        '-CAcreateserial', '-days', '30', '-extfile', ext, '-extensions', 'ts', '-out', tsa + '.pem')
    open(tsa + '-chain.pem', 'w').write(open(tsa + '.pem').read() + open(ca + '.pem').read())
    import time
    for name, when in (('ts_now.dll', int(time.time())), ('ts_early.dll', 1600000000)):
        run('osslsigncode', 'sign', '-certs', leaf + '.pem', '-key', leaf + '.key', '-h', 'sha256',
            '-TSA-certs', tsa + '-chain.pem', '-TSA-key', tsa + '.key', '-TSA-time', str(when),
            '-in', src_dll, '-out', os.path.join(tmp, name))
    r = subprocess.run([exe, 'inspect', '-q', '--format', 'json', '--trust', ca + '.pem',
                        os.path.join(tmp, 'ts_now.dll'), os.path.join(tmp, 'ts_early.dll')],
                       capture_output=True)
    ts = {os.path.basename(json.loads(l)['path']): json.loads(l)['signature']['signatures'][0]
          for l in r.stdout.decode().splitlines()}
    check(ts['ts_now.dll']['timestamp'] == 'rfc3161' and ts['ts_now.dll']['timestamp_verified'] and
          ts['ts_now.dll']['status'] == 'trusted', f'rfc3161 time-stamp: {ts["ts_now.dll"]}')
    check(ts['ts_early.dll']['timestamp_verified'] is False and
          'time-stamping authority' in (ts['ts_early.dll']['timestamp_problem'] or '') and
          ts['ts_early.dll']['signing_time'].startswith('2020-09-13'),
          f'a time-stamp before the TSA certificate: {ts["ts_early.dll"]}')

    # catalogs: a catalog signed by the CA lists isapi_filter.dll and the
    # tampered copy's original; a second one is signed by a stranger
    if mkcat:
        catroot = os.path.join(tmp, 'CatRoot', '{F750E6C3-38EE-11D1-85E5-00C04FC295EE}')
        os.makedirs(catroot)
        run(mkcat, os.path.join(catroot, 'iis.cat'), leaf + '.pem', leaf + '.key', src_dll)
        run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj',
            '/CN=stranger', '-keyout', ca + '-x.key', '-out', ca + '-x.pem')
        run(mkcat, os.path.join(catroot, 'other.cat'), ca + '-x.pem', ca + '-x.key',
            os.path.join(tmp, 'isapi_extension.dll'))
        open(os.path.join(catroot, 'junk.cat'), 'wb').write(b'not a catalog')
        r = subprocess.run([exe, 'inspect', '--format', 'json', '--trust', ca + '.pem',
                            '--catroot', os.path.join(tmp, 'CatRoot'), src_dll,
                            os.path.join(tmp, 'isapi_extension.dll'),
                            os.path.join(tmp, 'tool.exe'), os.path.join(tmp, 'microsoft.dll')],
                           capture_output=True)
        got = {os.path.basename(json.loads(l)['path']): json.loads(l)['signature']
               for l in r.stdout.decode().splitlines()}
        check(got.get('isapi_filter.dll', {}).get('status') == 'catalog_signed' and
              got['isapi_filter.dll'].get('signer') == 'CN=iisguard test signer',
              f'catalog-signed: {got.get("isapi_filter.dll")}')
        check(got.get('isapi_extension.dll', {}).get('status') == 'untrusted' and
              'catalog' in got['isapi_extension.dll'],
              f'untrusted catalog: {got.get("isapi_extension.dll")}')
        check(got.get('tool.exe', {}).get('status') == 'unsigned', f'not listed: {got.get("tool.exe")}')
        check(got.get('microsoft.dll', {}).get('status') == 'unsigned',
              f'a Microsoft-named file no catalog lists: {got.get("microsoft.dll")}')
        check(b'junk.cat' in r.stderr and b'2 catalogs' in r.stderr,
              f'catalog errors: {r.stderr.decode()[-400:]}')
    # osslsigncode agrees on each copy
    for f, ok in (('signed.dll', True), ('nested.dll', True), ('tampered.dll', False),
                  ('badsig.dll', False)):
        r = subprocess.run(['osslsigncode', 'verify', '-CAfile', ca + '.pem', '-in',
                            os.path.join(tmp, f)], capture_output=True)
        check((r.returncode == 0) == ok, f'osslsigncode on {f}: exit {r.returncode}')


tmp = tempfile.mkdtemp()
try:
    def build(cc, out, *args):
        subprocess.run([cc, '-shared', '-O2', '-o', os.path.join(tmp, out)] +
                       [os.path.join(src, a) if a.endswith(('.c', '.def')) else a for a in args],
                       check=True, cwd=tmp)
    subprocess.run([RC, os.path.join(src, 'plain.rc'), '-O', 'coff', '-o',
                    os.path.join(tmp, 'plain_rc.o')], check=True)
    build(CC64, 'isapi_extension.dll', 'isapi_extension.c')
    build(CC64, 'isapi_filter.dll', 'isapi_filter.c')
    build(CC64, 'native_module.dll', 'native_module.c')
    build(CC32, 'native_module_x86.dll', 'native_module.c')
    build(CC32, 'native_module_x86_killat.dll', 'native_module.c', '-Wl,--kill-at')
    build(CC32, 'native_module_msvc_name.dll', 'native_module.c', 'msvc_decorated.def')
    build(CC64, 'native_module_ordinal.dll', 'native_module.c', 'ordinal_only.def')
    build(CC64, 'plain.dll', 'plain.c', os.path.join(tmp, 'plain_rc.o'), '-Wl,--pdb=plain.pdb')
    subprocess.run([RC, os.path.join(src, 'microsoft.rc'), '-O', 'coff', '-o',
                    os.path.join(tmp, 'ms_rc.o')], check=True)
    build(CC64, 'microsoft.dll', 'plain.c', os.path.join(tmp, 'ms_rc.o'))
    build(CC64, 'forwarder.dll', 'forwarder.c', 'forwarder.def')
    subprocess.run([CC64, '-O2', '-o', os.path.join(tmp, 'tool.exe'),
                    os.path.join(src, 'tool.c')], check=True)

    managed = shutil.which('mcs') is not None and os.path.exists('/usr/lib/mono/4.5/System.Web.dll')
    if managed:
        for name, refs in (('managed_module', True), ('managed_handler', True),
                           ('managed_spoof', False)):
            run('mcs', '-target:library', '-out:' + os.path.join(tmp, name + '.dll'),
                *(['-r:/usr/lib/mono/4.5/System.Web.dll'] if refs else []),
                os.path.join(src, name + '.cs'))
    else:
        print('SKIP: managed modules (mono-mcs and libmono-system-web4.0-cil missing)')
    want = {
        'isapi_extension.dll': ('isapi_extension', None),
        'isapi_filter.dll': ('isapi_filter', None),
        'native_module.dll': ('native_module', None),
        'native_module_x86.dll': ('dll', "as 'RegisterModule@12' (stdcall-decorated)"),
        'native_module_x86_killat.dll': ('native_module', None),
        'native_module_msvc_name.dll': ('dll', 'stdcall-decorated'),
        'native_module_ordinal.dll': ('dll', 'exports only by ordinal'),
        'plain.dll': ('dll', None),
        'microsoft.dll': ('dll', None),
        'forwarder.dll': ('native_module', 'forwarded to iisproxy.RegisterModule'),
        'tool.exe': ('exe', None),
    }
    if managed:
        want.update({
            'managed_module.dll': ('managed_module', None),
            'managed_handler.dll': ('managed_handler', None),
            'managed_spoof.dll': ('dll', 'defines its own System.Web.IHttpModule'),
        })
    objs, r = inspect(*[os.path.join(tmp, n) for n in sorted(want)])
    by = {os.path.basename(o['path']): o for o in objs}
    for name, (cls, anomaly) in want.items():
        o = by.get(name)
        check(o is not None and o['classification'] == cls,
              f'{name}: class {o and o["classification"]}, want {cls}')
        if o is None:
            continue
        texts = ' | '.join(a['what'] for a in o['anomalies'])
        if anomaly:
            check(anomaly in texts, f'{name}: anomaly "{anomaly}" missing ({texts})')
        else:
            check(not o['anomalies'], f'{name}: unexpected anomalies {texts}')
        check(len(o['sha256']) == 64, f'{name}: sha256')
        want_sig = 'not_verifiable_offline' if name == 'microsoft.dll' else 'unsigned'
        check(o['signature']['status'] == want_sig, f'{name}: signature {o["signature"]}')
    o = by['plain.dll']
    check(o['version'].get('CompanyName') == 'Contoso Ltd' and
          o['version'].get('OriginalFilename') == 'plain.dll', f'version strings {o["version"]}')
    check(o['pdb_path'] == 'plain.pdb', f'pdb path {o["pdb_path"]}')
    check(o['imphash'] and len(o['imphash']) == 32, 'imphash')
    check(by['native_module_x86.dll']['machine'] == 'x86' and
          not by['native_module_x86.dll']['pe32plus'], 'x86 image')
    check('CHttpModule' in by['native_module.dll']['evidence'], 'CHttpModule evidence')
    if managed:
        types = {t['type']: t for t in by['managed_module.dll']['managed_types']}
        check(set(types) == {'Contoso.Web.HealthModule', 'Contoso.Web.BaseModule',
                             'Contoso.Web.SessionStateHelper'}, f'managed types {types}')
        check(types.get('Contoso.Web.SessionStateHelper', {}).get('via') == 'BaseModule' and
              types.get('Contoso.Web.BaseModule', {}).get('abstract') is True,
              'base class inheritance')
        check(by['managed_module.dll']['dotnet_runtime'] == 'v4.0.30319', 'runtime version')
    fw = {e['name']: e['forwarder'] for e in by['forwarder.dll']['exports']}
    check(fw.get('GetTickCount') == 'kernel32.GetTickCount', f'forwarders {fw}')

    # scan: components and unusable entry points found by content, whatever the name
    os.rename(os.path.join(tmp, 'native_module.dll'), os.path.join(tmp, 'readme.txt'))
    r = subprocess.run([exe, 'scan', '--format', 'json', tmp], capture_output=True)
    found = {os.path.basename(json.loads(l)['path']) for l in r.stdout.decode().splitlines()}
    check(r.returncode == 1, f'scan exit {r.returncode}')
    expect = {'readme.txt', 'isapi_extension.dll', 'isapi_filter.dll', 'forwarder.dll',
              'native_module_x86_killat.dll', 'native_module_x86.dll',
              'native_module_msvc_name.dll', 'native_module_ordinal.dll'}
    if managed:
        expect |= {'managed_module.dll', 'managed_handler.dll', 'managed_spoof.dll'}
    check(found == expect, f'scan found {sorted(found)}')
    comps = b'IIS components: 7' if managed else b'IIS components: 5'
    check(comps in r.stderr, f'scan summary {r.stderr[-300:]}')

    # a forwarded entry point is followed to the file it lands in
    shutil.copy(os.path.join(tmp, 'readme.txt'), os.path.join(tmp, 'IISPROXY.dll'))
    objs, r = inspect(os.path.join(tmp, 'forwarder.dll'))
    fe = objs[0]['forwarded_entry_points'] if objs else []
    check(len(fe) == 1 and fe[0]['file'].endswith('IISPROXY.dll') and fe[0]['exported_there'] and
          fe[0]['file_classification'] == 'native_module', f'forwarded entry point {fe}')
    os.remove(os.path.join(tmp, 'IISPROXY.dll'))

    # the user's YARA rules: a match is reported and makes scan list the file
    yar = os.path.join(tmp, 'rules.yar')
    open(yar, 'w').write('rule contoso_build { strings: $a = "Contoso Ltd" wide condition: $a }\n')
    r = subprocess.run([exe, 'scan', '-q', '--format', 'json', '--yara', yar, tmp],
                       capture_output=True)
    objs = {os.path.basename(json.loads(l)['path']): json.loads(l) for l in r.stdout.decode().splitlines()}
    check(objs.get('plain.dll', {}).get('yara') == ['contoso_build'], f'yara match {objs.get("plain.dll")}')
    check(objs.get('isapi_filter.dll', {}).get('yara') == [], 'yara: no match elsewhere')
    open(yar, 'w').write('rule broken { condition: $nothing }\n')
    r = subprocess.run([exe, 'scan', '-q', '--yara', yar, tmp], capture_output=True)
    check(r.returncode == 2 and b'rules.yar:1:' in r.stderr, f'bad yara rule: {r.returncode} {r.stderr}')

    # damaged copies
    good = open(os.path.join(tmp, 'readme.txt'), 'rb').read()
    lfanew = struct.unpack_from('<I', good, 0x3c)[0]
    opt = lfanew + 24
    nsec = struct.unpack_from('<H', good, lfanew + 6)[0]
    exp_rva = struct.unpack_from('<I', good, opt + 112)[0]
    imp_rva = struct.unpack_from('<I', good, opt + 120)[0]
    secs = [struct.unpack_from('<8sIIII', good, opt + 240 + 40 * i) for i in range(nsec)]

    def off_of(rva):
        for name, vsize, va, rsize, ptr in secs:
            if va <= rva < va + max(vsize, rsize):
                return ptr + rva - va
        raise ValueError(rva)

    def patched(edits):
        b = bytearray(good)
        for at, fmt, v in edits:
            struct.pack_into(fmt, b, at, v)
        return bytes(b)

    eo, io = off_of(exp_rva), off_of(imp_rva)
    cases = {
        'truncated.dll': (good[:1500], 'raw data starts past the end of the file'),
        'cut.dll': (good[:len(good) // 2], 'raw data runs past the end of the file'),
        'lfanew.dll': (patched([(0x3c, '<I', 0xFFFFFFF0)]), None),
        'sections.dll': (patched([(lfanew + 6, '<H', 0xFFFF)]), 'the first 96 are read'),
        'exports.dll': (patched([(eo + 20, '<I', 0x7FFFFFFF)]), 'exported functions'),
        'names.dll': (patched([(eo + 32, '<I', 0x7FFFFFF0)]), 'export name tables'),
        'thunks.dll': (patched([(io, '<I', imp_rva)]), None),
        'empty.dll': (b'', None),
        'mz.dll': (b'MZ', None),
        'noise.dll': (os.urandom(4096), None),
    }
    cases['many_imports.dll'] = (many_imports(70000), 'more than 65536 imported functions')
    for name, (data, anomaly) in cases.items():
        open(os.path.join(tmp, name), 'wb').write(data)
    objs, r = inspect(*[os.path.join(tmp, n) for n in cases])
    check(objs is not None and r.returncode == 0, f'damaged inputs: exit {r.returncode}')
    by = {os.path.basename(o['path']): o for o in objs or []}
    for name, (data, anomaly) in cases.items():
        o = by.get(name)
        check(o is not None, f'{name}: no result')
        if o is None:
            continue
        texts = ' | '.join(a['what'] for a in o['anomalies'])
        if anomaly:
            check(anomaly in texts, f'{name}: anomaly "{anomaly}" missing ({texts})')
    check(by['lfanew.dll']['classification'] == 'not_pe' and 'e_lfanew' in by['lfanew.dll']['why'],
          f'lfanew: {by["lfanew.dll"]["why"]}')
    check(by['empty.dll']['classification'] == 'not_pe', 'empty file')
    check(len(by['thunks.dll']['imports']) < 70000, 'looping thunks stay within the limit')
    check(len(by['many_imports.dll']['imports']) == 65536, 'imports stop at the limit, listed')

    # Authenticode: a throwaway CA signs copies with osslsigncode
    if shutil.which('osslsigncode') and shutil.which('openssl'):
        signing(tmp)
    else:
        print('SKIP: signatures (osslsigncode or openssl missing)')
finally:
    shutil.rmtree(tmp)
finish()
