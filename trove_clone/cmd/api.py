"""trove-api: the REST API under waitress, in worker processes.

The parent binds the listening socket and forks ``trove_api_workers``
workers (the CPU count by default, as Trove); each serves the shared
socket with its own waitress server of ``trove_api_threads`` threads,
and the kernel hands each new connection to one of them. The parent
only supervises: a worker that dies is replaced, SIGTERM (or SIGINT) is
passed on to every worker, each drains its requests for STOP_GRACE
seconds, and one still running after that is killed. With one worker
the parent serves itself.

What workers do not share: caches (the datastore snapshot lives
``datastore_cache_ttl`` seconds in each), the in-memory rate limits
(``http_*_rate`` apply per worker, as in Trove) and the connection bounds
below (per worker).

waitress reads requests on one event loop (its asyncore fork) and hands
only complete requests to its worker threads, so clients that connect
and send nothing, or trickle a request byte by byte, cost a socket but
never a thread: a normal request is still served beside hundreds of
them. Bounds (see conf/api.py): ``api_connection_limit`` open
connections, ``client_socket_timeout`` seconds for an idle connection,
``client_request_timeout`` seconds to send one complete request, and the
listen ``backlog``.
"""
import ctypes
import os
import resource
import signal
import socket
import sys
import threading
import time

from oslo_log import log as logging
from waitress import channel as waitress_channel
from waitress import parser as waitress_parser
from waitress import server as waitress_server
from waitress import wasyncore

from trove_clone.api import app as api_app
from trove_clone.common import config
from trove_clone.db import api as db_api

LOG = logging.getLogger(__name__)
#: Seconds between two looks at the stop flag in the event loop.
LOOP_TIMEOUT = 0.5
#: Seconds given to requests being served when trove-api stops.
STOP_GRACE = 5


class _TimedRequest(waitress_parser.HTTPRequestParser):
    """A request being received, with the time its first byte came."""

    def __init__(self, adj) -> None:
        super().__init__(adj)
        self.started = time.monotonic()


class _Channel(waitress_channel.HTTPChannel):
    parser_class = _TimedRequest


class Server(waitress_server.TcpWSGIServer):
    """waitress's TCP server that also closes connections whose request
    has not arrived in full within ``request_timeout`` seconds (a client
    sending one byte a second keeps a connection active, so waitress's
    idle timeout alone would never close it)."""

    channel_class = _Channel

    def __init__(self, application, request_timeout: float,
                 **kwargs) -> None:
        self.request_timeout = request_timeout
        super().__init__(application, **kwargs)

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        cutoff = time.monotonic() - self.request_timeout
        for channel in list(self.active_channels.values()):
            request = channel.request
            if request is not None and not channel.requests and \
                    request.started < cutoff:
                LOG.info('Closing the connection of %s: no complete '
                         'request within %s seconds.', channel.addr,
                         self.request_timeout)
                channel.will_close = True


#: File descriptors kept free of client connections (database, broker,
#: logs, the worker threads' own sockets).
SPARE_FDS = 64


def connection_limit(configured: int) -> int:
    """``api_connection_limit``, lowered to fit the process's open-file
    limit: beyond it accept() fails and the listening socket would spin
    the event loop."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or configured + SPARE_FDS <= soft:
        return configured
    fitted = max(1, soft - SPARE_FDS)
    LOG.warning('api_connection_limit %d does not fit the open-file limit '
                '%d (ulimit -n): using %d.', configured, soft, fitted)
    return fitted


def make_server(conf, listening: socket.socket | None = None) -> Server:
    """A waitress server for the configured application and address, on
    ``listening`` (a socket the parent bound) when given."""
    shared = {} if listening is None else {'_sock': listening,
                                           'bind_socket': False}
    return Server(
        api_app.build_app(), request_timeout=conf.client_request_timeout,
        threads=conf.trove_api_threads, **shared,
        host=conf.bind_host, port=conf.bind_port,
        ident='trove-api', backlog=conf.backlog,
        connection_limit=connection_limit(conf.api_connection_limit),
        channel_timeout=conf.client_socket_timeout,
        cleanup_interval=max(1, min(conf.client_socket_timeout,
                                    conf.client_request_timeout) // 2),
        max_request_header_size=conf.max_header_line * 8,
        # The application answers an oversized body with Trove's 413
        # envelope; waitress's own bound only keeps its buffer finite.
        max_request_body_size=conf.max_request_body_size + 1024 * 1024,
        asyncore_use_poll=True, asyncore_loop_timeout=LOOP_TIMEOUT,
        expose_tracebacks=False)


def serve(server: Server, stopping: threading.Event) -> None:
    """Run the event loop until ``stopping`` is set, then stop taking
    connections, give the requests being served STOP_GRACE seconds and
    close every connection."""
    while not stopping.is_set():
        wasyncore.loop(timeout=LOOP_TIMEOUT, map=server._map,
                       use_poll=True, count=1)
    server.accepting = False
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=STOP_GRACE)
    wasyncore.close_all(server._map)


def worker_count(conf) -> int:
    return conf.trove_api_workers or os.cpu_count() or 1


def listening_socket(conf) -> socket.socket:
    """The socket every worker accepts on, bound and listening."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        conf.bind_host, conf.bind_port, type=socket.SOCK_STREAM,
        flags=socket.AI_PASSIVE)[0]
    listening = socket.socket(family, kind, proto)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            listening.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listening.bind(address)
        listening.listen(conf.backlog)
    except OSError:
        listening.close()
        raise
    return listening


def _die_with_parent() -> None:
    """Have the kernel stop this worker if the parent dies (SIGKILL
    leaves the parent no chance to pass a signal on)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run(conf, listening: socket.socket | None = None) -> int:
    """Serve in this process until SIGTERM or SIGINT."""
    server = make_server(conf, listening)
    db_api.pool_sqlite_connections(pool_size=server.adj.threads)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info('Signal %d received: stopping trove-api (pid %d).',
                 signum, os.getpid())
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    LOG.info('trove-api (pid %d) serving %s:%s (%d threads, at most %d '
             'connections)', os.getpid(), server.effective_host,
             server.effective_port, server.adj.threads,
             server.adj.connection_limit)
    serve(server, stopping)
    LOG.info('trove-api (pid %d) stopped.', os.getpid())
    return 0


class Supervisor:
    """The parent of the workers: starts them, replaces one that dies,
    and stops them all."""

    #: A worker that dies sooner than this after its start is replaced
    #: only after the same delay (a worker that cannot start must not
    #: make the parent fork in a loop).
    RESPAWN_DELAY = 1.0

    def __init__(self, conf, listening: socket.socket, count: int) -> None:
        self.conf = conf
        self.listening = listening
        self.count = count
        self.workers: dict[int, float] = {}
        self.stopping = threading.Event()

    def spawn(self) -> int:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _die_with_parent()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                code = run(self.conf, self.listening)
            except BaseException:  # noqa: B902 - a worker must exit here
                LOG.exception('trove-api worker %d failed.', os.getpid())
            finally:
                os._exit(code)
        self.workers[pid] = time.monotonic()
        return pid

    def _reap(self) -> list[tuple[int, int]]:
        ended = []
        for pid in list(self.workers):
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                ended.append((pid, status))
        return ended

    def supervise(self) -> int:
        for _ in range(self.count):
            self.spawn()
        LOG.info('trove-api listening on %s:%s with %d workers: %s',
                 self.conf.bind_host, self.listening.getsockname()[1],
                 self.count, sorted(self.workers))
        while not self.stopping.wait(0.2):
            for pid, status in self._reap():
                started = self.workers.pop(pid)
                LOG.warning('trove-api worker %d ended (status %d): '
                            'starting another.', pid, status)
                if time.monotonic() - started < self.RESPAWN_DELAY:
                    if self.stopping.wait(self.RESPAWN_DELAY):
                        break
                self.spawn()
        self.stop()
        return 0

    def stop(self) -> None:
        for pid in self.workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_GRACE + 5
        while self.workers and time.monotonic() < deadline:
            for pid, _status in self._reap():
                self.workers.pop(pid, None)
            time.sleep(0.05)
        for pid in list(self.workers):
            LOG.warning('trove-api worker %d did not stop: killing it.', pid)
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.workers.pop(pid, None)
        self.listening.close()
        LOG.info('trove-api stopped.')


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-api')
    count = worker_count(conf)
    if count == 1:
        return run(conf)
    supervisor = Supervisor(conf, listening_socket(conf), count)

    def on_signal(signum, _frame):
        LOG.info('Signal %d received: stopping the trove-api workers.',
                 signum)
        supervisor.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return supervisor.supervise()


if __name__ == '__main__':
    sys.exit(main())
