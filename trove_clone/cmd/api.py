"""trove-api: the REST API under waitress.

waitress reads requests on one event loop (its asyncore fork) and hands
only complete requests to its worker threads, so clients that connect
and send nothing, or trickle a request byte by byte, cost a socket but
never a thread: a normal request is still served beside hundreds of
them. Bounds (see conf/api.py): ``api_connection_limit`` open
connections, ``client_socket_timeout`` seconds for an idle connection,
``client_request_timeout`` seconds to send one complete request, and the
listen ``backlog``.
"""
import os
import resource
import signal
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


def make_server(conf) -> Server:
    """A waitress server for the configured application and address."""
    threads = conf.trove_api_workers or 8 * (os.cpu_count() or 1)
    return Server(
        api_app.build_app(), request_timeout=conf.client_request_timeout,
        host=conf.bind_host, port=conf.bind_port, threads=threads,
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


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-api')
    server = make_server(conf)
    db_api.pool_sqlite_connections(pool_size=server.adj.threads)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info('Signal %d received: stopping trove-api.', signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    LOG.info('trove-api listening on %s:%s (%d threads, at most %d '
             'connections)', server.effective_host, server.effective_port,
             server.adj.threads, server.adj.connection_limit)
    serve(server, stopping)
    LOG.info('trove-api stopped.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
