"""MariaDB (also the mysql manager): mariadbd on the server's address,
port 3306, its data in ``<data_dir>/mysql``.

The agent talks to it as root over the Unix socket in ``<data_dir>/run``
(unix_socket authentication); clients connect over TCP with passwords.
Its options are in ``<data_dir>/my.cnf``, rendered from
templates/mariadb/config.template for the flavor each time it starts; its
last line includes ``<data_dir>/overrides.cnf``, the attached
configuration group (mariadb_overrides).
"""
import contextlib
import os
from typing import Iterator

import pymysql

from trove_clone.common import exception
from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import templating


class MariadbLifecycle(base.Lifecycle):

    port = 3306
    system_user = 'mysql'

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

    def _context(self) -> dict:
        """What the template (templates/mariadb/config.template) sees."""
        return {
            'flavor': templating.flavor(self.ram_mb),
            'address': self.address, 'port': self.port,
            'data_dir': self.data_dir, 'datadir': self.datadir,
            'socket': self.socket_path,
            'pid_file': os.path.join(self.data_dir, 'run', 'mysqld.pid'),
            'overrides': self.overrides_path,
        }

    def _write_conf(self) -> None:
        """Render my.cnf for the flavor (the data is left alone)."""
        templating.write('mariadb', self._context(), self.conf_path,
                         self._user())
        if not os.path.exists(self.overrides_path):
            # mariadbd refuses to start on a missing !include file.
            with open(self.overrides_path, 'w') as overrides:
                overrides.write('[mysqld]\n')
            os.chmod(self.overrides_path, 0o644)
            if self._user() is not None:
                os.chown(self.overrides_path, *self._user())

    def _arguments(self) -> list[str]:
        # --defaults-file must come first.
        arguments = ['--defaults-file=%s' % self.conf_path]
        if self._user() is not None:
            arguments.append('--user=%s' % self.system_user)
        return arguments

    def prepare(self) -> None:
        os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        self._write_conf()
        self._own(self.data_dir)
        if not os.path.isdir(os.path.join(self.datadir, 'mysql')):
            argv = [self.programs['install_db'], '--no-defaults',
                    '--datadir=%s' % self.datadir,
                    '--auth-root-authentication-method=socket',
                    '--skip-test-db']
            if self._user() is not None:
                argv.append('--user=%s' % self.system_user)
            self._run(argv, 'mariadb-install-db', timeout=300)
        self._own(self.data_dir)
        self.start()

    def start(self) -> None:
        os.makedirs(os.path.dirname(self.socket_path), exist_ok=True)
        self._own(os.path.dirname(self.socket_path))
        # The flavor may have changed since the last start (a resize).
        self._write_conf()
        # mariadbd drops to the mysql user itself (--user).
        self.process = self._spawn([self.programs['server']] +
                                   self._arguments(), drop_privileges=False)
        self.wait_until_healthy()

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
                return cursor.fetchone() == (1,)
        except pymysql.Error:
            return False
        finally:
            connection.close()
