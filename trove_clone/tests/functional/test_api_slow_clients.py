"""The real trove-api beside slow clients: 200 connections that send
nothing, 20 that stop halfway through a request line and 20 that trickle
a byte a second must not keep a normal request from being served within
a second; the server closes them after its timeouts, and SIGTERM stops
it while they are connected."""
import os
import signal
import statistics
import time

import testtools

from trove_clone.tests.functional import fixtures as trove_fixtures

HOST = '127.0.0.1'
PROJECT = 'slow-project'
#: Requests timed per route; their median is compared with the bound.
SAMPLES = 5
#: The bound of the issue; a median on a loaded 2-core machine is far
#: below it (a few milliseconds), an API frozen by the slow clients never
#: answers at all.
BOUND = 1.0


class SlowClientsTest(testtools.TestCase):

    def start_api(self, extra_conf: str = '') -> trove_fixtures.TroveApi:
        database = self.useFixture(trove_fixtures.ControlDatabase('sqlite'))
        return self.useFixture(trove_fixtures.TroveApi(
            database.url, extra_conf=extra_conf + '\nhttp_get_rate = -1'))

    def median_time(self, api, path: str) -> float:
        times = [trove_fixtures.timed_get(HOST, api.port, path, PROJECT)
                 for _ in range(SAMPLES)]
        self.assertNotIn(float('inf'), times, '%s not served: %s'
                         % (path, times))
        return statistics.median(times)

    def test_requests_are_served_beside_slow_clients(self) -> None:
        api = self.start_api()
        slow = self.useFixture(trove_fixtures.SlowClients(HOST, api.port))
        # Time for the server to take every connection and for the
        # trickling ones to start their requests.
        time.sleep(2.0)
        for path in ('/', '/v1.0/%s/flavors' % PROJECT,
                     '/v1.0/%s/instances' % PROJECT):
            self.assertLess(self.median_time(api, path), BOUND, path)
        # The slow clients were all still connected while we measured.
        self.assertEqual(len(slow.sockets), slow.still_open())

    def test_slow_clients_are_disconnected_after_the_timeouts(self) -> None:
        api = self.start_api('client_socket_timeout = 2\n'
                             'client_request_timeout = 3')
        slow = self.useFixture(trove_fixtures.SlowClients(
            HOST, api.port, idle=20, stalled=5, trickle=5))
        deadline = time.monotonic() + 30
        while slow.still_open() and time.monotonic() < deadline:
            time.sleep(0.5)
        self.assertEqual(0, slow.still_open())
        self.assertLess(self.median_time(api, '/'), BOUND)

    def test_sigterm_stops_the_api_beside_slow_clients(self) -> None:
        api = self.start_api()
        self.useFixture(trove_fixtures.SlowClients(HOST, api.port))
        time.sleep(1.0)
        start = time.monotonic()
        os.killpg(api.process.pid, signal.SIGTERM)
        code = api.process.wait(30)
        self.assertEqual(0, code)
        self.assertLess(time.monotonic() - start, 10)
