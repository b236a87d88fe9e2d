#!/usr/bin/env python3
"""How long an upgrade keeps the engine unreachable.

Starts a test deployment (Glance with real guest images, trove-api,
trove-taskmanager, trove-conductor on loopback; RabbitMQ at
127.0.0.1:5672), creates an instance of each old version through the real
python-troveclient, writes data, then upgrades it (PATCH
``datastore_version``) while a prober connects to the engine and runs a
query every 20 ms. It prints, per upgrade, the seconds from the PATCH to
ACTIVE, the longest stretch the engine did not answer, and whether the
data read back identical. Assertions belong to the tests; this prints.

    tools/bench/upgrade.py [--cases redis:6.2:7.0,postgresql:15:16,...]
"""
import argparse
import os
import sys
import threading
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), os.pardir, os.pardir))
sys.path.insert(0, ROOT)

import psycopg  # noqa: E402
import redis  # noqa: E402

from trove_clone.tests.functional import instances  # noqa: E402

DEFAULT_CASES = 'redis:6.2:6.2,redis:6.2:7.0,postgresql:15:15,' \
                'postgresql:15:16'


class Prober(threading.Thread):
    """Runs a query every 20 ms; the longest time between two answered
    queries, less the 20 ms pause, is how long the engine did not answer
    (a client that retries inside one query cannot hide the outage)."""

    def __init__(self, query) -> None:
        super().__init__(daemon=True)
        self.query = query
        self.stopping = threading.Event()
        self.longest = 0.0
        self._last_answer = time.monotonic()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.query()
            except Exception:  # noqa: B902 - unreachable is what we count
                pass
            else:
                now = time.monotonic()
                self.longest = max(self.longest,
                                   now - self._last_answer - 0.02)
                self._last_answer = now
            time.sleep(0.02)

    def stop(self) -> float:
        self.stopping.set()
        self.join(5)
        return max(self.longest, 0.0)


def wait(trove, instance_id: str, wanted: tuple, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        instance = trove.instances.get(instance_id)
        if instance.status in wanted:
            return instance
        time.sleep(0.05)
    raise RuntimeError('%s did not reach %s' % (instance_id, wanted))


def redis_case(address: str):
    def connect():
        return redis.Redis(host=address, username='bench',
                           password='bench-pw', socket_timeout=1,
                           socket_connect_timeout=1)

    def write():
        connect().mset({'k%d' % n: 'v%d' % n for n in range(1000)})

    def read():
        return connect().mget(['k%d' % n for n in range(1000)])

    return write, read, lambda: connect().ping()


def postgresql_case(address: str):
    def connect():
        return psycopg.connect(host=address, user='bench',
                               password='bench-pw', dbname='bench',
                               connect_timeout=1, autocommit=True)

    def write():
        with connect() as connection:
            connection.execute('CREATE TABLE t (n int)')
            connection.execute('INSERT INTO t SELECT generate_series(1, '
                               '1000)')

    def read():
        with connect() as connection:
            return connection.execute('SELECT sum(n) FROM t').fetchone()

    def probe():
        with connect() as connection:
            connection.execute('SELECT 1')

    return write, read, probe


def run_case(stack, datastore: str, old: str, new: str) -> dict:
    trove = stack.client()
    kwargs = {'users': [{'name': 'bench', 'password': 'bench-pw'}]}
    if datastore == 'postgresql':
        kwargs['databases'] = [{'name': 'bench'}]
        kwargs['users'][0]['databases'] = [{'name': 'bench'}]
    created = trove.instances.create('bench-%s' % datastore, '1',
                                     volume={'size': 1},
                                     datastore=datastore,
                                     datastore_version=old, **kwargs)
    try:
        instance = wait(trove, created.id, ('ACTIVE',))
        factory = redis_case if datastore == 'redis' else postgresql_case
        write, read, probe = factory(instance.ip[0])
        write()
        before = read()
        prober = Prober(probe)
        prober.start()
        started = time.monotonic()
        trove.instances.upgrade(created.id, new)
        time.sleep(0.5)
        result = wait(trove, created.id, ('ACTIVE', 'ERROR'))
        elapsed = time.monotonic() - started
        time.sleep(0.5)
        longest = prober.stop()
        same = result.status == 'ACTIVE' and read() == before
        return {'case': '%s %s -> %s' % (datastore, old, new),
                'status': result.status, 'seconds': elapsed,
                'unreachable': longest, 'data': 'identical' if same
                else 'DIFFERENT'}
    finally:
        stack.delete_and_wait(created.id)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--cases', default=DEFAULT_CASES,
                        help='datastore:old:new,... (default %(default)s)')
    parser.add_argument('--address-pool', default='127.77.233.0/28')
    args = parser.parse_args(argv)
    cases = [case.split(':') for case in args.cases.split(',')]
    stack = instances.Deployment(args.address_pool, datastores=())
    stack.setUp()
    try:
        registered = set()
        for datastore, old, new in cases:
            for version in (old, new):
                if (datastore, version) not in registered:
                    first = datastore not in {ds for ds, _v in registered}
                    stack.register(datastore, version, default=first)
                    registered.add((datastore, version))
        rows = [run_case(stack, *case) for case in cases]
    finally:
        stack.cleanUp()
    print('%-26s | %-6s | %14s | %14s | %s' % (
        'upgrade', 'status', 'PATCH→ACTIVE s', 'unreachable s', 'data'))
    for row in rows:
        print('%-26s | %-6s | %14.2f | %14.2f | %s' % (
            row['case'], row['status'], row['seconds'], row['unreachable'],
            row['data']))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
