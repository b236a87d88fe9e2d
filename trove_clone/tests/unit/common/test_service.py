"""common.service.serve: an RPC service stops on SIGTERM even when its
broker never answers."""
import os
import signal
import threading
from unittest import mock

from trove_clone.common import service
from trove_clone.tests.unit import base


class BlockedServer:
    """An RPC server whose broker never answers: start, stop and wait
    block until released."""

    def __init__(self) -> None:
        self.released = threading.Event()
        self.started = threading.Event()

    def start(self) -> None:
        self.started.set()
        self.released.wait(30)

    def stop(self) -> None:
        self.released.wait(30)

    def wait(self) -> None:
        self.released.wait(30)


class ReadyServer(BlockedServer):
    def start(self) -> None:
        self.started.set()

    def stop(self) -> None:
        pass

    def wait(self) -> None:
        pass


class ServeTest(base.TestCase):

    def serve_until_sigterm(self, server, sigterm=True, **kwargs):
        """serve() with ``server``, sent SIGTERM once it is starting;
        returns (its result, the code given to os._exit or None)."""
        self.conf.config(graceful_shutdown_timeout=1)
        exits = []

        class Exited(Exception):
            pass

        def fake_exit(code):
            exits.append(code)
            raise Exited()

        def terminate():
            server.started.wait(10)
            os.kill(os.getpid(), signal.SIGTERM)

        previous = signal.getsignal(signal.SIGTERM)
        self.addCleanup(signal.signal, signal.SIGTERM, previous)
        self.addCleanup(signal.signal, signal.SIGINT,
                        signal.getsignal(signal.SIGINT))
        self.addCleanup(server.released.set)
        if sigterm:
            threading.Thread(target=terminate, daemon=True).start()
        with mock.patch.object(service.rpc, 'get_server',
                               return_value=server), \
                mock.patch.object(service.rpc, 'cleanup'), \
                mock.patch.object(service.os, '_exit', fake_exit):
            try:
                return service.serve('trove-test', 'topic', [],
                                     **kwargs), None
            except Exited:
                return None, exits[0]

    def test_sigterm_stops_a_service_whose_broker_never_answers(self):
        result, exit_code = self.serve_until_sigterm(BlockedServer())
        self.assertIsNone(result)
        self.assertEqual(0, exit_code)

    def test_sigterm_stops_a_running_service_cleanly(self):
        self.assertEqual((0, None), self.serve_until_sigterm(ReadyServer()))

    def test_a_service_that_cannot_start_exits_1(self):
        def broken():
            raise RuntimeError('no database')
        result, exit_code = self.serve_until_sigterm(
            ReadyServer(), sigterm=False, on_start=broken)
        self.assertEqual((1, None), (result, exit_code))

    def test_on_stop_hears_the_signal(self):
        stops = []
        self.assertEqual((0, None), self.serve_until_sigterm(
            ReadyServer(), on_stop=lambda: stops.append('stop')))
        self.assertEqual(['stop'], stops)
