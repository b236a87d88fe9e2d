"""Fixtures of the functional tests: control databases and a live trove-api.

Every fixture starts what it needs on loopback addresses, with its own
state directory, and stops its processes by PID at cleanup.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

import fixtures
import sqlalchemy as sa

from trove_clone.common import secrets as trove_secrets

BIN = os.path.dirname(sys.executable)
MYSQL_SERVER_URL = os.environ.get('TROVE_CLONE_TEST_MYSQL_URL',
                                  'mysql+pymysql://root@127.0.0.1:3306')
PG_SERVER_URL = os.environ.get('TROVE_CLONE_TEST_PG_URL',
                               'postgresql+psycopg://postgres@127.0.0.1:5432')
BACKENDS = ('sqlite', 'mysql', 'postgresql')
#: Where the logs of every deployment a test made are copied at its
#: cleanup, for a failure to be read afterwards (unset: not kept).
KEEP_LOGS = os.environ.get('TROVE_CLONE_TEST_KEEP_LOGS')


def keep_logs(state: str) -> None:
    """Copy the ``*.log`` and ``*.out`` files under ``state`` into a new
    directory of ``TROVE_CLONE_TEST_KEEP_LOGS``, when that is set."""
    if not KEEP_LOGS:
        return
    target = os.path.join(KEEP_LOGS, '%s-%s' % (
        time.strftime('%H%M%S'), os.path.basename(state)))
    for folder, _dirs, files in os.walk(state):
        for name in files:
            if not name.endswith(('.log', '.out')):
                continue
            relative = os.path.relpath(os.path.join(folder, name), state)
            os.makedirs(os.path.dirname(os.path.join(target, relative)),
                        exist_ok=True)
            try:
                shutil.copyfile(os.path.join(folder, name),
                                os.path.join(target, relative))
            except OSError:
                continue


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process=None,
                  log_path: str | None = None,
                  host: str = '127.0.0.1') -> None:
    """Wait until host:port (default 127.0.0.1) accepts connections.

    :raises: RuntimeError with the process's log when it exits or the
        deadline passes
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        try:
            with socket.create_connection((host, port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    log = ''
    if log_path and os.path.exists(log_path):
        with open(log_path, errors='replace') as log_file:
            log = log_file.read()[-4000:]
    raise RuntimeError('Nothing listens on %s:%d after %.0f s.\n%s'
                       % (host, port, timeout, log))


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM the process group, then SIGKILL it; returns the exit code."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


class ControlDatabase(fixtures.Fixture):
    """A new, empty control database on one backend; dropped at cleanup.

    ``url`` is the SQLAlchemy URL of the database.
    """

    def __init__(self, backend: str) -> None:
        super().__init__()
        if backend not in BACKENDS:
            raise ValueError('unknown backend %s' % backend)
        self.backend = backend
        self.url = ''

    def _setUp(self) -> None:
        name = 'trove_clone_test_%s' % secrets.token_hex(6)
        if self.backend == 'sqlite':
            directory = self.useFixture(fixtures.TempDir()).path
            self.url = 'sqlite:///%s/%s.sqlite' % (directory, name)
            return
        server = MYSQL_SERVER_URL if self.backend == 'mysql' \
            else PG_SERVER_URL
        engine = sa.create_engine(server + ('/postgres' if
                                            self.backend == 'postgresql'
                                            else '/'),
                                  isolation_level='AUTOCOMMIT')
        try:
            with engine.connect() as connection:
                if self.backend == 'mysql':
                    connection.execute(sa.text(
                        'CREATE DATABASE %s CHARACTER SET utf8mb4' % name))
                else:
                    connection.execute(sa.text('CREATE DATABASE %s' % name))
        except sa.exc.OperationalError as error:
            raise RuntimeError(
                'The %s server at %s is not reachable (run '
                'tools/install-services): %s' % (self.backend, server, error))
        self.addCleanup(self._drop, engine, name)
        suffix = '?charset=utf8mb4' if self.backend == 'mysql' else ''
        self.url = '%s/%s%s' % (server, name, suffix)

    def _drop(self, engine, name: str) -> None:
        with engine.connect() as connection:
            if self.backend == 'postgresql':
                connection.execute(sa.text(
                    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity '
                    'WHERE datname = :name AND pid <> pg_backend_pid()'),
                    {'name': name})
            connection.execute(sa.text('DROP DATABASE IF EXISTS %s' % name))
        engine.dispose()


class TroveApi(fixtures.Fixture):
    """trove-api on a free loopback port with its own trove.conf.

    The control database is migrated with ``trove-manage db_sync`` first.
    ``endpoint`` is e.g. ``http://127.0.0.1:PORT``; ``conf_path`` is the
    configuration file that trove-manage shares with the API. ``host`` is
    the loopback address to bind (a test's own address pool).
    """

    def __init__(self, database_url: str, auth_strategy: str = 'noauth',
                 glance_endpoint: str | None = None,
                 keystone_url: str | None = None,
                 keystone_password: str = '',
                 extra_conf: str = '', host: str = '127.0.0.1',
                 glance_keystone: bool = False, workers: int = 1) -> None:
        super().__init__()
        self.workers = workers
        # Glance validates tokens: reach it as Keystone's admin, the
        # endpoint from the catalog.
        self.glance_keystone = glance_keystone
        self.host = host
        self.database_url = database_url
        self.auth_strategy = auth_strategy
        self.glance_endpoint = glance_endpoint
        self.keystone_url = keystone_url
        self.keystone_password = keystone_password
        self.extra_conf = extra_conf

    def _setUp(self) -> None:
        self.state = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(keep_logs, self.state)
        self.port = free_port()
        self.endpoint = 'http://%s:%d' % (self.host, self.port)
        self.conf_path = os.path.join(self.state, 'trove.conf')
        self.log_path = os.path.join(self.state, 'trove-api.log')
        # It holds the Keystone password: 0600, as trovestack writes it.
        trove_secrets.write_private_file(self.conf_path, self._conf_text())
        self.manage('db_sync')
        self.process = subprocess.Popen(
            [os.path.join(BIN, 'trove-api'), '--config-file',
             self.conf_path], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.state, 'stderr.log'), 'w'),
            start_new_session=True)
        self.addCleanup(stop_process, self.process)
        wait_for_port(self.port, 30, self.process, self.log_path,
                      host=self.host)

    def _conf_text(self) -> str:
        lines = ['[DEFAULT]',
                 'auth_strategy = %s' % self.auth_strategy,
                 'bind_host = %s' % self.host,
                 'bind_port = %d' % self.port,
                 'log_file = %s' % self.log_path,
                 'debug = true',
                 # One process unless a test asks for more (extra_conf
                 # comes later and wins): test_api_workers covers several.
                 'trove_api_workers = %d' % self.workers,
                 self.extra_conf,
                 '[database]',
                 'connection = %s' % self.database_url]
        if self.glance_endpoint:
            lines += ['[glance]', 'endpoint = %s' % self.glance_endpoint]
        if self.glance_keystone:
            lines += ['auth_type = keystone', '[service_credentials]',
                      'auth_url = %s' % self.keystone_url,
                      'username = admin',
                      'password = %s' % self.keystone_password,
                      'project_name = admin']
        if self.keystone_url:
            parsed = urllib.parse.urlparse(self.keystone_url)
            lines += ['[keystone_authtoken]',
                      'www_authenticate_uri = %s' % self.keystone_url,
                      'auth_url = %s' % self.keystone_url,
                      'auth_type = password',
                      'username = admin',
                      'password = %s' % self.keystone_password,
                      'project_name = admin',
                      'user_domain_name = Default',
                      'project_domain_name = Default',
                      'memcached_servers =',
                      'service_token_roles_required = true',
                      'region_name = RegionOne',
                      'token_cache_time = -1',
                      '# keystone at %s' % parsed.netloc]
        return '\n'.join(lines) + '\n'

    def manage(self, *args: str, check: bool = True
               ) -> subprocess.CompletedProcess:
        """Run trove-manage with this API's configuration file."""
        result = subprocess.run(
            [os.path.join(BIN, 'trove-manage'),
             '--config-file=%s' % self.conf_path] + list(args),
            capture_output=True, text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError('trove-manage %s failed (%d): %s%s' % (
                ' '.join(args), result.returncode, result.stdout,
                result.stderr))
        return result


class Daemon(fixtures.Fixture):
    """trove-taskmanager or trove-conductor with an API's configuration
    file; stopped by PID at cleanup. ``restart()`` and ``kill()`` serve the
    fault tests. ``name`` (the program's by default) names its log files
    ``<state>/<name>.log`` and ``.out``, so that two of one program can
    run side by side."""

    def __init__(self, program: str, conf_path: str, state: str,
                 name: str | None = None) -> None:
        super().__init__()
        self.program = program
        self.name = name or program
        self.conf_path = conf_path
        self.state = state
        self.process: subprocess.Popen | None = None
        self.log_path = os.path.join(state, '%s.log' % self.name)

    def _setUp(self) -> None:
        self.start()
        self.addCleanup(lambda: self.process and stop_process(self.process))

    def start(self) -> None:
        log = open(os.path.join(self.state, '%s.out' % self.name), 'ab')
        self.process = subprocess.Popen(
            [os.path.join(BIN, self.program), '--config-file',
             self.conf_path, '--log-file', self.log_path],
            stdout=log, stderr=log,
            start_new_session=True)
        log.close()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server'


class PrivateRabbitMQ(fixtures.Fixture):
    """A RabbitMQ node of the test's own, on free loopback ports, so that
    a test can restart its broker without disturbing anyone else's.
    ``url`` is its transport URL; ``restart()`` stops it by PID and
    starts it again on the same ports."""

    def _setUp(self) -> None:
        self.state = self.useFixture(fixtures.TempDir()).path
        self.addCleanup(keep_logs, self.state)
        self.port = free_port()
        self.dist_port = free_port()
        self.node = 'trove-test-%s@localhost' % secrets.token_hex(4)
        with open(os.path.join(self.state, 'rabbitmq.conf'), 'w') as conf:
            conf.write('listeners.tcp.local = 127.0.0.1:%d\n'
                       'loopback_users = none\n' % self.port)
        with open(os.path.join(self.state, 'enabled_plugins'), 'w') as pl:
            pl.write('[].\n')
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port
        self.process: subprocess.Popen | None = None
        self.start()
        self.addCleanup(self.stop)

    def start(self) -> None:
        env = dict(os.environ, HOME=self.state, RABBITMQ_NODENAME=self.node,
                   RABBITMQ_NODE_PORT=str(self.port),
                   RABBITMQ_DIST_PORT=str(self.dist_port),
                   RABBITMQ_CONFIG_FILE=os.path.join(self.state, 'rabbitmq'),
                   RABBITMQ_MNESIA_BASE=os.path.join(self.state, 'mnesia'),
                   RABBITMQ_LOG_BASE=os.path.join(self.state, 'log'),
                   RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(
                       self.state, 'enabled_plugins'),
                   RABBITMQ_PID_FILE=os.path.join(self.state, 'pid'))
        log = open(os.path.join(self.state, 'out.log'), 'ab')
        self.process = subprocess.Popen(
            [RABBITMQ_SERVER], env=env, stdout=log, stderr=log,
            start_new_session=True)
        log.close()
        wait_for_port(self.port, 60, self.process,
                      os.path.join(self.state, 'out.log'))

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=30)
            self.process = None


class SlowClients(fixtures.Fixture):
    """Connections to host:port that hold a server's attention without
    finishing a request: ``idle`` send nothing, ``stalled`` half a request
    line, ``trickle`` one more byte of a request every second. Closed at
    cleanup."""

    REQUEST = (b'GET /v1.0/slow/flavors HTTP/1.1\r\nHost: slow\r\n'
               b'X-Project-Id: slow\r\nX-User-Id: slow\r\n')

    def __init__(self, host: str, port: int, idle: int = 200,
                 stalled: int = 20, trickle: int = 20) -> None:
        super().__init__()
        self.address = (host, port)
        self.counts = {'idle': idle, 'stalled': stalled, 'trickle': trickle}
        self.sockets: list[socket.socket] = []

    def _setUp(self) -> None:
        self._trickling: list[socket.socket] = []
        self._stop = threading.Event()
        self.addCleanup(self._close)
        for kind, count in self.counts.items():
            for _ in range(count):
                sock = socket.create_connection(self.address, 5)
                self.sockets.append(sock)
                if kind == 'stalled':
                    sock.sendall(b'GET / HT')
                elif kind == 'trickle':
                    self._trickling.append(sock)
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        position = 0
        while not self._stop.wait(1.0):
            byte = self.REQUEST[position % len(self.REQUEST):][:1]
            position += 1
            for sock in self._trickling:
                try:
                    sock.send(byte)
                except OSError:
                    pass

    def still_open(self) -> int:
        """How many of the connections the server has not closed."""
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                count += sock.recv(1, socket.MSG_PEEK) != b''
            except BlockingIOError:
                count += 1
            except OSError:
                pass
        return count

    def _close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for sock in self.sockets:
            sock.close()


def timed_get(host: str, port: int, path: str, project: str = 'slow',
              timeout: float = 10.0) -> float:
    """Seconds until the status line of one GET on a new connection (as a
    member of ``project``, noauth headers) says 200; inf when it does not
    within ``timeout``."""
    request = ('GET %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n'
               'X-User-Id: u\r\nX-Project-Id: %s\r\nX-Roles: member\r\n'
               'Accept: application/json\r\n\r\n' % (path, project))
    start = time.perf_counter()
    try:
        with socket.create_connection((host, port), timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(request.encode())
            head = b''
            while b'\r\n' not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    return float('inf')
                head += chunk
    except OSError:
        return float('inf')
    if b' 200 ' not in head.split(b'\r\n', 1)[0]:
        return float('inf')
    return time.perf_counter() - start
