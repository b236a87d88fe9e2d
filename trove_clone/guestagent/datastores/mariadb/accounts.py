"""Users, databases and root of MariaDB (the mysql and mariadb managers).

The agent works as ``'root'@'localhost'`` over the local socket (the
lifecycle's ``connect()``); users are ``'name'@'host'`` accounts that
clients use over TCP with passwords. Account names and passwords travel as
query parameters (PyMySQL quotes them as string literals, which is what
``'name'@'host'`` and ``IDENTIFIED BY`` take); database names are quoted
as backtick identifiers.
"""
import secrets

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import accounts

#: Accounts the engine or the agent own; never shown, never created.
SYSTEM_USERS = frozenset({'', 'root', 'mariadb.sys', 'mysql', 'PUBLIC'})
#: The prefix of the agent's own accounts.
RESERVED_PREFIX = 'os_'
#: Schemas of the engine itself.
SYSTEM_DATABASES = frozenset({'mysql', 'information_schema',
                              'performance_schema', 'sys'})
DEFAULT_CHARACTER_SET = 'utf8mb4'
DEFAULT_COLLATE = 'utf8mb4_general_ci'
#: Engine errors the request caused: a bad database name (1102), a name
#: too long (1059, 1470), an unknown or mismatched character set or
#: collation (1115, 1253, 1273, 1302).
_REQUEST_ERRORS = frozenset({1059, 1102, 1470, 1115, 1253, 1273, 1302})


def quote_identifier(name: str) -> str:
    """``name`` as a backtick-quoted identifier, safe in any statement."""
    return '`%s`' % name.replace('`', '``')


def _ident(name: str) -> str:
    """:func:`quote_identifier` for a statement PyMySQL formats with
    parameters (its ``%`` doubled); such statements always get a
    parameter tuple, even an empty one."""
    return quote_identifier(name).replace('%', '%%')


def grant_pattern(database: str) -> str:
    """The database name as GRANT matches it: ``_`` and ``%`` are
    wildcards there, so escape them to grant on this database only."""
    escaped = database.replace('\\', '\\\\')
    return escaped.replace('_', '\\_').replace('%', '\\%')


def pattern_name(pattern: str) -> str:
    """The inverse of :func:`grant_pattern`, for names read back from
    the grant tables."""
    name, escaping = [], False
    for char in pattern:
        if char == '\\' and not escaping:
            escaping = True
            continue
        name.append(char)
        escaping = False
    return ''.join(name)


def is_hidden_user(name: str) -> bool:
    """Whether ``name`` is a system, root or agent account."""
    return name in SYSTEM_USERS or name.startswith(RESERVED_PREFIX)


def is_hidden_database(name: str) -> bool:
    """Whether ``name`` is one of the engine's own schemas."""
    return name in SYSTEM_DATABASES


def _check_unique(kind: str, names: list) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise exception.DuplicateInRequest(kind=kind, name=name)
        seen.add(name)


class MariadbAccounts(accounts.Accounts):
    """Accounts of a running MariaDB (a :class:`MariadbLifecycle`)."""

    datastore = 'mysql'
    root_name = 'root'
    #: The host of the remote root account.
    root_host = '%'

    def _cursor(self):
        """A root cursor; see MariadbLifecycle.cursor."""
        return self.engine.cursor(_REQUEST_ERRORS)

    # --- lookups ----------------------------------------------------------

    @staticmethod
    def _database_names(cursor) -> set[str]:
        cursor.execute('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA')
        return {row[0] for row in cursor.fetchall()}

    @staticmethod
    def _user_exists(cursor, name: str, host: str) -> bool:
        cursor.execute("SELECT 1 FROM mysql.user WHERE User = %s AND "
                       "Host = %s AND is_role = 'N'", (name, host))
        return cursor.fetchone() is not None

    def _require_user(self, cursor, name: str, host: str) -> None:
        """UserNotFound unless ``name@host`` is a visible account."""
        if is_hidden_user(name) or not self._user_exists(cursor, name, host):
            raise exception.UserNotFound(name='%s@%s' % (name, host))

    def _require_databases(self, cursor, names: list[str]) -> None:
        existing = self._database_names(cursor)
        for name in names:
            if is_hidden_database(name) or name not in existing:
                raise exception.DatabaseNotFound(name=name)

    def _access(self, cursor, name: str, host: str) -> list[dict]:
        cursor.execute('SELECT Db FROM mysql.db WHERE User = %s AND '
                       'Host = %s', (name, host))
        names = {pattern_name(row[0]) for row in cursor.fetchall()}
        existing = self._database_names(cursor)
        return [{'name': db} for db in sorted(names & existing)
                if not is_hidden_database(db)]

    # --- databases --------------------------------------------------------

    def create_databases(self, databases: list[dict]) -> None:
        """Create each database with its character set and collation
        (utf8mb4 / utf8mb4_general_ci when neither is given); an unknown
        or mismatched one raises BadRequest."""
        _check_unique('databases', [db['name'] for db in databases])
        with self._cursor() as cursor:
            existing = self._database_names(cursor)
            for database in databases:
                name = database['name']
                if name in existing or name.lower() in SYSTEM_DATABASES:
                    raise exception.DatabaseAlreadyExists(
                        name=database['name'])
            for database in databases:
                self._create_database(cursor, database)

    @staticmethod
    def _create_database(cursor, database: dict) -> None:
        charset = database.get('character_set')
        collate = database.get('collate')
        if not charset and not collate:
            charset, collate = DEFAULT_CHARACTER_SET, DEFAULT_COLLATE
        statement = 'CREATE DATABASE %s' % _ident(database['name'])
        params: tuple = ()
        if charset:
            statement += ' CHARACTER SET %s'
            params += (charset,)
        if collate:
            statement += ' COLLATE %s'
            params += (collate,)
        cursor.execute(statement, params)

    def list_databases(self) -> list[dict]:
        with self._cursor() as cursor:
            cursor.execute(
                'SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, '
                'DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA')
            rows = cursor.fetchall()
        return [{'name': name, 'character_set': charset, 'collate': collate}
                for name, charset, collate in sorted(rows)
                if not is_hidden_database(name)]

    def delete_database(self, name: str) -> None:
        """Drop the database and the grants on it, so that a later
        database of the same name does not inherit them."""
        with self._cursor() as cursor:
            self._require_databases(cursor, [name])
            cursor.execute('DROP DATABASE %s' % _ident(name), ())
            cursor.execute('SELECT User, Host FROM mysql.db WHERE Db = %s',
                           (grant_pattern(name),))
            for user, host in cursor.fetchall():
                cursor.execute('REVOKE ALL PRIVILEGES ON %s.* FROM %%s@%%s'
                               % _ident(grant_pattern(name)),
                               (user, host))

    # --- users ------------------------------------------------------------

    def create_users(self, users: list[dict]) -> None:
        _check_unique('users', [(user['name'], user.get('host') or '%')
                                for user in users])
        with self._cursor() as cursor:
            for user in users:
                name, host = user['name'], user.get('host') or '%'
                if is_hidden_user(name):
                    raise exception.InvalidName(
                        kind='user', name=name, reason='the name is reserved')
                if self._user_exists(cursor, name, host):
                    raise exception.UserAlreadyExists(
                        name='%s@%s' % (name, host))
                self._require_databases(
                    cursor, [db['name'] for db in user.get('databases', [])])
            for user in users:
                name, host = user['name'], user.get('host') or '%'
                cursor.execute('CREATE USER %s@%s IDENTIFIED BY %s',
                               (name, host, user['password']))
                for database in user.get('databases', []):
                    self._grant(cursor, name, host, database['name'])

    def list_users(self) -> list[dict]:
        with self._cursor() as cursor:
            cursor.execute("SELECT User, Host FROM mysql.user WHERE "
                           "is_role = 'N' ORDER BY User, Host")
            rows = [row for row in cursor.fetchall()
                    if not is_hidden_user(row[0])]
            return [{'name': name, 'host': host,
                     'databases': self._access(cursor, name, host)}
                    for name, host in rows]

    def get_user(self, name: str, host: str) -> dict:
        host = host or '%'
        with self._cursor() as cursor:
            self._require_user(cursor, name, host)
            return {'name': name, 'host': host,
                    'databases': self._access(cursor, name, host)}

    def delete_user(self, name: str, host: str) -> None:
        host = host or '%'
        with self._cursor() as cursor:
            self._require_user(cursor, name, host)
            cursor.execute('DROP USER %s@%s', (name, host))

    def change_passwords(self, users: list[dict]) -> None:
        with self._cursor() as cursor:
            for user in users:
                self._require_user(cursor, user['name'],
                                   user.get('host') or '%')
            for user in users:
                cursor.execute('ALTER USER %s@%s IDENTIFIED BY %s',
                               (user['name'], user.get('host') or '%',
                                user['password']))

    def update_attributes(self, name: str, host: str,
                          attributes: dict) -> None:
        """Rename (RENAME USER keeps the grants) and/or set the password."""
        host = host or '%'
        new_name = attributes.get('name') or name
        new_host = attributes.get('host') or host
        with self._cursor() as cursor:
            self._require_user(cursor, name, host)
            if (new_name, new_host) != (name, host):
                if is_hidden_user(new_name):
                    raise exception.InvalidName(
                        kind='user', name=new_name,
                        reason='the name is reserved')
                if self._user_exists(cursor, new_name, new_host):
                    raise exception.UserAlreadyExists(
                        name='%s@%s' % (new_name, new_host))
                cursor.execute('RENAME USER %s@%s TO %s@%s',
                               (name, host, new_name, new_host))
            if attributes.get('password'):
                cursor.execute('ALTER USER %s@%s IDENTIFIED BY %s',
                               (new_name, new_host, attributes['password']))

    # --- access -----------------------------------------------------------

    @staticmethod
    def _grant(cursor, name: str, host: str, database: str) -> None:
        cursor.execute('GRANT ALL PRIVILEGES ON %s.* TO %%s@%%s'
                       % _ident(grant_pattern(database)),
                       (name, host))

    def grant_access(self, name: str, host: str,
                     databases: list[str]) -> None:
        host = host or '%'
        with self._cursor() as cursor:
            self._require_user(cursor, name, host)
            self._require_databases(cursor, databases)
            for database in databases:
                self._grant(cursor, name, host, database)

    def revoke_access(self, name: str, host: str, database: str) -> None:
        """Revoke every privilege on ``database``; a no-op when the user
        has none there, DatabaseNotFound when it does not exist either."""
        host = host or '%'
        with self._cursor() as cursor:
            self._require_user(cursor, name, host)
            cursor.execute('SELECT 1 FROM mysql.db WHERE User = %s AND '
                           'Host = %s AND Db = %s',
                           (name, host, grant_pattern(database)))
            if cursor.fetchone() is None:
                self._require_databases(cursor, [database])
                return
            cursor.execute('REVOKE ALL PRIVILEGES ON %s.* FROM %%s@%%s'
                           % _ident(grant_pattern(database)),
                           (name, host))

    def list_access(self, name: str, host: str) -> list[dict]:
        """The existing databases the user holds privileges on (from the
        grant table behind information_schema.SCHEMA_PRIVILEGES)."""
        host = host or '%'
        with self._cursor() as cursor:
            self._require_user(cursor, name, host)
            return self._access(cursor, name, host)

    # --- root -------------------------------------------------------------

    def enable_root(self, password: str | None = None) -> dict:
        """Create or reset ``'root'@'%'`` with every privilege; the
        socket-authenticated ``'root'@'localhost'`` of the agent stays."""
        password = password or secrets.token_urlsafe(18)
        with self._cursor() as cursor:
            if self._user_exists(cursor, 'root', self.root_host):
                cursor.execute('ALTER USER %s@%s IDENTIFIED BY %s',
                               ('root', self.root_host, password))
            else:
                cursor.execute('CREATE USER %s@%s IDENTIFIED BY %s',
                               ('root', self.root_host, password))
            cursor.execute('GRANT ALL PRIVILEGES ON *.* TO %s@%s '
                           'WITH GRANT OPTION', ('root', self.root_host))
        return {'name': self.root_name, 'password': password}

    def disable_root(self) -> None:
        """Drop ``'root'@'%'``; RootNotEnabled when there is none."""
        with self._cursor() as cursor:
            if not self._user_exists(cursor, 'root', self.root_host):
                raise exception.RootNotEnabled()
            cursor.execute('DROP USER %s@%s', ('root', self.root_host))

    def is_root_enabled(self) -> bool:
        with self._cursor() as cursor:
            return self._user_exists(cursor, 'root', self.root_host)
