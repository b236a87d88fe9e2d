"""trove-api's server: waitress with the configured bounds, a connection
limit that fits the open-file limit, and slow requests disconnected."""
import resource
import threading
import time
import types

import fixtures

from trove_clone.cmd import api as api_cmd
from trove_clone.conf import CONF
from trove_clone.tests.unit import base


class ApiServerTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(bind_host='127.0.0.1', bind_port=0,
                         trove_api_threads=3, api_connection_limit=50,
                         client_socket_timeout=7, client_request_timeout=4,
                         backlog=16)

    def server(self) -> api_cmd.Server:
        server = api_cmd.make_server(CONF)
        self.addCleanup(server.close)
        self.addCleanup(server.task_dispatcher.shutdown, True, 1)
        return server

    def test_the_configured_bounds(self) -> None:
        adj = self.server().adj
        self.assertEqual((3, 50, 7, 16, 2), (
            adj.threads, adj.connection_limit, adj.channel_timeout,
            adj.backlog, adj.cleanup_interval))
        self.assertEqual(CONF.max_header_line * 8,
                         adj.max_request_header_size)
        self.assertGreater(adj.max_request_body_size,
                           CONF.max_request_body_size)
        self.assertTrue(adj.asyncore_use_poll)
        self.assertEqual('trove-api', adj.ident)

    def test_the_connection_limit_fits_the_open_file_limit(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            'resource.getrlimit', lambda which: (256, 4096)))
        self.assertEqual(256 - api_cmd.SPARE_FDS,
                         api_cmd.connection_limit(1000))
        self.assertEqual(100, api_cmd.connection_limit(100))
        self.useFixture(fixtures.MonkeyPatch(
            'resource.getrlimit',
            lambda which: (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
        self.assertEqual(1000, api_cmd.connection_limit(1000))

    def test_a_request_that_never_completes_is_disconnected(self) -> None:
        server = self.server()
        started = time.monotonic()
        slow = types.SimpleNamespace(
            request=types.SimpleNamespace(started=started - 10),
            requests=[], will_close=False, addr=('127.0.0.1', 1),
            last_activity=time.time())
        recent = types.SimpleNamespace(
            request=types.SimpleNamespace(started=started), requests=[],
            will_close=False, addr=('127.0.0.1', 2),
            last_activity=time.time())
        served = types.SimpleNamespace(
            request=types.SimpleNamespace(started=started - 10),
            requests=['being served'], will_close=False,
            addr=('127.0.0.1', 3), last_activity=time.time())
        server.active_channels = {1: slow, 2: recent, 3: served}
        server.maintenance(time.time())
        self.assertEqual((True, False, False), (
            slow.will_close, recent.will_close, served.will_close))

    def test_serve_returns_when_asked_to_stop(self) -> None:
        server = self.server()
        stopping = threading.Event()
        thread = threading.Thread(target=api_cmd.serve,
                                  args=(server, stopping))
        thread.start()
        stopping.set()
        thread.join(api_cmd.LOOP_TIMEOUT + api_cmd.STOP_GRACE + 5)
        self.assertFalse(thread.is_alive())
        self.assertFalse(server.accepting)
