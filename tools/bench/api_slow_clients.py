#!/usr/bin/env python3
"""Time normal requests to trove-api while slow clients hold connections.

Starts its own trove-api (noauth, a temporary SQLite control database
migrated with trove-manage db_sync), opens ``--idle`` connections that
send nothing, ``--stalled`` that send half a request line and then
nothing, and ``--trickle`` that send one byte of a request per second,
then times GET / and GET /v1.0/<project>/flavors on fresh connections
and prints the median and worst latency of each, and how many slow
connections the server still held open at the end.

    tools/bench/api_slow_clients.py [--idle 200] [--stalled 20] \
        [--trickle 20] [--requests 5] [--host 127.0.0.1]
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from trove_clone.tests.functional import fixtures as trove_fixtures

BIN = os.path.dirname(sys.executable)
PROJECT = 'bench-project'
CONF_TEMPLATE = """[DEFAULT]
auth_strategy = noauth
bind_host = {host}
bind_port = {port}
log_file = {state}/api.log
[database]
connection = sqlite:///{state}/trove.sqlite
"""


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host: str, port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit('trove-api did not start listening on %s:%d'
                     % (host, port))


def measure(host: str, port: int, requests: int, timeout: float) -> dict:
    """Median and worst seconds of GET / and GET flavors."""
    figures = {}
    for label, path in (('GET /', '/'),
                        ('GET flavors', '/v1.0/%s/flavors' % PROJECT)):
        times = [trove_fixtures.timed_get(host, port, path, PROJECT,
                                          timeout)
                 for _ in range(requests)]
        figures[label] = (statistics.median(times), max(times))
    return figures


def start_api(host: str, port: int, state: str) -> subprocess.Popen:
    conf = os.path.join(state, 'trove.conf')
    with open(conf, 'w') as conf_file:
        conf_file.write(CONF_TEMPLATE.format(host=host, port=port,
                                             state=state))
    subprocess.run([os.path.join(BIN, 'trove-manage'), '--config-file',
                    conf, 'db_sync'], check=True, stdout=subprocess.DEVNULL)
    api = subprocess.Popen([os.path.join(BIN, 'trove-api'),
                            '--config-file', conf],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           start_new_session=True)
    wait_for_port(host, port, time.monotonic() + 30)
    return api


def stop_api(api: subprocess.Popen) -> float:
    """SIGTERM trove-api; returns the seconds it took to exit."""
    start = time.monotonic()
    os.killpg(api.pid, signal.SIGTERM)
    try:
        api.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(api.pid, signal.SIGKILL)
        api.wait()
        return float('inf')
    return time.monotonic() - start


def show(label: str, figures: dict) -> None:
    for name, (median, worst) in figures.items():
        print('%-34s %-12s %9.3f %9.3f' % (label, name, median, worst))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--idle', type=int, default=200)
    parser.add_argument('--stalled', type=int, default=20)
    parser.add_argument('--trickle', type=int, default=20)
    parser.add_argument('--requests', type=int, default=5)
    parser.add_argument('--timeout', type=float, default=10.0,
                        help='Seconds after which a request counts as not '
                             'served (printed as inf).')
    parser.add_argument('--host', default='127.0.0.1')
    args = parser.parse_args()
    port = free_port(args.host)
    state = tempfile.mkdtemp(prefix='trove-bench-slow-')
    api = start_api(args.host, port, state)
    slow = None
    try:
        print('%-34s %-12s %9s %9s' % ('while', 'request', 'median s',
                                       'max s'))
        show('no slow clients', measure(args.host, port, args.requests,
                                        args.timeout))
        slow = trove_fixtures.SlowClients(args.host, port, args.idle,
                                          args.stalled, args.trickle)
        slow.setUp()
        time.sleep(2.0)
        show('%d idle, %d stalled, %d trickling' % (
            args.idle, args.stalled, args.trickle),
            measure(args.host, port, args.requests, args.timeout))
        print('slow connections still open: %d of %d'
              % (slow.still_open(), len(slow.sockets)))
        print('SIGTERM to exit (slow clients connected): %.2f s'
              % stop_api(api))
    finally:
        if slow is not None:
            slow.cleanUp()
        if api.poll() is None:
            stop_api(api)
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
