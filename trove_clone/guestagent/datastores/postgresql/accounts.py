"""Users, databases and root of PostgreSQL.

The agent works as the ``postgres`` superuser over the private local
socket (peer authentication); users are LOGIN roles that clients use
over TCP with scram-sha-256 passwords. Roles have no host: views show
``'%'`` and host arguments are ignored. Names are quoted with
``sql.Identifier``; passwords, which utility statements cannot take as
parameters, with ``sql.Literal``.

New databases do not let PUBLIC connect: a user reaches a database only
once granted access to it, and loses it when the access is revoked.
"""
import contextlib
import secrets
from typing import Iterator

import psycopg
from psycopg import errors
from psycopg import sql

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import accounts
from trove_clone.guestagent.capabilities import lifecycle as base

#: Prefixes of the engine's and the agent's roles.
RESERVED_PREFIXES = ('pg_', 'os_')
#: The engine's own superuser (the agent's peer login over its socket).
SUPERUSER = 'postgres'
#: The superuser a tenant gets from root-enable, as Trove names it.
ROOT_USER = 'root'
#: What root-enable grants ``root``.
ROOT_ATTRIBUTES = ('SUPERUSER CREATEDB CREATEROLE INHERIT REPLICATION '
                   'BYPASSRLS LOGIN')
#: The maintenance database and the templates.
SYSTEM_DATABASES = frozenset({'postgres', 'template0', 'template1'})
HOST = '%'
#: The longest identifier (NAMEDATALEN - 1).
MAX_NAME_BYTES = 63
#: SQLSTATE classes of errors a request's values cause.
REQUEST_CLASSES = frozenset({'0A', '22', '42'})


def is_hidden_user(name: str) -> bool:
    """Whether ``name`` is a superuser, an engine or an agent role."""
    return name in (SUPERUSER, ROOT_USER) or \
        name.startswith(RESERVED_PREFIXES)


def is_hidden_database(name: str) -> bool:
    """Whether ``name`` is the maintenance database or a template."""
    return name in SYSTEM_DATABASES


def check_name(kind: str, name: str) -> None:
    """InvalidName unless ``name`` fits an identifier (PostgreSQL would
    silently cut a longer one) and, for a user, is not reserved."""
    if not name or len(name.encode('utf-8')) > MAX_NAME_BYTES:
        raise exception.InvalidName(
            kind=kind, name=name,
            reason='it must have 1 to %d bytes' % MAX_NAME_BYTES)
    if not name.isprintable():
        # "postgres\n" is another role than the superuser, but no one
        # means that: control characters are refused, not just NUL.
        raise exception.InvalidName(
            kind=kind, name=name, reason='it has a control character')
    if kind == 'user' and is_hidden_user(name):
        raise exception.InvalidName(kind=kind, name=name,
                                    reason='the name is reserved')


def _check_unique(kind: str, names: list[str]) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise exception.DuplicateInRequest(kind=kind, name=name)
        seen.add(name)


class PostgresqlAccounts(accounts.Accounts):
    """Accounts of a running PostgreSQL (a :class:`PostgresqlLifecycle`)."""

    datastore = 'postgresql'
    root_name = ROOT_USER

    @contextlib.contextmanager
    def _connection(self, dbname: str = 'postgres'
                    ) -> Iterator[psycopg.Connection]:
        """A superuser connection in autocommit to ``dbname``; engine
        failures become :class:`base.EngineError` with the engine's
        message."""
        try:
            connection = self.engine.connect(dbname)
        except psycopg.Error as error:
            raise base.EngineError('PostgreSQL cannot be reached: %s'
                                   % error) from error
        try:
            with connection:
                yield connection
        except psycopg.Error as error:
            raise base.EngineError('PostgreSQL failed: %s'
                                   % str(error).strip()) from error

    # --- lookups ----------------------------------------------------------

    @staticmethod
    def _database_names(connection) -> set[str]:
        rows = connection.execute('SELECT datname FROM pg_database')
        return {row[0] for row in rows}

    @staticmethod
    def _role_exists(connection, name: str,
                     login_only: bool = False) -> bool:
        query = 'SELECT 1 FROM pg_roles WHERE rolname = %s'
        if login_only:
            query += ' AND rolcanlogin'
        return connection.execute(query, (name,)).fetchone() is not None

    def _require_user(self, connection, name: str) -> None:
        if is_hidden_user(name) or not self._role_exists(
                connection, name, login_only=True):
            raise exception.UserNotFound(name=name)

    def _require_databases(self, connection, names: list[str]) -> None:
        existing = self._database_names(connection)
        for name in names:
            if is_hidden_database(name) or name not in existing:
                raise exception.DatabaseNotFound(name=name)

    @staticmethod
    def _access(connection, name: str) -> list[dict]:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND "
            "(has_database_privilege(%s, datname, 'CREATE') OR "
            "pg_get_userbyid(datdba) = %s) ORDER BY datname", (name, name))
        return [{'name': row[0]} for row in rows
                if not is_hidden_database(row[0])]

    # --- databases --------------------------------------------------------

    def create_databases(self, databases: list[dict]) -> None:
        """Create each database (from template0 with ENCODING and
        LC_COLLATE/LC_CTYPE when a character set or collation is given);
        an unknown one raises BadRequest."""
        _check_unique('databases', [db['name'] for db in databases])
        for database in databases:
            check_name('database', database['name'])
        with self._connection() as connection:
            existing = self._database_names(connection)
            for database in databases:
                if database['name'] in existing | SYSTEM_DATABASES:
                    raise exception.DatabaseAlreadyExists(
                        name=database['name'])
            for database in databases:
                try:
                    connection.execute(self._create_statement(database))
                except psycopg.Error as error:
                    # Data, feature or syntax/rule classes: existence was
                    # checked, so the encoding or locale asked is at fault.
                    if (error.sqlstate or '')[:2] not in REQUEST_CLASSES:
                        raise
                    raise exception.BadRequest('Database %s: %s' % (
                        database['name'], error.diag.message_primary
                        or error)) from error
                connection.execute(sql.SQL(
                    'REVOKE ALL ON DATABASE {} FROM PUBLIC').format(
                        sql.Identifier(database['name'])))

    @staticmethod
    def _create_statement(database: dict) -> sql.Composed:
        parts = [sql.SQL('CREATE DATABASE {}').format(
            sql.Identifier(database['name']))]
        charset = database.get('character_set')
        collate = database.get('collate')
        if charset or collate:
            parts.append(sql.SQL('TEMPLATE template0'))
        if charset:
            parts.append(sql.SQL('ENCODING {}').format(sql.Literal(charset)))
        if collate:
            parts.append(sql.SQL('LC_COLLATE {0} LC_CTYPE {0}').format(
                sql.Literal(collate)))
        return sql.SQL(' ').join(parts)

    def list_databases(self) -> list[dict]:
        with self._connection() as connection:
            rows = connection.execute(
                'SELECT datname, pg_encoding_to_char(encoding), datcollate '
                'FROM pg_database WHERE NOT datistemplate ORDER BY datname'
            ).fetchall()
        return [{'name': name, 'character_set': charset, 'collate': collate}
                for name, charset, collate in rows
                if not is_hidden_database(name)]

    def delete_database(self, name: str) -> None:
        """Drop the database, disconnecting its clients."""
        with self._connection() as connection:
            self._require_databases(connection, [name])
            connection.execute(sql.SQL('DROP DATABASE {} WITH (FORCE)')
                               .format(sql.Identifier(name)))

    # --- users ------------------------------------------------------------

    def create_users(self, users: list[dict]) -> None:
        _check_unique('users', [user['name'] for user in users])
        for user in users:
            check_name('user', user['name'])
        with self._connection() as connection:
            for user in users:
                if self._role_exists(connection, user['name']):
                    raise exception.UserAlreadyExists(name=user['name'])
                self._require_databases(connection, [
                    db['name'] for db in user.get('databases', [])])
            for user in users:
                connection.execute(sql.SQL(
                    'CREATE ROLE {} WITH LOGIN PASSWORD {}').format(
                        sql.Identifier(user['name']),
                        sql.Literal(user['password'])))
        for user in users:
            databases = [db['name'] for db in user.get('databases', [])]
            if databases:
                self.grant_access(user['name'], HOST, databases)

    def list_users(self) -> list[dict]:
        with self._connection() as connection:
            names = [row[0] for row in connection.execute(
                'SELECT rolname FROM pg_roles WHERE rolcanlogin '
                'ORDER BY rolname') if not is_hidden_user(row[0])]
            return [{'name': name, 'host': HOST,
                     'databases': self._access(connection, name)}
                    for name in names]

    def get_user(self, name: str, host: str) -> dict:
        with self._connection() as connection:
            self._require_user(connection, name)
            return {'name': name, 'host': HOST,
                    'databases': self._access(connection, name)}

    @staticmethod
    def _owned_in(connection, name: str) -> list[str]:
        """The databases holding objects ``name`` owns (from the shared
        dependency catalog; a database it owns counts too)."""
        rows = connection.execute(
            "SELECT DISTINCT coalesce(d.datname, o.datname) "
            "FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid "
            "LEFT JOIN pg_database o ON s.dbid = 0 AND o.oid = s.objid "
            "AND s.classid = 'pg_database'::regclass "
            "WHERE s.deptype = 'o' AND s.refobjid = "
            "(SELECT oid FROM pg_roles WHERE rolname = %s)", (name,))
        return sorted(str(row[0]) for row in rows)

    def delete_user(self, name: str, host: str) -> None:
        """Hand what the user owns to the superuser (no data is lost with
        a user), revoke its access to each database, then drop the role."""
        with self._connection() as connection:
            self._require_user(connection, name)
            owned = self._owned_in(connection, name)
            databases = [db['name'] for db in self._access(connection, name)]
        for database in owned:
            with self._connection(database) as connection:
                connection.execute(sql.SQL(
                    'REASSIGN OWNED BY {} TO postgres').format(
                    sql.Identifier(name)))
                connection.execute(sql.SQL('DROP OWNED BY {}').format(
                    sql.Identifier(name)))
        for database in databases:
            self.revoke_access(name, host, database)
        with self._connection() as connection:
            try:
                connection.execute(sql.SQL('DROP ROLE {}').format(
                    sql.Identifier(name)))
            except errors.DependentObjectsStillExist as error:
                detail = error.diag.message_detail or str(error)
                raise exception.BadRequest(
                    'User %s cannot be deleted: it still holds privileges '
                    'granted by others (%s); revoke them first.'
                    % (name, detail.replace('\n', '; '))) from error

    def change_passwords(self, users: list[dict]) -> None:
        with self._connection() as connection:
            for user in users:
                self._require_user(connection, user['name'])
            for user in users:
                self._set_password(connection, user['name'],
                                   user['password'])

    @staticmethod
    def _set_password(connection, name: str, password: str | None) -> None:
        connection.execute(sql.SQL('ALTER ROLE {} WITH PASSWORD {}').format(
            sql.Identifier(name), sql.Literal(password)))

    def update_attributes(self, name: str, host: str,
                          attributes: dict) -> None:
        """Rename the role (its grants and its scram password stay) and/or
        set its password; a new host means nothing here."""
        new_name = attributes.get('name') or name
        with self._connection() as connection:
            self._require_user(connection, name)
            if new_name != name:
                check_name('user', new_name)
                if self._role_exists(connection, new_name):
                    raise exception.UserAlreadyExists(name=new_name)
                connection.execute(sql.SQL('ALTER ROLE {} RENAME TO {}')
                                   .format(sql.Identifier(name),
                                           sql.Identifier(new_name)))
            if attributes.get('password'):
                self._set_password(connection, new_name,
                                   attributes['password'])

    # --- access -----------------------------------------------------------

    def grant_access(self, name: str, host: str,
                     databases: list[str]) -> None:
        """Every privilege on each database, and on its ``public`` schema
        (where PostgreSQL 15+ lets only the owner create by default)."""
        with self._connection() as connection:
            self._require_user(connection, name)
            self._require_databases(connection, databases)
            for database in databases:
                connection.execute(sql.SQL(
                    'GRANT ALL PRIVILEGES ON DATABASE {} TO {}').format(
                        sql.Identifier(database), sql.Identifier(name)))
        for database in databases:
            with self._connection(database) as connection:
                connection.execute(sql.SQL(
                    'GRANT ALL ON SCHEMA public TO {}').format(
                        sql.Identifier(name)))

    def revoke_access(self, name: str, host: str, database: str) -> None:
        """Revoke the privileges on the database and its ``public``
        schema granted by :meth:`grant_access`."""
        with self._connection() as connection:
            self._require_user(connection, name)
            self._require_databases(connection, [database])
            connection.execute(sql.SQL(
                'REVOKE ALL PRIVILEGES ON DATABASE {} FROM {}').format(
                    sql.Identifier(database), sql.Identifier(name)))
        with self._connection(database) as connection:
            connection.execute(sql.SQL(
                'REVOKE ALL ON SCHEMA public FROM {}').format(
                    sql.Identifier(name)))

    def list_access(self, name: str, host: str) -> list[dict]:
        """The databases the user may create in, or owns."""
        with self._connection() as connection:
            self._require_user(connection, name)
            return self._access(connection, name)

    # --- root -------------------------------------------------------------

    def enable_root(self, password: str | None = None) -> dict:
        """Create (or log in again) the superuser ``root`` with a new
        password, as Trove's PostgreSQL guest does; ``postgres`` keeps
        only the agent's peer login (a password an older release gave it
        is removed)."""
        password = password or secrets.token_urlsafe(18)
        with self._connection() as connection:
            verb = 'ALTER' if self._role_exists(connection, ROOT_USER) \
                else 'CREATE'
            connection.execute(sql.SQL(
                verb + ' ROLE {} WITH ' + ROOT_ATTRIBUTES +
                ' PASSWORD {}').format(sql.Identifier(ROOT_USER),
                                       sql.Literal(password)))
            self._set_password(connection, SUPERUSER, None)
        return {'name': ROOT_USER, 'password': password}

    def disable_root(self) -> None:
        """``root`` can no longer log in (the role and what it owns stay);
        RootNotEnabled when it could not."""
        with self._connection() as connection:
            if not self._root_enabled(connection):
                raise exception.RootNotEnabled()
            if self._role_exists(connection, ROOT_USER):
                connection.execute(sql.SQL(
                    'ALTER ROLE {} WITH NOLOGIN PASSWORD NULL').format(
                    sql.Identifier(ROOT_USER)))
            self._set_password(connection, SUPERUSER, None)

    @staticmethod
    def _root_enabled(connection) -> bool:
        """``root`` may log in with a password (or, from an older
        release, ``postgres`` has a password)."""
        row = connection.execute(
            'SELECT bool_or(CASE WHEN rolname = %s THEN rolcanlogin AND '
            'rolpassword IS NOT NULL ELSE rolpassword IS NOT NULL END) '
            'FROM pg_authid WHERE rolname IN (%s, %s)',
            (ROOT_USER, ROOT_USER, SUPERUSER)).fetchone()
        return bool(row and row[0])

    def is_root_enabled(self) -> bool:
        with self._connection() as connection:
            return self._root_enabled(connection)
