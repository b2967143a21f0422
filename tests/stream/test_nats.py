#!/usr/bin/env python3
"""`iisguard stream --nats` against a real nats-server (JetStream) started
here on 127.0.0.1 with a temporary store: 200,000 events from many hosts (a
benign stream with the demo attack replayed on three hosts, correlations
included) and malformed messages, partitioned by host over two instances;
one instance is killed with SIGKILL mid-stream and restarted.  Afterwards
every alert `hunt` finds in the same events is on the alert stream exactly
once, nothing else is, the dead-letter stream holds exactly the malformed
messages, and no message is left unacknowledged.
usage: test_nats.py IISGUARD IGFIX NATSCTL   (exit 77 without nats-server)"""
import json, os, shutil, signal, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from checks import check, finish  # noqa: E402
import natsrv  # noqa: E402
from natsrv import identity  # noqa: E402

exe, igfix, ctl, tmp, port, url = natsrv.setup(sys.argv)
srv = natsrv.start(port, os.path.join(tmp, 'store'))
procs = []
try:
    for _ in range(100):
        if subprocess.run([ctl, url, 'setup'], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise SystemExit('nats-server did not start')
    # the events: benign traffic, the demo attack on three hosts, malformed lines
    ev = os.path.join(tmp, 'events.jsonl')
    benign, demo = natsrv.events(exe, igfix, tmp, 200000)
    bad = ['this is not an event', '{"Event": {"System": ', '[1, 2, 3]', '"a string"', '{}x']
    lines = list(benign)
    for k, host in enumerate(['WEB-A', 'WEB-B', 'WEB-C']):
        for j, d in enumerate(demo):
            lines.insert(50000 * (k + 1) + 300 * j, d.replace('"Computer":"WEB01"', f'"Computer":"{host}"'))
    for k, b in enumerate(bad):
        lines.insert(1000 + 40000 * k, b)
    open(ev, 'w').write('\n'.join(lines) + '\n')
    hunt = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', ev], capture_output=True)
    want = sorted(identity(json.loads(l)) for l in hunt.stdout.decode().splitlines())
    check(len(want) > 60 and sum(1 for w in want if w[0] == 'corr') >= 9,
          f'hunt finds the attacks: {len(want)} alerts')
    r = subprocess.run([ctl, url, 'publish', ev, '2'], capture_output=True)
    check(r.returncode == 0, f'publish: {r.stderr}')

    # The events span 36 hours of event time but are consumed in seconds, so
    # messages redelivered 30 s after the crash arrive when the newest event
    # is more than a day later: --late 2.5 days keeps them within the
    # correlation horizon, as the default 300 s does for a live stream whose
    # event time follows the clock.
    def start(k):
        return subprocess.Popen([exe, 'stream', '-q', '--late', '216000', '--nats', url,
                                 '--stream', 'EVENTS',
                                 '--subject', f'winlog.{k}.>', '--durable', f'ig{k}',
                                 '--alerts-subject', 'alerts.ig', '--dead-letter',
                                 'iisguard.deadletter'], stdout=subprocess.DEVNULL,
                                stderr=open(os.path.join(tmp, f'ig{k}.log'), 'a'))
    procs = [start(0), start(1)]
    time.sleep(1.0)
    procs[0].send_signal(signal.SIGKILL)  # mid-stream
    procs[0].wait()
    procs[0] = start(0)

    def pending(k):
        return natsrv.pending(ctl, url, f'ig{k}')

    deadline = time.time() + 240
    while time.time() < deadline and any(pending(k)[0] != 0 for k in (0, 1)):
        time.sleep(0.5)
    # what the killed instance had fetched comes back after the 30 s ack wait
    time.sleep(36)
    while time.time() < deadline and any(pending(k)[0] != 0 for k in (0, 1)):
        time.sleep(0.5)
    for p in procs:
        p.send_signal(signal.SIGTERM)
    rcs = [p.wait(timeout=60) for p in procs]
    check(all(rc in (0, 1) for rc in rcs), f'instances exit: {rcs}')
    logs = [open(os.path.join(tmp, f'ig{k}.log')).read() for k in (0, 1)]
    tails = [natsrv.log_tail(tmp, f'ig{k}.log') for k in (0, 1)]
    check(not any('did not confirm' in t for t in logs),
          f'the server confirmed the acknowledgements: {tails}')
    left = [pending(k) for k in (0, 1)]
    check(all(p == (0, 0) for p in left), f'nothing left unacknowledged: {left}; the instances said: {tails}')
    got = subprocess.run([ctl, url, 'dump', 'ALERTS'], capture_output=True).stdout.decode().splitlines()
    ids = [identity(json.loads(l)) for l in got]
    check(sorted(ids) == want, f'alerts: {len(ids)} on the stream ({len(set(ids))} distinct), '
                                f'hunt {len(want)}; missing {sorted(set(want) - set(ids))[:5]}, '
                                f'unexpected {sorted(set(ids) - set(want))[:5]}')
    dead = subprocess.run([ctl, url, 'dump', 'DEAD'], capture_output=True).stdout.decode().splitlines()
    check(sorted(dead) == sorted(bad), f'dead letters: {dead}')
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
    srv.terminate()
    srv.wait(timeout=10)
    shutil.rmtree(tmp)
finish()
