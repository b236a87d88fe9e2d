"""Run an RPC service until SIGTERM or SIGINT, then stop cleanly."""
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
          guests: bool = False) -> int:
    """Serve ``topic`` until a signal arrives; returns the exit code.

    :param guests: serve ``topic`` on ``guest_transport_url`` too, when
        it is set
    """
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info('Signal %d received: stopping %s.', signum, name)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    rpc_servers = [rpc.get_server(topic, endpoints, server, key=key)]
    if guests and rpc.CONF.guest_transport_url:
        rpc_servers.append(rpc.get_server(
            topic, endpoints, server, key=key,
            transport=rpc.get_guest_transport()))
    for rpc_server in rpc_servers:
        rpc_server.start()
    if on_start is not None:
        on_start()
    periodics = periodics or []
    for periodic in periodics:
        periodic.start()
    LOG.info('%s serving RPC topic %s.', name, topic)
    while not stopping.wait(1.0):
        pass
    for periodic in periodics:
        periodic.stop()
    for rpc_server in rpc_servers:
        rpc_server.stop()
    for rpc_server in rpc_servers:
        rpc_server.wait()
    rpc.cleanup()
    LOG.info('%s stopped.', name)
    return 0
