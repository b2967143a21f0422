#!/usr/bin/python3
"""Compares `iisguard inspect --format json` with pefile on a folder of PE
files: exports (name, ordinal, forwarder), the export DLL name, imports
(DLL, function or ordinal), the imphash, sections (name, virtual address,
raw size) and the CodeView PDB path.  Prints each difference and a summary;
exits 1 when any file differs.
usage: compare_pefile.py IISGUARD DIR  (run with the python that has pefile)"""
import json, os, subprocess, sys

try:
    import pefile
except ImportError:
    print('SKIP: pefile is not installed (Debian python3-pefile)')
    sys.exit(77)


def ours(exe, paths):
    out = {}
    r = subprocess.run([exe, 'inspect', '-q', '--format', 'json'] + paths, capture_output=True)
    for line in r.stdout.decode('utf-8', 'replace').splitlines():
        o = json.loads(line)
        out[o['path']] = o
    return out


def theirs(path):
    pe = pefile.PE(path, fast_load=True)
    pe.parse_data_directories(directories=[
        pefile.DIRECTORY_ENTRY['IMAGE_DIRECTORY_ENTRY_EXPORT'],
        pefile.DIRECTORY_ENTRY['IMAGE_DIRECTORY_ENTRY_IMPORT'],
        pefile.DIRECTORY_ENTRY['IMAGE_DIRECTORY_ENTRY_DEBUG']])
    exports, dllname = [], None
    if hasattr(pe, 'DIRECTORY_ENTRY_EXPORT'):
        d = pe.DIRECTORY_ENTRY_EXPORT
        dllname = pe.get_string_at_rva(d.struct.Name).decode('latin-1') if d.struct.Name else None
        for s in d.symbols:
            exports.append((s.name.decode('latin-1') if s.name else None, s.ordinal,
                            s.forwarder.decode('latin-1') if s.forwarder else None))
    imports = []
    for e in getattr(pe, 'DIRECTORY_ENTRY_IMPORT', []):
        for i in e.imports:
            imports.append((e.dll.decode('latin-1'),
                            i.name.decode('latin-1') if i.name else None,
                            None if i.name else i.ordinal))
    pdb = None
    for d in getattr(pe, 'DIRECTORY_ENTRY_DEBUG', []):
        e = d.entry
        if e is not None and hasattr(e, 'PdbFileName'):
            pdb = e.PdbFileName.rstrip(b'\0').decode('latin-1')
            break
    sections = [(s.Name.rstrip(b'\0').decode('latin-1'), s.VirtualAddress) for s in pe.sections]
    return {'exports': sorted(exports, key=repr), 'dll': dllname, 'imports': imports,
            'imphash': pe.get_imphash() or None, 'pdb': pdb, 'sections': sections}


def main():
    exe, d = sys.argv[1], sys.argv[2]
    paths = sorted(os.path.join(d, n) for n in os.listdir(d))
    got = {}
    for i in range(0, len(paths), 200):
        got.update(ours(exe, paths[i:i + 200]))
    same = diff = skipped = 0
    nexp = 0
    for p in paths:
        try:
            t = theirs(p)
        except pefile.PEFormatError as e:
            skipped += 1
            continue
        o = got.get(p)
        if o is None or o['classification'] == 'not_pe':
            print(f'DIFF {p}: pefile reads it, iisguard says {o and o["why"]}')
            diff += 1
            continue
        mine = {'exports': sorted(((e['name'], e['ordinal'], e['forwarder'])
                                   for e in o['exports']), key=repr),
                'dll': o['export_dll_name'],
                'imports': [(i['dll'], i['name'], i.get('ordinal')) for i in o['imports']],
                'imphash': o['imphash'], 'pdb': o['pdb_path'],
                'sections': [(s['name'], s['vaddr']) for s in o['sections']]}
        bad = [k for k in mine if mine[k] != t[k]]
        nexp += len(t['exports'])
        if bad:
            diff += 1
            for k in bad:
                print(f'DIFF {p} {k}: iisguard {str(mine[k])[:300]} pefile {str(t[k])[:300]}')
        else:
            same += 1
    print(f'{same} files agree with pefile, {diff} differ, {skipped} not PE to pefile; '
          f'{nexp} exports compared')
    return 1 if diff else 0


if __name__ == '__main__':
    sys.exit(main())
