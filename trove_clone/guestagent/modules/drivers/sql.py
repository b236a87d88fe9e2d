"""The ``sql`` module type: statements run on the engine by the agent as
a restricted role of its own (:data:`MODULE_ROLE`), never as the engine's
superuser unless an administrator's module asks for it.

The contents have two sections::

    -- apply
    CREATE TABLE appdb.audit (id INT);
    -- remove
    DROP TABLE appdb.audit;

Lines before any marker belong to ``apply``; a marker is a line
``-- apply`` or ``-- remove`` (case and spaces ignored). Other lines that
start with ``--`` are comments and dropped.

* mysql / mariadb: a statement ends with ``;`` at the end of a line. They
  run in one session (so a ``USE`` carries over); as the superuser, root's
  over the local socket (:meth:`MariadbLifecycle.cursor`).
* postgresql: the same statements, in one session in autocommit (so that
  ``CREATE DATABASE`` works for the superuser); as the superuser,
  ``postgres``'s over the private socket
  (:meth:`PostgresqlLifecycle.connect`).
* redis: each line is one command, split as a shell would (quotes keep
  spaces); lines starting with ``#`` are comments.

Directives are ``-- trove:`` comment lines at the top of the contents
(before any statement or marker; :func:`directives`):

* ``-- trove: run_as_superuser``: run as the engine's administrator, as
  described below. Honoured only in a module created by an administrator
  (its payload's ``is_admin``); in any other module the run is refused
  with ERROR.
* ``-- trove: database NAME`` (postgresql): the database the session
  opens (default ``postgres``).

Without ``run_as_superuser`` the statements run on a connection of their
own, logged in as :data:`MODULE_ROLE` with a random password set just
before the run and taken away after it (``SET ROLE`` inside a superuser
session would not do: the module could ``RESET ROLE``):

* mysql / mariadb: ``'os_module'@'localhost'`` over the local socket,
  ``ALL`` on each tenant database (not ``mysql``, ``sys``, the schemas),
  no global privilege (no ``FILE``, ``SUPER``, ``PROCESS``,
  ``SHUTDOWN``, ``CREATE USER``, ``GRANT OPTION``).
* postgresql: a ``LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS`` role, member of no role (so not of
  ``pg_execute_server_program``, ``pg_read_server_files``,
  ``pg_write_server_files``, ``pg_read_all_*``), over TCP with
  scram-sha-256; ``CONNECT``, ``CREATE``, ``TEMPORARY`` on the database it
  opens (a tenant's, not a system one), ``USAGE, CREATE`` on its
  ``public`` schema, and the tables it creates there are readable and
  writable by whoever may connect to that database (default privileges
  to ``PUBLIC``; PUBLIC cannot connect to a tenant database); they are
  owned by the role, so the tenant's users cannot drop or alter them.
* redis: an ACL user ``+@all -@admin -@dangerous`` on every key.

``os_`` names are the agent's: tenants cannot see, create or drop them.

Statements run in order, each committed on its own: the first failure
stops the run and the result is ERROR with the engine's message; the
statements before it stay done (MariaDB cannot roll DDL back), so write
remove statements that tolerate a partial apply (``IF EXISTS``).
"""
import contextlib
import dataclasses
import re
import secrets
import shlex
from typing import Any, Callable

import psycopg
from psycopg import sql as pg_sql
import pymysql
import redis

from trove_clone.guestagent.datastores import base as lifecycle_base
from trove_clone.guestagent.datastores import mariadb
from trove_clone.guestagent.datastores import mariadb_accounts
from trove_clone.guestagent.datastores import postgresql
from trove_clone.guestagent.datastores import postgresql_accounts
from trove_clone.guestagent.datastores import redis as redis_lifecycle
from trove_clone.guestagent.modules import base

MARKER = re.compile(r'^\s*--\s*(apply|remove)\s*$', re.IGNORECASE)
#: Seconds a Redis command may take.
REDIS_TIMEOUT = 30
#: A directive line: ``-- trove: NAME [VALUE]``.
DIRECTIVE = re.compile(r'^\s*--\s*trove:\s*([A-Za-z_]+)(?:\s+(\S+))?\s*$',
                       re.IGNORECASE)
#: The directive that asks for the engine's superuser.
RUN_AS_SUPERUSER = 'run_as_superuser'
#: The directives the driver knows (others are an error: a typo must not
#: silently change what runs).
KNOWN_DIRECTIVES = frozenset({RUN_AS_SUPERUSER, 'database'})
#: The restricted role modules run as (``os_``: reserved to the agent).
MODULE_ROLE = 'os_module'
#: The database a PostgreSQL module opens without a database directive.
MAINTENANCE_DATABASE = 'postgres'
#: The host of the MariaDB account (it logs in over the local socket).
MODULE_ROLE_HOST = 'localhost'
#: The ACL rules of the Redis user besides its password.
REDIS_MODULE_RULES = ('reset', 'on', '~*', '&*', '+@all', '-@admin',
                      '-@dangerous')


class StatementFailed(Exception):
    """Statement ``number`` (1-based; 0: before the first one) failed."""

    def __init__(self, number: int, reason: str) -> None:
        self.number = number
        self.reason = reason
        super().__init__(reason)


class RefusedDirective(Exception):
    """The contents hold a directive this module may not use."""


def directives(text: str) -> dict[str, str]:
    """The ``-- trove:`` directive lines at the top of ``text`` (before
    the first line that is neither blank nor one), ``{name: value}``
    (value ``''`` for a flag); ValueError for an unknown one."""
    found = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        directive = DIRECTIVE.match(line)
        if directive is None:
            break
        name = directive.group(1).lower()
        if name not in KNOWN_DIRECTIVES:
            raise ValueError('unknown directive "-- trove: %s" (known: %s)'
                             % (name, ', '.join(sorted(KNOWN_DIRECTIVES))))
        found[name] = directive.group(2) or ''
    return found


def runs_as_superuser(payload: dict, found: dict[str, str]) -> bool:
    """Whether the module runs as the engine's superuser: it says
    ``-- trove: run_as_superuser`` and an administrator made it
    (``is_admin``, which only an administrator can set or keep).

    :raises RefusedDirective: the directive in a module that is not an
        administrator's
    """
    if RUN_AS_SUPERUSER not in found:
        return False
    if payload.get('is_admin') is not True:
        raise RefusedDirective(
            'The directive "-- trove: %s" is honoured only in a module '
            'created by an administrator (without full_access); this '
            'module is not one, so nothing ran.' % RUN_AS_SUPERUSER)
    return True


def new_password() -> str:
    """A random password for one run of the module role."""
    return secrets.token_urlsafe(32)


def mariadb_role_statements(password: str, databases: list[str]
                            ) -> list[tuple[str, tuple]]:
    """``(statement, arguments)`` that make :data:`MODULE_ROLE` a
    restricted account with ``password``: no global privilege, ``ALL`` on
    each of ``databases`` (the tenant's)."""
    account = (MODULE_ROLE, MODULE_ROLE_HOST)
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
            % mariadb_accounts.quote_identifier(
                mariadb_accounts.grant_pattern(database)).replace('%', '%%'),
            account))
    return statements


#: What the MariaDB account gets after a run: no way in.
MARIADB_ROLE_CLOSE = ('ALTER USER %s@%s ACCOUNT LOCK',
                      (MODULE_ROLE, MODULE_ROLE_HOST))


def postgresql_role_statements(password: str, exists: bool,
                               memberships: list[str]
                               ) -> list[pg_sql.Composed]:
    """The statements (in the maintenance database) that make
    :data:`MODULE_ROLE` a restricted LOGIN role with ``password``,
    member of none of ``memberships`` (the roles it is in now)."""
    role = pg_sql.Identifier(MODULE_ROLE)
    attributes = pg_sql.SQL('LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                            'NOREPLICATION NOBYPASSRLS')
    statements = [pg_sql.SQL('{} ROLE {} WITH {} PASSWORD {}').format(
        pg_sql.SQL('ALTER' if exists else 'CREATE'), role, attributes,
        pg_sql.Literal(password))]
    for granted in memberships:
        statements.append(pg_sql.SQL('REVOKE {} FROM {}').format(
            pg_sql.Identifier(granted), role))
    return statements


def postgresql_database_statements(database: str) -> list[pg_sql.Composed]:
    """Statements that let :data:`MODULE_ROLE` work in ``database``: the
    first in the maintenance database, the others in ``database``."""
    role = pg_sql.Identifier(MODULE_ROLE)
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


#: What the PostgreSQL role gets after a run: no password, no way in.
POSTGRESQL_ROLE_CLOSE = pg_sql.SQL('ALTER ROLE {} WITH PASSWORD NULL').format(
    pg_sql.Identifier(MODULE_ROLE))


def redis_role_command(password: str) -> list[str]:
    """The ``ACL SETUSER`` that makes the restricted user with
    ``password`` (every earlier rule reset)."""
    return ['ACL', 'SETUSER', MODULE_ROLE] + list(REDIS_MODULE_RULES) + [
        '>' + password]


#: What the Redis user gets after a run.
REDIS_ROLE_CLOSE = ['ACL', 'SETUSER', MODULE_ROLE, 'reset', 'off']


def sections(text: str) -> dict[str, list[str]]:
    """``{'apply': lines, 'remove': lines}`` of the contents ``text``."""
    found: dict[str, list[str]] = {'apply': [], 'remove': []}
    current = 'apply'
    for line in text.splitlines():
        marker = MARKER.match(line)
        if marker:
            current = marker.group(1).lower()
        else:
            found[current].append(line)
    return found


def sql_statements(lines: list[str]) -> list[str]:
    """The statements of ``lines``: each ends with ``;`` at the end of a
    line (the ``;`` left out); a last one may lack it. ``--`` comment
    lines and blank statements are dropped."""
    statements, pending = [], []
    for line in lines:
        if line.strip().startswith('--'):
            continue
        pending.append(line)
        if line.rstrip().endswith(';'):
            statements.append('\n'.join(pending).rstrip()[:-1])
            pending = []
    statements.append('\n'.join(pending))
    return [statement.strip() for statement in statements
            if statement.strip()]


def redis_commands(lines: list[str]) -> list[list[str]]:
    """One command (its words, shell-split) per line that is neither
    blank nor a ``#`` / ``--`` comment; ValueError for bad quoting."""
    commands = []
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith(('#', '--')):
            commands.append(shlex.split(stripped))
    return commands


@dataclasses.dataclass(frozen=True)
class Options:
    """How one run logs in: as the superuser or the module role, and
    the database it opens (postgresql; None: the maintenance one)."""
    superuser: bool = False
    database: str | None = None


def _mariadb_session(engine: mariadb.MariadbLifecycle,
                     options: Options) -> contextlib.AbstractContextManager:
    """The cursor statements run in: root's, or the module account's
    (made ready first, locked again when the session ends)."""
    if options.superuser:
        return engine.cursor()
    return _mariadb_module_cursor(engine)


@contextlib.contextmanager
def _mariadb_module_cursor(engine: mariadb.MariadbLifecycle):
    password = new_password()
    with engine.cursor() as cursor:
        cursor.execute('SHOW DATABASES')
        databases = [row[0] for row in cursor.fetchall()
                     if not mariadb_accounts.is_hidden_database(row[0])]
        for statement, arguments in mariadb_role_statements(password,
                                                            databases):
            cursor.execute(statement, arguments)
    try:
        try:
            connection = pymysql.connect(
                unix_socket=engine.socket_path, user=MODULE_ROLE,
                password=password, connect_timeout=2, autocommit=True)
        except pymysql.Error as error:
            raise lifecycle_base.EngineError(
                'MariaDB cannot be reached as %s: %s'
                % (MODULE_ROLE, error.args[-1])) from error
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
            cursor.execute(*MARIADB_ROLE_CLOSE)


def _run_mariadb(engine: mariadb.MariadbLifecycle,
                 statements: list[str], options: Options = Options()
                 ) -> None:
    number = 0
    try:
        with _mariadb_session(engine, options) as cursor:
            for number, statement in enumerate(statements, 1):
                # No arguments: PyMySQL leaves '%' in the statement alone.
                cursor.execute(statement)
    except lifecycle_base.EngineError as error:
        raise StatementFailed(number, error.message) from error


@contextlib.contextmanager
def _postgresql_module_connection(engine: postgresql.PostgresqlLifecycle,
                                  database: str):
    password = new_password()
    with engine.connect() as admin:
        exists = admin.execute('SELECT 1 FROM pg_roles WHERE rolname = %s',
                               (MODULE_ROLE,)).fetchone() is not None
        memberships = [row[0] for row in admin.execute(
            'SELECT g.rolname FROM pg_auth_members m '
            'JOIN pg_roles g ON g.oid = m.roleid '
            'JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = %s',
            (MODULE_ROLE,))] if exists else []
        for statement in postgresql_role_statements(password, exists,
                                                    memberships):
            admin.execute(statement)
        grants = postgresql_database_statements(database)
        if not postgresql_accounts.is_hidden_database(database):
            admin.execute(grants[0])
    try:
        if not postgresql_accounts.is_hidden_database(database):
            with engine.connect(database) as owner:
                for statement in grants[1:]:
                    owner.execute(statement)
        with psycopg.connect(host=engine.address, port=engine.port,
                             user=MODULE_ROLE, password=password,
                             dbname=database, connect_timeout=5,
                             autocommit=True) as connection:
            yield connection
    finally:
        with engine.connect() as admin:
            admin.execute(POSTGRESQL_ROLE_CLOSE)


def _run_postgresql(engine: postgresql.PostgresqlLifecycle,
                    statements: list[str], options: Options = Options()
                    ) -> None:
    number = 0
    database = options.database or MAINTENANCE_DATABASE
    try:
        with contextlib.ExitStack() as stack:
            if options.superuser:
                connection = stack.enter_context(engine.connect(database))
            else:
                connection = stack.enter_context(
                    _postgresql_module_connection(engine, database))
            for number, statement in enumerate(statements, 1):
                connection.execute(statement)
    except psycopg.Error as error:
        raise StatementFailed(number, 'PostgreSQL failed: %s'
                              % str(error).strip()) from error


def _run_redis(engine: redis_lifecycle.RedisLifecycle,
               commands: list[list[str]], options: Options = Options()
               ) -> None:
    admin = engine.client(timeout=REDIS_TIMEOUT)
    number = 0
    try:
        if options.superuser:
            client = admin
        else:
            password = new_password()
            admin.execute_command(*redis_role_command(password))
            client = redis.Redis(
                host=engine.address, port=engine.port, username=MODULE_ROLE,
                password=password, socket_timeout=REDIS_TIMEOUT,
                socket_connect_timeout=5)
        try:
            for number, command in enumerate(commands, 1):
                client.execute_command(*command)
        finally:
            if client is not admin:
                client.close()
                admin.execute_command(*REDIS_ROLE_CLOSE)
    except redis.RedisError as error:
        raise StatementFailed(number, 'Redis failed: %s' % error) from error
    finally:
        admin.close()


@dataclasses.dataclass(frozen=True)
class Dialect:
    """How statements are split and run on one kind of engine."""
    lifecycle: type
    noun: str
    split: Callable[[list[str]], list[Any]]
    run: Callable[[Any, list[Any], Options], None]


DIALECTS = (
    Dialect(mariadb.MariadbLifecycle, 'statement', sql_statements,
            _run_mariadb),
    Dialect(postgresql.PostgresqlLifecycle, 'statement', sql_statements,
            _run_postgresql),
    Dialect(redis_lifecycle.RedisLifecycle, 'command', redis_commands,
            _run_redis),
)


def dialect(engine: lifecycle_base.Lifecycle) -> Dialect | None:
    """The dialect of ``engine``, None for an engine without one."""
    for candidate in DIALECTS:
        if isinstance(engine, candidate.lifecycle):
            return candidate
    return None


class SqlDriver(base.ModuleDriver):

    description = ('Runs the statements of its "-- apply" section as a '
                   'restricted role of the agent (the engine\'s '
                   'administrative user for an administrator\'s module '
                   'that starts with "-- trove: run_as_superuser"); '
                   'removing runs its "-- remove" section (mysql, mariadb, '
                   'postgresql, redis).')

    def apply(self, payload: dict, data: bytes,
              engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Run the apply statements; OK, or ERROR with the engine's
        message for the first that fails (and for no statements)."""
        return self._run('apply', payload, data, engine)

    def remove(self, payload: dict, data: bytes,
               engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Run the remove statements (none: nothing to undo, OK)."""
        return self._run('remove', payload, data, engine)

    @staticmethod
    def _run(section: str, payload: dict, data: bytes,
             engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        chosen = dialect(engine)
        if chosen is None:
            return base.ERROR, ('The sql module type cannot run statements '
                                'on this datastore (%s).'
                                % type(engine).__name__)
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            return base.ERROR, "The sql module's contents are not UTF-8."
        try:
            found = directives(text)
            options = Options(superuser=runs_as_superuser(payload, found),
                              database=found.get('database') or None)
        except RefusedDirective as refused:
            return base.ERROR, str(refused)
        except ValueError as error:
            return base.ERROR, 'The module cannot be read: %s' % error
        try:
            statements = chosen.split(sections(text)[section])
        except ValueError as error:
            return base.ERROR, ('The %s section cannot be read: %s'
                                % (section, error))
        if not statements:
            if section == 'remove':
                return base.OK, 'Module removed (no remove statements).'
            return base.ERROR, ('The module has no statements to apply: '
                                'write them before or after "-- apply".')
        try:
            chosen.run(engine, statements, options)
        except StatementFailed as failure:
            if not failure.number:
                return base.ERROR, failure.reason
            return base.ERROR, ('%s %d of %d failed: %s' % (
                chosen.noun.capitalize(), failure.number, len(statements),
                failure.reason))
        return base.OK, '%s: ran %d %s(s)%s.' % (
            'Applied' if section == 'apply' else 'Removed', len(statements),
            chosen.noun, ' as the superuser' if options.superuser else '')
