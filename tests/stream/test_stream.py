#!/usr/bin/env python3
"""`iisguard stream --stdin`: the same alerts as `hunt` over the same events,
whether they arrive at once, slowly (with pauses that let correlations be
evaluated mid-stream), or in large numbers (matches pruned as time moves);
SIGTERM drains and exits; a bad line is reported and the rest still read.
usage: test_stream.py IISGUARD IGFIX"""
import json, os, signal, subprocess, sys, tempfile, time

exe, igfix = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from checks import check, finish  # noqa: E402


def norm(lines):
    out = []
    for l in lines:
        a = json.loads(l)
        a.pop('@timestamp', None)
        a.get('log', {}).get('file', {}).pop('path', None)
        a.get('log', {}).pop('offset', None)  # (line numbers differ when lines are added)
        for e in a.get('correlation', {}).get('events', []):
            e.pop('file', None)
            e.pop('offset', None)
        out.append(json.dumps(a, sort_keys=True))
    return sorted(out)


tmp = tempfile.mkdtemp()
evtx, jl = os.path.join(tmp, 'd.evtx'), os.path.join(tmp, 'd.jsonl')
subprocess.run([igfix, 'evtx', evtx, '--scenario', 'demo'], check=True, capture_output=True)
subprocess.run([exe, 'dump', '-q', evtx, '-o', jl], check=True, capture_output=True)
events = open(jl).read().splitlines()
hunt = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', jl], capture_output=True)
want = norm(hunt.stdout.decode().splitlines())
check(len(want) > 20 and any('correlation' in w for w in want), f'hunt alerts: {len(want)}')

# all at once
r = subprocess.run([exe, 'stream', '--stdin', '-q'], input=open(jl, 'rb').read(), capture_output=True)
check(r.returncode == 1 and norm(r.stdout.decode().splitlines()) == want,
      f'at once: rc {r.returncode}, {len(r.stdout.splitlines())} alerts')

# slowly, with a pause longer than the idle evaluation interval
p = subprocess.Popen([exe, 'stream', '--stdin', '-q'], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
for i, line in enumerate(events):
    p.stdin.write(line.encode() + b'\n')
    p.stdin.flush()
    if i == len(events) // 2:
        time.sleep(1.6)
    else:
        time.sleep(0.005)
p.stdin.close()
out = p.stdout.read().decode().splitlines()
p.wait(timeout=30)
check(norm(out) == want, f'slowly: {len(out)} alerts, want {len(want)}')

# many events: the demo's attack after 50,000 benign events spread over 36 hours, so
# matches are pruned as the watermark moves; the alerts stay hunt's
big_evtx, big = os.path.join(tmp, 'big.evtx'), os.path.join(tmp, 'big.jsonl')
subprocess.run([igfix, 'evtx', big_evtx, '--scenario', 'basic', '--count', '50000'], check=True,
               capture_output=True)
subprocess.run([exe, 'dump', '-q', big_evtx, '-o', big], check=True, capture_output=True)
with open(big, 'a') as f:
    f.write(open(jl).read())
hunt = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', big], capture_output=True)
r = subprocess.run([exe, 'stream', '--stdin', '-q'], input=open(big, 'rb').read(), capture_output=True)
check(norm(r.stdout.decode().splitlines()) == norm(hunt.stdout.decode().splitlines()),
      f'many events: {len(r.stdout.splitlines())} alerts, hunt {len(hunt.stdout.splitlines())}')

# SIGTERM drains: what was read is finished, the output flushed, exit
p = subprocess.Popen([exe, 'stream', '--stdin'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE)
for line in events:
    p.stdin.write(line.encode() + b'\n')
p.stdin.flush()
time.sleep(1.5)
p.send_signal(signal.SIGTERM)
try:
    rc = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = None
out, err = p.stdout.read().decode().splitlines(), p.stderr.read().decode()
check(rc == 1 and norm(out) == want and 'stopped by a signal' in err,
      f'SIGTERM: rc {rc}, {len(out)} alerts, {err[-200:]}')

# a bad line is reported with its line number; the rest is read
data = '\n'.join(events[:10] + ['{"not": "closed"', 'garbage'] + events[10:]) + '\n'
r = subprocess.run([exe, 'stream', '--stdin'], input=data.encode(), capture_output=True)
check(r.returncode == 2 and b'<stdin>:11:' in r.stderr and b'<stdin>:12:' in r.stderr and
      norm(r.stdout.decode().splitlines()) == want, f'bad lines: rc {r.returncode} {r.stderr[-300:]}')
# --follow: a JSON-lines file still being written, the reader SIGKILLed and
# restarted twice; the output holds hunt's alerts over the finished file, once
live, state, outp = (os.path.join(tmp, n) for n in ('live.jsonl', 'state', 'out.jsonl'))
open(live, 'w').write('\n'.join(events[:12]) + '\n')


def follow(*files):
    return subprocess.Popen([exe, 'stream', '-q', '--follow', *files, '--state', state,
                             '--output', outp, '--poll', '50'], stderr=subprocess.PIPE)


p = follow(live)
for part in (events[12:25], events[25:33] + ['{"Event": {"Sys'], None, events[33:]):
    time.sleep(0.6)
    if part is None:  # kill mid-stream, restart
        p.send_signal(signal.SIGKILL)
        p.wait()
        p = follow(live)
        continue
    with open(live, 'a') as f:
        f.write('\n'.join(part) + '\n' if not part[-1].endswith('Sys') else
                '\n'.join(part[:-1]) + '\n' + part[-1])  # the last line unfinished
    if part[-1].endswith('Sys'):
        time.sleep(0.3)
        with open(live, 'r+') as f:  # the writer finishes that line: drop it again
            data = f.read()
            f.seek(0)
            f.truncate()
            f.write(data[:data.rindex('{"Event": {"Sys')])
time.sleep(0.8)
p.send_signal(signal.SIGKILL)
p.wait()
p = follow(live)
time.sleep(0.8)
p.send_signal(signal.SIGTERM)
rc = p.wait(timeout=10)
hunt_live = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', live], capture_output=True)
got = open(outp).read().splitlines()
check(rc in (0, 1) and norm(got) == norm(hunt_live.stdout.decode().splitlines()),
      f'--follow across SIGKILL: {len(got)} alerts, hunt {len(hunt_live.stdout.splitlines())}')
# an .evtx followed too; a restart with nothing new adds nothing
os.remove(state)
os.remove(outp)
p = follow(evtx)
time.sleep(1.0)
p.send_signal(signal.SIGTERM)
p.wait(timeout=10)
first = open(outp).read()
p = follow(evtx)
time.sleep(0.8)
p.send_signal(signal.SIGTERM)
p.wait(timeout=10)
hunt_evtx = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', evtx], capture_output=True)
check(norm(first.splitlines()) == norm(hunt_evtx.stdout.decode().splitlines()) and
      open(outp).read() == first, f'--follow .evtx: {len(first.splitlines())} alerts')
finish()
