"""MariaDB (also the mysql manager): mariadbd on the server's address,
port 3306, its data in ``<data_dir>/mysql``.

The agent talks to it as root over the Unix socket in ``<data_dir>/run``
(unix_socket authentication: only the OS user root gets in as
``'root'@'localhost'``); the socket's directory is 0700 and the engine's
OS user's. Clients connect over TCP with passwords. At each start the
agent drops the accounts nobody should log in with
(:func:`unwanted_accounts`): anonymous ones, the socket account
mariadb-install-db makes for the engine's OS user, and root at any host
but localhost and the ``'%'`` of enable_root.
Its options are in ``<data_dir>/my.cnf``, rendered from
templates/mariadb/config.template for the flavor each time it starts; its
last line includes ``<data_dir>/overrides.cnf``, the attached
configuration group (overrides.py).
"""
import contextlib
import os
import secrets
from typing import Iterator

import pymysql

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import cluster
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides
from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.mariadb import descriptor
from trove_clone.guestagent.datastores.mariadb import wsrep
from trove_clone.guestagent.datastores import templating


#: The file of the server's replication id, in the agent's directory.
SERVER_ID_FILE = 'mariadb-server-id'
#: The hosts root may have: the agent's socket account, enable_root's.
ROOT_HOSTS = frozenset({'localhost', '%'})


def unwanted_accounts(accounts: list[tuple[str, str]],
                      socket_users: tuple[str, ...]) -> list[tuple[str, str]]:
    """The (user, host) of ``accounts`` to drop: anonymous users, the
    socket accounts of OS users other than root (``socket_users``: the
    engine's OS user, ``mysql``), root at other hosts than
    :data:`ROOT_HOSTS`."""
    unwanted = []
    for user, host in accounts:
        if user == '' or (user in socket_users and user != 'root' and
                          host == 'localhost') or \
                (user == 'root' and host not in ROOT_HOSTS):
            unwanted.append((user, host))
    return unwanted


class MariadbLifecycle(base.Lifecycle):

    port = descriptor.ENGINE.port
    system_user = 'mysql'
    #: Arguments of the next start only (the cluster capability's
    #: ``--wsrep-new-cluster``).
    extra_arguments: tuple = ()
    #: How long a start waits for the engine to answer (a Galera member
    #: that joins copies the cluster's data first).
    start_timeout: float = 60.0

    @property
    def datadir(self) -> str:
        return os.path.join(self.data_dir, 'mysql')

    @property
    def socket_path(self) -> str:
        return os.path.join(self.data_dir, 'run', 'mysqld.sock')

    @property
    def conf_path(self) -> str:
        """The option file the agent generates (mariadbd reads no other)."""
        return os.path.join(self.data_dir, 'my.cnf')

    @property
    def overrides_path(self) -> str:
        """The option file of the configuration group, included last."""
        return os.path.join(self.data_dir, 'overrides.cnf')

    @property
    def logs_path(self) -> str:
        """The option file of the guest logs turned on (logs.py),
        included before the configuration group's."""
        return os.path.join(self.data_dir, 'logs.cnf')

    def write_logs_conf(self, text: str) -> None:
        """Replace the guest logs' option file with ``text``."""
        overrides.replace_file(self.logs_path, text, self._user())

    def _context(self) -> dict:
        """What the template (templates/mariadb/config.template) sees."""
        return {
            'flavor': templating.flavor(self.ram_mb),
            'address': self.address, 'port': self.port,
            'data_dir': self.data_dir, 'datadir': self.datadir,
            'socket': self.socket_path,
            'pid_file': os.path.join(self.data_dir, 'run', 'mysqld.pid'),
            'overrides': self.overrides_path,
            'logs': self.logs_path,
            'server_id': self.server_id,
            'replica': replication.is_replica(self),
            'galera': self.galera_settings(),
        }

    def galera_settings(self) -> dict | None:
        """The wsrep settings of a Galera member (None: not in a
        cluster; the cluster capability's state file)."""
        state = cluster.load_state(self)
        if not state.get('members'):
            return None
        provider = self.programs.get(wsrep.PROVIDER_PROGRAM,
                                     wsrep.DEFAULT_PROVIDER)
        return wsrep.settings(self.address, state, provider,
                              self.wsrep_secrets_path, self.ram_mb)

    @property
    def wsrep_secrets_path(self) -> str:
        return os.path.join(self.data_dir, wsrep.SECRETS_FILE)

    @property
    def server_id_path(self) -> str:
        return os.path.join(self.agent_dir, SERVER_ID_FILE)

    @property
    def server_id(self) -> int:
        """The server's id in replication (``server-id``): random, made
        once per volume (:meth:`make_server_id`, before the configuration
        is first written) and kept in the agent's directory, so that no
        two instances share one (GTIDs carry it); 1 before it is made."""
        try:
            with open(self.server_id_path) as source:
                return int(source.read().strip())
        except (FileNotFoundError, ValueError):
            return 1

    def make_server_id(self) -> None:
        """Make the server's id if the volume has none yet."""
        if self.server_id != 1:
            return
        os.makedirs(self.agent_dir, mode=0o700, exist_ok=True)
        overrides.replace_file(self.server_id_path, '%d\n' % (
            secrets.randbelow(2 ** 32 - 2) + 2))

    def _write_conf(self) -> None:
        """Render my.cnf for the flavor (the data is left alone)."""
        self.make_server_id()
        context = self._context()
        if context['galera']:
            # Before my.cnf, which includes it.
            overrides.replace_file(self.wsrep_secrets_path,
                                   wsrep.secrets_text(cluster.load_state(
                                       self)['secret']), self._user())
        templating.write('mariadb', context, self.conf_path, self._user())
        if not os.path.lexists(self.overrides_path):
            # mariadbd refuses to start on a missing !include file.
            overrides.replace_file(self.overrides_path, '[mysqld]\n',
                                   self._user())
        if not os.path.lexists(self.logs_path):
            self.write_logs_conf('[mysqld]\n')

    def _arguments(self) -> list[str]:
        # --defaults-file must come first.
        return ['--defaults-file=%s' % self.conf_path] + list(
            self.extra_arguments)

    def prepare(self) -> None:
        self.private_dir(self.data_dir)
        self.private_dir(os.path.dirname(self.socket_path))
        self._write_conf()
        self._own(self.data_dir)
        if not os.path.isdir(os.path.join(self.datadir, 'mysql')):
            # As the engine's user: the files are its own. Only root gets
            # a socket account (the agent's), no test database.
            self._run([self.programs['install_db'], '--no-defaults',
                       '--datadir=%s' % self.datadir,
                       '--auth-root-authentication-method=socket',
                       '--auth-root-socket-user=root',
                       '--skip-test-db'], 'mariadb-install-db', timeout=300)
        self._own(self.data_dir)
        self.start()

    def start(self) -> None:
        if os.path.isdir(self.data_dir):
            self._own(self.data_dir)
            self.private_dir(self.data_dir)
        if os.path.isdir(self.datadir):
            self.private_dir(self.datadir)
        self.private_dir(os.path.dirname(self.socket_path))
        # The flavor may have changed since the last start (a resize).
        self._write_conf()
        # Started as the engine's user: mariadbd never runs as root.
        self.process = self._spawn([self.programs['server']] +
                                   self._arguments())
        self.wait_until_healthy(self.start_timeout)
        self.drop_unwanted_accounts()

    def drop_unwanted_accounts(self) -> None:
        """Drop the accounts of :func:`unwanted_accounts`."""
        socket_users = tuple(name for name in (self.engine_user_name,
                                               self.system_user) if name)
        with self.cursor() as cursor:
            if replication.is_replica(self):
                # Never a GTID of a replica's own: it could not be
                # promoted in strict mode, nor its source follow it.
                cursor.execute('SET SESSION sql_log_bin = 0')
            cursor.execute('SELECT User, Host FROM mysql.user')
            accounts = [tuple(row) for row in cursor.fetchall()]
            for user, host in unwanted_accounts(accounts, socket_users):
                cursor.execute('DROP USER %s@%s', (user, host))

    def connect(self) -> pymysql.Connection:
        """A root connection over the local socket."""
        return pymysql.connect(unix_socket=self.socket_path, user='root',
                               connect_timeout=2, autocommit=True)

    @contextlib.contextmanager
    def cursor(self, request_errors: frozenset = frozenset()
               ) -> Iterator[pymysql.cursors.Cursor]:
        """A root cursor in autocommit. An engine error whose code is in
        ``request_errors`` (the caller's input was refused) becomes
        BadRequest; other failures :class:`base.EngineError` with the
        engine's message."""
        try:
            connection = self.connect()
        except pymysql.Error as error:
            raise base.EngineError('MariaDB cannot be reached: %s'
                                   % (error.args[-1],)) from error
        try:
            with connection.cursor() as cursor:
                yield cursor
        except pymysql.Error as error:
            if error.args and error.args[0] in request_errors:
                raise exception.BadRequest(str(error.args[-1])) from error
            raise base.EngineError('MariaDB failed: %s'
                                   % (error.args[-1],)) from error
        finally:
            connection.close()

    def is_healthy(self) -> bool:
        try:
            connection = self.connect()
        except pymysql.Error:
            return False
        try:
            with connection.cursor() as cursor:
                cursor.execute('SELECT 1')
                if cursor.fetchone() != (1,):
                    return False
                if self.galera_settings() is None:
                    return True
                # A Galera member serves once it is ready (synced in a
                # primary component), not when its socket answers.
                cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep_ready'")
                return cursor.fetchone() == ('wsrep_ready', 'ON')
        except pymysql.Error:
            return False
        finally:
            connection.close()
