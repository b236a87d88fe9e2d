#!/usr/bin/env python3
"""Load the API with GET requests and print throughput and latency.

Starts its own trove-api (noauth, a temporary SQLite control database
migrated with trove-manage db_sync, one datastore registered), then sends a
bounded number of requests to GET /datastores and GET /instances at
concurrency 1 and 8 over keep-alive connections on loopback, and prints
requests/s, median and p99 latency and the API's resident memory.

    tools/bench/api.py [--requests 2000] [--port 18799]
"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from trove_clone.common import context
from trove_clone.conf import CONF
from trove_clone.db import api as db_api

BIN = os.path.dirname(sys.executable)
PROJECT = 'bench-project'
HEADERS = {'X-User-Id': 'bench', 'X-Project-Id': PROJECT,
           'X-Roles': 'member', 'Accept': 'application/json'}
CONF_TEMPLATE = """[DEFAULT]
auth_strategy = noauth
bind_host = 127.0.0.1
bind_port = {port}
http_get_rate = -1
log_file = {state}/api.log
[database]
connection = sqlite:///{state}/trove.sqlite
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)


def rss_mb(pid: int) -> float:
    with open('/proc/%d/status' % pid) as status:
        for line in status:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return 0.0


def wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(('127.0.0.1', port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit('trove-api did not start listening on %d' % port)


def worker(port: int, path: str, count: int, latencies: list) -> None:
    connection = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
    for _ in range(count):
        start = time.perf_counter()
        connection.request('GET', path, headers=HEADERS)
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise SystemExit('GET %s answered %d' % (path, response.status))
    connection.close()


def measure(port: int, path: str, total: int, concurrency: int) -> dict:
    latencies: list = []
    per_worker = total // concurrency
    threads = [threading.Thread(target=worker,
                                args=(port, path, per_worker, latencies))
               for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    return {'requests': len(latencies), 'rps': len(latencies) / elapsed,
            'median_ms': statistics.median(latencies) * 1000,
            'p99_ms': latencies[int(len(latencies) * 0.99) - 1] * 1000}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=2000)
    parser.add_argument('--port', type=int, default=0)
    args = parser.parse_args()
    port = args.port or free_port()
    state = tempfile.mkdtemp(prefix='trove-bench-api-')
    conf = os.path.join(state, 'trove.conf')
    with open(conf, 'w') as conf_file:
        conf_file.write(CONF_TEMPLATE.format(port=port, state=state))
    manage = [os.path.join(BIN, 'trove-manage'), '--config-file', conf]
    run(manage + ['db_sync'])
    seed_datastores(conf)
    api = subprocess.Popen([os.path.join(BIN, 'trove-api'),
                            '--config-file', conf],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        wait_for_port(port, time.monotonic() + 30)
        print('%-28s %5s %8s %9s %9s' % (
            'route', 'conc', 'req/s', 'median ms', 'p99 ms'))
        for path in ('/v1.0/%s/datastores' % PROJECT,
                     '/v1.0/%s/instances' % PROJECT):
            for concurrency in (1, 8):
                measure(port, path, 200, concurrency)  # warm-up
                result = measure(port, path, args.requests, concurrency)
                print('GET %-24s %5d %8.0f %9.2f %9.2f' % (
                    path.split('/', 3)[-1], concurrency, result['rps'],
                    result['median_ms'], result['p99_ms']))
        print('trove-api RSS: %.1f MB' % rss_mb(api.pid))
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        try:
            api.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(api.pid, signal.SIGKILL)
            api.wait()
        shutil.rmtree(state, ignore_errors=True)
    return 0


def seed_datastores(conf: str) -> None:
    """Three datastores with two versions each, written straight into the
    control database (this measures reads; no image service is needed)."""
    CONF(['--config-file', conf], project='trove', default_config_files=[])
    admin = context.admin_context()
    for name, versions in (('mysql', ('5.7.29', '8.0')),
                           ('postgresql', ('15', '16')),
                           ('redis', ('6.2', '7.0'))):
        ds = db_api.datastore_create_or_update(admin, name)
        for version in versions:
            db_api.datastore_version_create(admin, {
                'datastore_id': ds['id'], 'name': version,
                'version': version, 'manager': name,
                'image_tags': 'trove,%s' % name, 'active': True})
    db_api.dispose()


if __name__ == '__main__':
    sys.exit(main())
