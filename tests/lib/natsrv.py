"""Shared by the NATS tests: a nats-server with JetStream on a free loopback
port and a temporary store, and how alerts are told apart."""
import os, shutil, socket, subprocess, sys, tempfile


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def server_path():
    """nats-server's path, or None when it is not installed."""
    return shutil.which('nats-server')


def start(port, store):
    return subprocess.Popen([server_path(), '-js', '-a', '127.0.0.1', '-p', str(port), '-sd', store],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def identity(a):
    """What makes an alert itself: rule, group or host, and the event (first event)."""
    if 'correlation' in a:
        ev = a['correlation']['events']
        return ('corr', a['rule']['id'], a['correlation']['group'], ev[0]['record_id'] if ev else 0)
    return ('event', a['rule']['id'], a['host']['name'], a['winlog']['record_id'])


def pending(ctl, url, durable):
    """(pending, ack pending) of the EVENTS consumer `durable`; (-1, -1) if unknown."""
    out = subprocess.run([ctl, url, 'pending', durable], capture_output=True).stdout.split()
    return (int(out[0]), int(out[1])) if len(out) == 2 else (-1, -1)


def setup(argv):
    """The common start of a NATS test run as `test.py IISGUARD IGFIX NATSCTL`:
    exits 77 (skipped) without nats-server; else (exe, igfix, ctl, tmp, port,
    url) with a fresh temporary folder and a free port."""
    if server_path() is None:
        print('SKIP: nats-server is not installed (Debian nats-server)')
        sys.exit(77)
    exe, igfix, ctl = (os.path.abspath(a) for a in argv[1:4])
    port = free_port()
    return exe, igfix, ctl, tempfile.mkdtemp(), port, f'nats://127.0.0.1:{port}'


def events(exe, igfix, tmp, count):
    """(benign, demo): JSON lines of `count` benign events and of the demo
    attack (host WEB01), written by igfix as EVTX and dumped by iisguard."""
    out = []
    for name, args in (('b', ['--scenario', 'basic', '--count', str(count)]),
                       ('d', ['--scenario', 'demo'])):
        path = os.path.join(tmp, name + '.evtx')
        subprocess.run([igfix, 'evtx', path] + args, check=True, capture_output=True)
        out.append(subprocess.run([exe, 'dump', '-q', path],
                                  capture_output=True).stdout.decode().splitlines())
    return out[0], out[1]


def log_tail(tmp, name, lines=8):
    """The last lines an instance wrote to its log file in `tmp`."""
    try:
        return open(os.path.join(tmp, name)).read().splitlines()[-lines:]
    except OSError as e:
        return [str(e)]
