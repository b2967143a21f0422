#!/usr/bin/env python3
"""`iisguard stream --nats` when NATS is not there: an instance started before
the server says so and waits (a stop request ends it, exit 0); once the server
is up it binds its consumer; the server is then stopped mid-stream and started
again on the same store while events keep coming.  Afterwards the alert stream
holds every alert `hunt` finds in the events exactly once, nothing is left
unacknowledged, and the instance logged the disconnection and the reconnection.
An event whose alert cannot be published (no stream takes the alerts' subject)
comes back about every second and is still unacknowledged after the stop.
A stream that does not exist is an error (exit 2) naming it.
usage: test_nats_restart.py IISGUARD IGFIX NATSCTL   (exit 77 without nats-server)"""
import json, os, shutil, signal, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from checks import check, finish  # noqa: E402
import natsrv  # noqa: E402
from natsrv import identity  # noqa: E402

exe, igfix, ctl, tmp, port, url = natsrv.setup(sys.argv)
store = os.path.join(tmp, 'store')
procs = []


def start_server():
    p = natsrv.start(port, store)
    procs.append(p)
    return p


def instance(log, stream='EVENTS', subject='winlog.>', durable='one', alerts='alerts.ig'):
    p = subprocess.Popen([exe, 'stream', '-q', '--late', '216000', '--nats', url, '--stream', stream,
                          '--subject', subject, '--durable', durable, '--alerts-subject',
                          alerts, '--dead-letter', 'iisguard.deadletter'],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, log), 'w'))
    procs.append(p)
    return p


def log(name):
    return open(os.path.join(tmp, name)).read()


def pending():
    return natsrv.pending(ctl, url, 'one')


def drained(limit):
    # every message delivered (the ones a correlation may still need stay
    # held, unacknowledged, until the instance stops)
    deadline = time.time() + limit
    while time.time() < deadline:
        if pending()[0] == 0:
            return True
        time.sleep(0.3)
    return False


try:
    # nobody there: the instance says so, waits, and stops on request
    early = instance('early.log')
    time.sleep(2.5)
    check(early.poll() is None, 'an instance without a server keeps waiting')
    early.send_signal(signal.SIGTERM)
    rc = early.wait(timeout=20)
    check(rc == 0 and 'not reachable' in log('early.log'), f'stopped while waiting: rc {rc}, '
                                                          f'{log("early.log")!r}')

    # events: benign traffic and the demo attack on two hosts, in two halves
    benign, demo = natsrv.events(exe, igfix, tmp, 20000)
    halves = [benign[:10000], benign[10000:]]
    for k, host in enumerate(['WEB-A', 'WEB-B']):
        for j, d in enumerate(demo):
            halves[k].insert(2000 + 100 * j, d.replace('"Computer":"WEB01"', f'"Computer":"{host}"'))
    files = []
    for k, h in enumerate(halves):
        files.append(os.path.join(tmp, f'half{k}.jsonl'))
        open(files[-1], 'w').write('\n'.join(h) + '\n')
    everything = os.path.join(tmp, 'all.jsonl')
    open(everything, 'w').write('\n'.join(halves[0] + halves[1]) + '\n')
    hunt = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', everything], capture_output=True)
    want = sorted(identity(json.loads(l)) for l in hunt.stdout.decode().splitlines())
    check(len(want) > 20, f'hunt finds the attacks: {len(want)} alerts')

    # the instance first, then the server
    inst = instance('inst.log')
    time.sleep(1.5)
    srv = start_server()
    for _ in range(100):
        if subprocess.run([ctl, url, 'setup'], capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    r = subprocess.run([ctl, url, 'publish', files[0], '1'], capture_output=True)
    check(r.returncode == 0, f'publish the first half: {r.stderr}')
    check(drained(120), f'first half consumed: pending {pending()}')

    # the server goes away and comes back on the same store
    srv.send_signal(signal.SIGTERM)
    srv.wait(timeout=30)
    time.sleep(3)
    check(inst.poll() is None, 'the instance survives the server stopping')
    srv = start_server()
    ok = False
    for _ in range(100):
        if subprocess.run([ctl, url, 'publish', files[1], '1'], capture_output=True).returncode == 0:
            ok = True
            break
        time.sleep(0.2)
    check(ok, 'publish the second half after the restart')
    check(drained(120), f'second half consumed: pending {pending()}; the instance said: '
                        f'{log("inst.log")!r}')
    time.sleep(1.5)  # an idle second: correlations evaluated and published
    inst.send_signal(signal.SIGTERM)
    rc = inst.wait(timeout=60)
    text = log('inst.log')
    check(rc in (0, 1), f'instance exit {rc}')
    check('not reachable' in text and 'disconnected' in text and 'reconnected' in text and
          'did not confirm' not in text, f'log lines: {text!r}')
    check(pending() == (0, 0), f'nothing left unacknowledged: {pending()}')
    got = subprocess.run([ctl, url, 'dump', 'ALERTS'], capture_output=True).stdout.decode().splitlines()
    ids = [identity(json.loads(l)) for l in got]
    check(sorted(ids) == want, f'alerts: {len(ids)} on the stream ({len(set(ids))} distinct), '
                                f'hunt {len(want)}; missing {sorted(set(want) - set(ids))[:5]}, '
                                f'unexpected {sorted(set(ids) - set(want))[:5]}')

    # alerts that cannot be published (no stream takes their subject): the
    # event comes back about every second (not after the 30 s ack wait) and
    # stays unacknowledged when the instance stops
    one = None
    for d in demo:
        line = d.replace('"Computer":"WEB01"', '"Computer":"NOPUB"')
        path = os.path.join(tmp, 'nopub.jsonl')
        open(path, 'w').write(line + '\n')
        h = subprocess.run([exe, 'hunt', '-q', '--format', 'jsonl', path], capture_output=True)
        if len(h.stdout.decode().splitlines()) == 1:
            one = path
            break
    check(one is not None, 'a demo event that raises one alert')
    if one is not None:
        nopub = instance('nopub.log', subject='winlog.0.NOPUB', durable='nopub', alerts='nowhere.ig')
        time.sleep(1.0)
        subprocess.run([ctl, url, 'publish', one, '1'], capture_output=True)
        time.sleep(7.0)
        nopub.send_signal(signal.SIGTERM)
        rc = nopub.wait(timeout=60)
        fails = log('nopub.log').count('publishing an alert to nowhere.ig failed')
        check(3 <= fails <= 12, f'the event came back every second: {fails} attempts in 7 s, '
                                f'rc {rc}, {log("nopub.log")[-400:]!r}')
        check(natsrv.pending(ctl, url, 'nopub') == (0, 1),
              f'left unacknowledged: {natsrv.pending(ctl, url, "nopub")}')

    # a stream that does not exist
    bad = instance('bad.log', stream='NO_SUCH_STREAM')
    try:
        rc = bad.wait(timeout=30)
    except subprocess.TimeoutExpired:
        bad.kill()
        rc = None
    check(rc == 2 and ('NO_SUCH_STREAM' in log('bad.log') or 'not found' in log('bad.log').lower()),
          f'missing stream: rc {rc}, {log("bad.log")!r}')
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp)
finish()
