"""trove-api: the REST API under cheroot's threaded WSGI server."""
import os
import signal
import sys
import threading

from cheroot import wsgi
from oslo_log import log as logging

from trove_clone.api import app as api_app
from trove_clone.common import config
from trove_clone.db import api as db_api

LOG = logging.getLogger(__name__)


def make_server(conf) -> wsgi.Server:
    """A cheroot server for the configured application and address."""
    threads = conf.trove_api_workers or 8 * (os.cpu_count() or 1)
    server = wsgi.Server((conf.bind_host, conf.bind_port),
                         api_app.build_app(), numthreads=threads,
                         server_name='trove-api', request_queue_size=128)
    server.max_request_header_size = conf.max_header_line * 8
    return server


def main(argv: list[str] | None = None) -> int:
    conf = config.parse_args(sys.argv[1:] if argv is None else argv,
                             'trove-api')
    server = make_server(conf)
    db_api.pool_sqlite_connections(pool_size=server.requests.min or 8)
    stopping = threading.Event()

    def on_signal(signum, _frame):
        LOG.info('Signal %d received: stopping trove-api.', signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.prepare()
    LOG.info('trove-api listening on %s:%s', *server.bind_addr[:2])
    # The server loop runs in a thread so that the main thread, which
    # receives the signals, can stop it cleanly.
    serving = threading.Thread(target=server.serve, name='trove-api-serve',
                               daemon=True)
    serving.start()
    while not stopping.wait(1.0):
        if not serving.is_alive():
            LOG.error('The trove-api server loop ended unexpectedly.')
            server.stop()
            return 1
    server.stop()
    serving.join(10)
    LOG.info('trove-api stopped.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
