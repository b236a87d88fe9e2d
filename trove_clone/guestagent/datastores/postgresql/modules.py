"""The sql module type on PostgreSQL.

The same statements as MariaDB's, in one session in autocommit (so that
``CREATE DATABASE`` works for the superuser), in the database of the
``-- trove: database NAME`` directive (default ``postgres``): as the
superuser, ``postgres``'s over the private socket
(:meth:`PostgresqlLifecycle.connect`); otherwise as a ``LOGIN NOSUPERUSER
NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`` role, member of no
role (so not of ``pg_execute_server_program``, ``pg_read_server_files``,
``pg_write_server_files``, ``pg_read_all_*``), over TCP with
scram-sha-256; ``CONNECT``, ``CREATE``, ``TEMPORARY`` on the database it
opens (a tenant's, not a system one), ``USAGE, CREATE`` on its ``public``
schema, and the tables it creates there are readable and writable by
whoever may connect to that database (default privileges to ``PUBLIC``;
PUBLIC cannot connect to a tenant database); they are owned by the role,
so the tenant's users cannot drop or alter them. After the run the role
has no password.
"""
import contextlib

import psycopg
from psycopg import sql as pg_sql

from trove_clone.guestagent.capabilities import modules
from trove_clone.guestagent.datastores.postgresql import accounts

#: The database a module opens without a database directive.
MAINTENANCE_DATABASE = 'postgres'
#: What the role gets after a run: no password, no way in.
ROLE_CLOSE = pg_sql.SQL('ALTER ROLE {} WITH PASSWORD NULL').format(
    pg_sql.Identifier(modules.MODULE_ROLE))


def role_statements(password: str, exists: bool, memberships: list[str]
                    ) -> list[pg_sql.Composed]:
    """The statements (in the maintenance database) that make
    :data:`modules.MODULE_ROLE` a restricted LOGIN role with ``password``,
    member of none of ``memberships`` (the roles it is in now)."""
    role = pg_sql.Identifier(modules.MODULE_ROLE)
    attributes = pg_sql.SQL('LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                            'NOREPLICATION NOBYPASSRLS')
    statements = [pg_sql.SQL('{} ROLE {} WITH {} PASSWORD {}').format(
        pg_sql.SQL('ALTER' if exists else 'CREATE'), role, attributes,
        pg_sql.Literal(password))]
    for granted in memberships:
        statements.append(pg_sql.SQL('REVOKE {} FROM {}').format(
            pg_sql.Identifier(granted), role))
    return statements


def database_statements(database: str) -> list[pg_sql.Composed]:
    """Statements that let :data:`modules.MODULE_ROLE` work in
    ``database``: the first in the maintenance database, the others in
    ``database``."""
    role = pg_sql.Identifier(modules.MODULE_ROLE)
    return [
        pg_sql.SQL('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {} TO {}')
        .format(pg_sql.Identifier(database), role),
        pg_sql.SQL('GRANT USAGE, CREATE ON SCHEMA public TO {}').format(role),
        pg_sql.SQL('ALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT SELECT, '
                   'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON TABLES '
                   'TO PUBLIC').format(role),
        pg_sql.SQL('ALTER DEFAULT PRIVILEGES FOR ROLE {} GRANT USAGE, '
                   'SELECT, UPDATE ON SEQUENCES TO PUBLIC').format(role),
    ]


class PostgresqlStatements(modules.Statements):
    """Module statements on a running :class:`PostgresqlLifecycle`."""

    @contextlib.contextmanager
    def _module_connection(self, database: str):
        engine = self.engine
        password = modules.new_password()
        with engine.connect() as admin:
            exists = admin.execute(
                'SELECT 1 FROM pg_roles WHERE rolname = %s',
                (modules.MODULE_ROLE,)).fetchone() is not None
            memberships = [row[0] for row in admin.execute(
                'SELECT g.rolname FROM pg_auth_members m '
                'JOIN pg_roles g ON g.oid = m.roleid '
                'JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s',
                (modules.MODULE_ROLE,))] if exists else []
            for statement in role_statements(password, exists,
                                             memberships):
                admin.execute(statement)
            grants = database_statements(database)
            if not accounts.is_hidden_database(database):
                admin.execute(grants[0])
        try:
            if not accounts.is_hidden_database(database):
                with engine.connect(database) as owner:
                    for statement in grants[1:]:
                        owner.execute(statement)
            with psycopg.connect(host=engine.address, port=engine.port,
                                 user=modules.MODULE_ROLE,
                                 password=password, dbname=database,
                                 connect_timeout=5,
                                 autocommit=True) as connection:
                yield connection
        finally:
            with engine.connect() as admin:
                admin.execute(ROLE_CLOSE)

    def run(self, statements: list[str],
            options: modules.Options = modules.Options()) -> None:
        number = 0
        database = options.database or MAINTENANCE_DATABASE
        try:
            with contextlib.ExitStack() as stack:
                if options.superuser:
                    connection = stack.enter_context(
                        self.engine.connect(database))
                else:
                    connection = stack.enter_context(
                        self._module_connection(database))
                for number, statement in enumerate(statements, 1):
                    connection.execute(statement)
        except psycopg.Error as error:
            raise modules.StatementFailed(
                number, 'PostgreSQL failed: %s' % str(error).strip()
            ) from error
