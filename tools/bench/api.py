#!/usr/bin/env python3
"""Load the API with GET requests and print throughput and latency,
alone or side by side with another Trove-compatible API.

Starts its own trove-api (noauth, a temporary SQLite control database
migrated with trove-manage db_sync and seeded by bench_seed: datastores,
120 parameters of one version, 100 instances and 100 configuration
groups in one project, none in another), then sends a bounded number of
requests per route at concurrency 1 and 8 over keep-alive connections
on loopback and prints requests/s, median and p99 latency, and the
resident memory of each worker.

With ``--peer URL`` the same requests go to the peer too, in adjacent
runs (ours, then the peer's, for each route and concurrency), and the
table shows both figures and the ratio (ours / peer). The peer must
hold the same rows (tools/bench/trove-peer seeds the original
trove-api so); ``--peer-header`` gives its identity headers, where
``{project}`` stands for the route's project, and ``--peer-instance``
the id of the instance shown.

With ``--scaling`` it measures the parameters route at concurrency 8
with 1 worker, then with 2, and prints the ratio.

    tools/bench/api.py [--requests 2000] [--workers N] [--scaling]
        [--peer http://127.77.184.2:8779 --peer-instance ID
         --peer-header 'X-Auth-Token: bench'
         --peer-header 'X-Tenant-Id: {project}' ...] [--peer-pid PID]

Wall-clock figures depend on everything else the machine runs: compare
only adjacent runs, and use request_cost.py for load-independent counts.
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
import urllib.parse

import bench_seed
from trove_clone.conf import CONF
from trove_clone.db import api as db_api

BIN = os.path.dirname(sys.executable)
#: Loopback address of the API under test (in the bench's own pool).
HOST = '127.77.184.1'
CONF_TEMPLATE = """[DEFAULT]
auth_strategy = noauth
bind_host = {host}
bind_port = {port}
http_get_rate = -1
instances_page_size = {rows}
configurations_page_size = {rows}
log_file = {state}/api.log
{workers}
[database]
connection = sqlite:///{state}/trove.sqlite
"""


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    try:
        with open('/proc/%d/status' % pid) as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def workers_of(pid: int) -> list[int]:
    """The child processes of ``pid`` (its workers), or ``pid`` itself
    when it serves alone."""
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as children:
            found = [int(child) for child in children.read().split()]
    except OSError:
        found = []
    return found or [pid]


def wait_for_port(host: str, port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit('trove-api did not start listening on %d' % port)


class Target:
    """An API to load: base URL and the identity headers per project."""

    def __init__(self, url: str, headers, instance_id: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        self.host = parsed.hostname
        self.port = parsed.port or 80
        self.prefix = parsed.path.rstrip('/')
        self.headers = headers
        self.instance_id = instance_id

    def headers_for(self, project: str) -> dict:
        return {name: value.replace('{project}', project)
                for name, value in self.headers.items()}


def worker(target: Target, path: str, headers: dict, count: int,
           latencies: list, failures: list) -> None:
    connection = http.client.HTTPConnection(target.host, target.port,
                                            timeout=60)
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request('GET', target.prefix + path, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - start)
            if response.status != 200:
                failures.append('GET %s answered %d' % (path,
                                                        response.status))
                return
    finally:
        connection.close()


def measure(target: Target, path: str, project: str, total: int,
            concurrency: int) -> dict:
    latencies: list = []
    failures: list = []
    headers = target.headers_for(project)
    per_worker = max(1, total // concurrency)
    threads = [threading.Thread(target=worker, args=(
        target, path, headers, per_worker, latencies, failures))
        for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if failures:
        return {'error': failures[0]}
    latencies.sort()
    return {'rps': len(latencies) / elapsed,
            'median_ms': statistics.median(latencies) * 1000,
            'p99_ms': latencies[max(0, int(len(latencies) * 0.99) - 1)]
            * 1000}


class OwnApi:
    """A trove-api of this checkout on a seeded temporary database."""

    def __init__(self, workers: int | None) -> None:
        self.state = tempfile.mkdtemp(prefix='trove-bench-api-')
        self.port = free_port(HOST)
        self.conf = os.path.join(self.state, 'trove.conf')
        self.write_conf(workers)
        subprocess.run([os.path.join(BIN, 'trove-manage'), '--config-file',
                        self.conf, 'db_sync'], check=True,
                       stdout=subprocess.DEVNULL)
        CONF(['--config-file', self.conf], project='trove',
             default_config_files=[])
        self.ids = bench_seed.seed()
        db_api.dispose()
        self.process: subprocess.Popen | None = None

    def write_conf(self, workers: int | None) -> None:
        """The configuration, with ``workers`` (None: the default)."""
        with open(self.conf, 'w') as conf_file:
            conf_file.write(CONF_TEMPLATE.format(
                host=HOST, port=self.port, state=self.state,
                rows=bench_seed.INSTANCES,
                workers='trove_api_workers = %d' % workers if workers
                else ''))

    def start(self) -> 'OwnApi':
        self.process = subprocess.Popen(
            [os.path.join(BIN, 'trove-api'), '--config-file', self.conf],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        wait_for_port(HOST, self.port, time.monotonic() + 60)
        return self

    def target(self) -> Target:
        return Target('http://%s:%d' % (HOST, self.port),
                      bench_seed.headers('{project}'),
                      self.ids['instance_id'])

    def stop(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.state, ignore_errors=True)


def route_paths(target: Target) -> list[tuple[str, str, str]]:
    return bench_seed.routes({'instance_id': target.instance_id})


def compare(ours: Target, peer: Target | None, requests: int,
            concurrencies: list[int], names: list[str] | None) -> None:
    if peer is None:
        print('%-15s %4s %8s %9s %9s' % ('route', 'conc', 'req/s',
                                         'median ms', 'p99 ms'))
    else:
        print('%-15s %4s %8s %8s %6s %8s %8s' % (
            'route', 'conc', 'ours r/s', 'peer r/s', 'ratio', 'ours p99',
            'peer p99'))
    peer_routes = route_paths(peer) if peer is not None else None
    for index, (name, path, project) in enumerate(route_paths(ours)):
        if names and name not in names:
            continue
        for concurrency in concurrencies:
            measure(ours, path, project, min(200, requests), concurrency)
            mine = measure(ours, path, project, requests, concurrency)
            if 'error' in mine:
                raise SystemExit(mine['error'])
            if peer is None:
                print('%-15s %4d %8.0f %9.2f %9.2f' % (
                    name, concurrency, mine['rps'], mine['median_ms'],
                    mine['p99_ms']))
                continue
            _name, peer_path, peer_project = peer_routes[index]
            measure(peer, peer_path, peer_project, min(200, requests),
                    concurrency)
            theirs = measure(peer, peer_path, peer_project, requests,
                             concurrency)
            if 'error' in theirs:
                print('%-15s %4d %8.0f %8s %6s %8.1f  peer: %s' % (
                    name, concurrency, mine['rps'], 'n/a', '', mine[
                        'p99_ms'], theirs['error']), flush=True)
                continue
            print('%-15s %4d %8.0f %8.0f %6.2f %8.1f %8.1f' % (
                name, concurrency, mine['rps'], theirs['rps'],
                mine['rps'] / theirs['rps'], mine['p99_ms'],
                theirs['p99_ms']), flush=True)


def scaling(requests: int) -> None:
    """The parameters route at concurrency 8: 1 worker, then 2."""
    figures = {}
    api = OwnApi(1)
    try:
        for workers in (1, 2):
            api.write_conf(workers)
            target = api.start().target()
            name, path, project = [route for route in route_paths(target)
                                   if route[0] == 'parameters'][0]
            measure(target, path, project, min(200, requests), 8)
            figures[workers] = measure(target, path, project, requests, 8)
            api.stop()
            print('parameters c=8, %d worker(s): %.0f req/s, p99 %.1f ms' % (
                workers, figures[workers]['rps'],
                figures[workers]['p99_ms']), flush=True)
    finally:
        api.cleanup()
    print('scaling 2 workers / 1 worker: %.2fx'
          % (figures[2]['rps'] / figures[1]['rps']))


def print_rss(label: str, pid: int) -> None:
    workers = workers_of(pid)
    print('%s RSS per worker (MB): %s' % (label, ', '.join(
        '%.1f' % rss_mb(worker_pid) for worker_pid in workers)))


def parse_header(text: str) -> tuple[str, str]:
    name, _, value = text.partition(':')
    if not value:
        raise argparse.ArgumentTypeError('a header is "Name: value"')
    return name.strip(), value.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=2000)
    parser.add_argument('--concurrency', default='1,8',
                        help='comma-separated concurrencies (1,8)')
    parser.add_argument('--routes', type=lambda text: text.split(','),
                        help='comma-separated route names (default: all)')
    parser.add_argument('--workers', type=int, default=None,
                        help='trove_api_workers (default: the CPU count)')
    parser.add_argument('--scaling', action='store_true',
                        help='parameters route at c=8, 1 vs 2 workers')
    parser.add_argument('--peer', help='base URL of another Trove API')
    parser.add_argument('--peer-header', type=parse_header, action='append',
                        default=[], help='"Name: value"; {project} is '
                        'replaced by the route\'s project')
    parser.add_argument('--peer-instance', default='',
                        help='id of the peer\'s instance to show')
    parser.add_argument('--peer-pid', type=int,
                        help='pid of the peer (for its workers\' RSS)')
    args = parser.parse_args()
    if args.scaling:
        scaling(args.requests)
        return 0
    concurrencies = [int(value) for value in args.concurrency.split(',')]
    peer = None
    if args.peer:
        peer = Target(args.peer, dict(args.peer_header), args.peer_instance)
    api = OwnApi(args.workers)
    try:
        api.start()
        compare(api.target(), peer, args.requests, concurrencies,
                args.routes)
        print_rss('trove-api (this)', api.process.pid)
        if args.peer_pid:
            print_rss('peer', args.peer_pid)
    finally:
        api.cleanup()
    return 0


if __name__ == '__main__':
    sys.exit(main())
