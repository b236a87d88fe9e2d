"""Run an RPC service until SIGTERM or SIGINT, then stop cleanly."""
import logging as std_logging
import os
import signal
import threading
from typing import Callable

from oslo_log import log as logging

from trove_clone.common import rpc

LOG = logging.getLogger(__name__)


class Periodic:
    """Call ``func`` every ``interval`` seconds in a thread until stopped."""

    def __init__(self, func: Callable[[], None], interval: float) -> None:
        self.func = func
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name='periodic-%s' % getattr(
                                            func, '__name__', 'task'))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.func()
            except Exception:  # noqa: B902 - keep the timer alive
                LOG.exception('Periodic task %s failed.', self._thread.name)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)


def serve(name: str, topic: str, endpoints: list, server: str | None = None,
          periodics: list[Periodic] | None = None,
          key: str | None = None, on_start: Callable[[], None] | None = None,
          guests: bool = False,
          on_stop: Callable[[], None] | None = None) -> int:
    """Serve ``topic`` until a signal arrives; returns the exit code.

    :param guests: serve ``topic`` on ``guest_transport_url`` too, when
        it is set
    :param on_stop: called (in the signal handler: it must be quick) when
        a signal asks the service to stop
    """
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info('Signal %d received: stopping %s.', signum, name)
        if on_stop is not None:
            on_stop()
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    rpc_servers = [rpc.get_server(topic, endpoints, server, key=key)]
    if guests and rpc.CONF.guest_transport_url:
        rpc_servers.append(rpc.get_server(
            topic, endpoints, server, key=key,
            transport=rpc.get_guest_transport()))
    periodics = periodics or []

    failed = []

    def start() -> None:
        # With the broker down, start() retries its connection forever:
        # in a thread of its own it cannot keep SIGTERM waiting.
        try:
            for rpc_server in rpc_servers:
                rpc_server.start()
            if on_start is not None:
                on_start()
            for periodic in periodics:
                periodic.start()
        except Exception:  # noqa: B902 - the service cannot run: stop it
            LOG.exception('%s could not start.', name)
            failed.append(True)
            stopping.set()
            return
        LOG.info('%s serving RPC topic %s.', name, topic)

    def stop() -> None:
        for periodic in periodics:
            periodic.stop()
        for rpc_server in rpc_servers:
            rpc_server.stop()
        for rpc_server in rpc_servers:
            rpc_server.wait()
        rpc.cleanup()

    starter = threading.Thread(target=start, name='%s-start' % name,
                               daemon=True)
    starter.start()
    while not stopping.wait(1.0):
        pass
    if not _within(stop, rpc.CONF.graceful_shutdown_timeout,
                   '%s-stop' % name):
        LOG.warning('%s did not stop within %d s (is the message broker '
                    'reachable?): exiting anyway.', name,
                    rpc.CONF.graceful_shutdown_timeout)
        std_logging.shutdown()
        os._exit(1 if failed else 0)
    if failed:
        return 1
    LOG.info('%s stopped.', name)
    return 0


def _within(func: Callable[[], None], seconds: float, name: str) -> bool:
    """Run ``func`` in a thread; whether it returned within ``seconds``."""
    worker = threading.Thread(target=func, name=name, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive()
