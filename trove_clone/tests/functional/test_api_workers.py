"""trove-api with several worker processes on one socket: each serves,
a worker that dies is replaced, SIGTERM stops them all, and workers do
not outlive a parent killed with SIGKILL."""
import os
import signal
import time

import testtools

from trove_clone.tests.functional import fixtures as trove_fixtures

HOST = '127.0.0.1'


def children(pid: int) -> list[int]:
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % name) as stat:
                fields = stat.read().rsplit(') ', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != 'Z':
            found.append(int(name))
    return sorted(found)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %.0f s' % (what, timeout))
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(') ', 1)[1][:1] != 'Z'
    except OSError:
        return False


class ApiWorkersTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        database = self.useFixture(trove_fixtures.ControlDatabase('sqlite'))
        self.api = self.useFixture(trove_fixtures.TroveApi(
            database.url, workers=2, extra_conf='http_get_rate = -1'))
        self.parent = self.api.process.pid
        self.workers = wait_for(lambda: len(children(self.parent)) == 2 and
                                children(self.parent), 30, 'two workers')

    def get(self, count: int) -> None:
        for _ in range(count):
            took = trove_fixtures.timed_get(HOST, self.api.port,
                                            '/v1.0/p/instances', 'p')
            self.assertNotEqual(float('inf'), took, 'a request failed')

    def test_workers_serve_are_replaced_and_stop_together(self) -> None:
        self.assertNotIn(self.parent, self.workers)
        # Each serves on its own: the other one stopped (SIGSTOP), the
        # requests still come back.
        for serving in self.workers:
            others = [pid for pid in self.workers if pid != serving]
            for pid in others:
                os.kill(pid, signal.SIGSTOP)
            try:
                self.get(3)
            finally:
                for pid in others:
                    os.kill(pid, signal.SIGCONT)
        # A worker killed is replaced; requests go on meanwhile.
        os.kill(self.workers[0], signal.SIGKILL)
        self.get(5)
        replaced = wait_for(
            lambda: (len(children(self.parent)) == 2 and
                     self.workers[0] not in children(self.parent) and
                     children(self.parent)), 30, 'a new worker')
        self.get(5)
        # SIGTERM the parent: every worker stops, and the parent exits 0.
        os.kill(self.parent, signal.SIGTERM)
        self.assertEqual(0, self.api.process.wait(30))
        for pid in replaced:
            wait_for(lambda: not alive(pid), 10, 'worker %d gone' % pid)

    def test_workers_die_with_a_killed_parent(self) -> None:
        os.kill(self.parent, signal.SIGKILL)
        self.api.process.wait(10)
        for pid in self.workers:
            wait_for(lambda: not alive(pid), 15, 'worker %d gone' % pid)
