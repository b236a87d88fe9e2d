"""The sql module type on MariaDB (the mysql and mariadb managers).

Statements end with ``;`` at the end of a line and run in one session (so
a ``USE`` carries over): as the superuser, root's over the local socket
(:meth:`MariadbLifecycle.cursor`); otherwise as
``'os_module'@'localhost'`` over the local socket, ``ALL`` on each tenant
database (not ``mysql``, ``sys``, the schemas), no global privilege (no
``FILE``, ``SUPER``, ``PROCESS``, ``SHUTDOWN``, ``CREATE USER``, ``GRANT
OPTION``), locked again after the run.
"""
import contextlib

import pymysql

from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.capabilities import modules
from trove_clone.guestagent.datastores.mariadb import accounts

#: The host of the module account (it logs in over the local socket).
MODULE_ROLE_HOST = 'localhost'
#: What the module account gets after a run: no way in.
ROLE_CLOSE = ('ALTER USER %s@%s ACCOUNT LOCK',
              (modules.MODULE_ROLE, MODULE_ROLE_HOST))


def role_statements(password: str, databases: list[str]
                    ) -> list[tuple[str, tuple]]:
    """``(statement, arguments)`` that make :data:`modules.MODULE_ROLE` a
    restricted account with ``password``: no global privilege, ``ALL`` on
    each of ``databases`` (the tenant's)."""
    account = (modules.MODULE_ROLE, MODULE_ROLE_HOST)
    statements = [
        ('CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s',
         account + (password,)),
        ('ALTER USER %s@%s IDENTIFIED BY %s ACCOUNT UNLOCK',
         account + (password,)),
        ('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s', account),
    ]
    for database in databases:
        statements.append((
            'GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s'
            % accounts.quote_identifier(
                accounts.grant_pattern(database)).replace('%', '%%'),
            account))
    return statements


class MariadbStatements(modules.Statements):
    """Module statements on a running :class:`MariadbLifecycle`."""

    def _session(self, options: modules.Options
                 ) -> contextlib.AbstractContextManager:
        """The cursor statements run in: root's, or the module account's
        (made ready first, locked again when the session ends)."""
        if options.superuser:
            return self.engine.cursor()
        return self._module_cursor()

    @contextlib.contextmanager
    def _module_cursor(self):
        engine = self.engine
        password = modules.new_password()
        with engine.cursor() as cursor:
            cursor.execute('SHOW DATABASES')
            databases = [row[0] for row in cursor.fetchall()
                         if not accounts.is_hidden_database(row[0])]
            for statement, arguments in role_statements(password,
                                                        databases):
                cursor.execute(statement, arguments)
        try:
            try:
                connection = pymysql.connect(
                    unix_socket=engine.socket_path,
                    user=modules.MODULE_ROLE, password=password,
                    connect_timeout=2, autocommit=True)
            except pymysql.Error as error:
                raise lifecycle_base.EngineError(
                    'MariaDB cannot be reached as %s: %s'
                    % (modules.MODULE_ROLE, error.args[-1])) from error
            try:
                with connection.cursor() as cursor:
                    yield cursor
            except pymysql.Error as error:
                raise lifecycle_base.EngineError(
                    'MariaDB failed: %s' % (error.args[-1],)) from error
            finally:
                connection.close()
        finally:
            with engine.cursor() as cursor:
                cursor.execute(*ROLE_CLOSE)

    def run(self, statements: list[str],
            options: modules.Options = modules.Options()) -> None:
        number = 0
        try:
            with self._session(options) as cursor:
                for number, statement in enumerate(statements, 1):
                    # No arguments: PyMySQL leaves '%' in the statement
                    # alone.
                    cursor.execute(statement)
        except lifecycle_base.EngineError as error:
            raise modules.StatementFailed(number, error.message) from error
