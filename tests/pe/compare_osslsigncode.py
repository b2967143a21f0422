#!/usr/bin/env python3
"""Compares iisguard's Authenticode verdicts with `osslsigncode verify` on a
folder of signed PE files (the signed EFI binaries of
../shared/bench/pe-corpus.sh): the primary signature's image digest check,
signature and chain result.  Prints each file's two verdicts and the reason
for every difference it knows.  usage: compare_osslsigncode.py IISGUARD DIR"""
import json, os, re, subprocess, sys


def theirs(path):
    r = subprocess.run(['osslsigncode', 'verify', '-in', path], capture_output=True)
    out = (r.stdout + r.stderr).decode('utf-8', 'replace')
    if 'Corrupted attribute certificate table' in out or 'Unable to extract existing signature' in out:
        return 'unreadable', out
    cur = re.search(r'Current message digest\s*:\s*([0-9A-F]+)', out)
    calc = re.search(r'Calculated message digest\s*:\s*([0-9A-F]+)', out)
    if cur and calc and cur.group(1) != calc.group(1):
        return 'hash_mismatch', out
    if r.returncode == 0:
        return 'trusted', out
    if re.search(r'Error: (unable to get local issuer|self.signed|certificate has expired)', out):
        return 'untrusted', out
    return 'failed', out


def main():
    exe, d = sys.argv[1], sys.argv[2]
    same = diff = unexplained = 0
    for n in sorted(os.listdir(d)):
        p = os.path.join(d, n)
        r = subprocess.run([exe, 'inspect', '-q', '--format', 'json', p], capture_output=True)
        o = json.loads(r.stdout.decode().splitlines()[0])
        sigs = o['signature']['signatures']
        ours = sigs[0]['status'] if sigs else o['signature']['status']
        t, out = theirs(p)
        note = ''
        if ours != t:
            diff += 1
            if t == 'unreadable' and len({s['entry'] for s in sigs}) > 1:
                note = (f'  <- the certificate table has {len({s["entry"] for s in sigs})} '
                        f'WIN_CERTIFICATE entries; osslsigncode reads one and calls the table '
                        f'corrupted, iisguard verifies each: '
                        + ', '.join(f'entry {s["entry"]} {s["status"]}' for s in sigs))
            unexplained += note == ''
        else:
            same += 1
        print(f'{n}: iisguard {ours}, osslsigncode {t}{note}')
    print(f'{same} agree, {diff} differ ({unexplained} without an explanation)')
    return 1 if unexplained else 0


if __name__ == '__main__':
    sys.exit(main())
