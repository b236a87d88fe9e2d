"""The sql module type on fake engines: sections, directives, the
statements of each engine's restricted role, runs as the role or the
superuser, and errors that name the statement."""
import fixtures
import psycopg
import pymysql
import redis

from trove_clone.guestagent.capabilities import modules as capability
from trove_clone.guestagent.datastores.mariadb import lifecycle as mariadb
from trove_clone.guestagent.datastores.mariadb import modules as \
    mariadb_modules
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql
from trove_clone.guestagent.datastores.postgresql import modules as \
    postgresql_modules
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.guestagent.datastores.redis import modules as redis_modules
from trove_clone.guestagent.modules.drivers import sql
from trove_clone.tests.unit import base as test_base
from trove_clone.tests.unit.guestagent.modules import test_manager

#: The directive of an administrator's module that needs the superuser.
SUPERUSER = test_manager.SUPERUSER
#: The payload of an administrator's module.
ADMIN = test_manager.ADMIN
SQL_CONTENTS = test_manager.SQL_CONTENTS
FakeEngine = test_manager.FakeEngine


class FakeMariadbConnection:
    """A PyMySQL connection: its cursors record statements and refuse
    the one named ``refused``."""

    def __init__(self, sent: list, refused: str | None) -> None:
        self.sent, self.refused = sent, refused

    def cursor(self) -> 'FakeMariadbConnection':
        return self

    def __enter__(self) -> 'FakeMariadbConnection':
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def execute(self, statement: str, args=None) -> None:
        if statement == self.refused:
            raise pymysql.err.ProgrammingError(
                1007, "Can't create database 'audit'; database exists")
        self.sent.append(statement)

    def fetchall(self) -> list:
        """The databases SHOW DATABASES lists."""
        return [('app',), ('mysql',), ('information_schema',)]

    def close(self) -> None:
        pass


class FakeMariadb(mariadb.MariadbLifecycle):

    def __init__(self, refused: str | None = None) -> None:
        super().__init__('/nonexistent', '127.0.0.1', '/nonexistent', {},
                         512)
        self.sent: list[str] = []
        self.refused = refused

    def connect(self) -> FakeMariadbConnection:
        return FakeMariadbConnection(self.sent, self.refused)


class FakePostgresql(postgresql.PostgresqlLifecycle):

    def __init__(self, refused: str | None = None) -> None:
        super().__init__('/nonexistent', '127.0.0.1', '/nonexistent', {},
                         512)
        self.sent: list[str] = []
        self.refused = refused
        self.databases: list[str] = []

    def connect(self, dbname: str = 'postgres') -> 'FakePostgresql':
        self.databases.append(dbname)
        return self

    def __enter__(self) -> 'FakePostgresql':
        return self

    def __exit__(self, *exc_info) -> None:
        pass

    def execute(self, statement: str) -> None:
        if statement == self.refused:
            raise psycopg.errors.DuplicateDatabase(
                'database "audit" already exists')
        self.sent.append(statement)


class FakeRedis:
    """redis.Redis recording commands; ``BOOM`` is an unknown command."""

    sent: list = []
    users: list = []

    def __init__(self, host: str, port: int, **options) -> None:
        self.address = (host, port)
        FakeRedis.users.append(options.get('username'))

    @classmethod
    def from_pool(cls, pool) -> 'FakeRedis':
        return cls(**pool.connection_kwargs)

    def execute_command(self, *words) -> None:
        if words[0] == 'BOOM':
            raise redis.ResponseError("unknown command 'BOOM'")
        FakeRedis.sent.append(words)

    def close(self) -> None:
        pass


class SqlDriverTest(test_base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.driver = sql.SqlDriver()

    def test_sections_and_statements(self) -> None:
        sections = sql.sections('SELECT 1;\n--   APPLY \nSELECT 2\n  , 3;\n'
                                '-- a comment;\n-- remove\nDROP x;\nDROP y')
        self.assertEqual(['SELECT 1', 'SELECT 2\n  , 3'],
                         capability.sql_statements(sections['apply']))
        self.assertEqual(['DROP x', 'DROP y'],
                         capability.sql_statements(sections['remove']))
        self.assertEqual([], capability.sql_statements(['', '-- only', '  ']))
        self.assertEqual([['SET', 'k', 'two words'], ['DEL', 'k']],
                         redis_modules.commands(['SET k "two words"', '',
                                                 '# comment', 'DEL k']))
        self.assertRaises(ValueError, redis_modules.commands, ['SET k "open'])

    def test_mariadb_apply_and_remove(self) -> None:
        engine = FakeMariadb()
        data = SQL_CONTENTS.encode()
        self.assertEqual(
            ('OK', 'Applied: ran 2 statement(s) as the superuser.'),
            self.driver.apply(ADMIN, data, engine))
        self.assertEqual(['CREATE DATABASE audit',
                          'CREATE TABLE audit.t\n  (v int)'], engine.sent)
        self.assertEqual(
            ('OK', 'Removed: ran 1 statement(s) as the superuser.'),
            self.driver.remove(ADMIN, data, engine))
        self.assertEqual('DROP DATABASE audit', engine.sent[-1])

    def test_mariadb_error_names_the_statement(self) -> None:
        engine = FakeMariadb(refused='CREATE DATABASE audit')
        status, message = self.driver.apply(
            ADMIN, SUPERUSER.encode() + b'SELECT 1;\nCREATE DATABASE audit;',
            engine)
        self.assertEqual('ERROR', status)
        self.assertEqual("Statement 2 of 2 failed: MariaDB failed: Can't "
                         "create database 'audit'; database exists", message)

    def test_mariadb_unreachable(self) -> None:
        engine = mariadb.MariadbLifecycle('/nonexistent', '127.0.0.1',
                                          '/nonexistent', {}, 512)
        status, message = self.driver.apply({}, b'SELECT 1', engine)
        self.assertEqual('ERROR', status)
        self.assertIn('MariaDB cannot be reached', message)

    def test_postgresql(self) -> None:
        engine = FakePostgresql(refused='DROP DATABASE audit')
        data = SQL_CONTENTS.encode()
        self.assertEqual('OK', self.driver.apply(ADMIN, data, engine)[0])
        self.assertEqual(['postgres'], engine.databases)
        self.assertEqual(['CREATE DATABASE audit',
                          'CREATE TABLE audit.t\n  (v int)'], engine.sent)
        status, message = self.driver.remove(ADMIN, data, engine)
        self.assertEqual('ERROR', status)
        self.assertEqual('Statement 1 of 1 failed: PostgreSQL failed: '
                         'database "audit" already exists', message)

    def test_redis(self) -> None:
        FakeRedis.sent = []
        self.useFixture(fixtures.MonkeyPatch('redis.Redis', FakeRedis))
        engine = redis_lifecycle.RedisLifecycle('/nonexistent', '127.0.0.1',
                                                '/nonexistent', {}, 512)
        data = b'SET greeting "hello world"\n-- remove\nDEL greeting\n'
        FakeRedis.users = []
        self.assertEqual(('OK', 'Applied: ran 1 command(s).'),
                         self.driver.apply({}, data, engine))
        # As the restricted user, made for the run and turned off after.
        self.assertEqual(['os_admin', 'os_module'], FakeRedis.users)
        setuser, command, close = FakeRedis.sent
        self.assertEqual(('ACL', 'SETUSER', 'os_module', 'reset', 'on', '~*',
                          '&*', '+@all', '-@admin', '-@dangerous'),
                         setuser[:-1])
        self.assertTrue(setuser[-1].startswith('>'))
        self.assertEqual(('SET', 'greeting', 'hello world'), command)
        self.assertEqual(('ACL', 'SETUSER', 'os_module', 'reset', 'off'),
                         close)
        self.assertEqual('OK', self.driver.remove({}, data, engine)[0])
        self.assertEqual(('DEL', 'greeting'), FakeRedis.sent[-2])
        FakeRedis.sent, FakeRedis.users = [], []
        self.assertEqual(
            ('OK', 'Applied: ran 1 command(s) as the superuser.'),
            self.driver.apply(ADMIN, SUPERUSER.encode() + data, engine))
        self.assertEqual([('SET', 'greeting', 'hello world')], FakeRedis.sent)
        self.assertEqual(['os_admin'], FakeRedis.users)
        self.assertEqual(
            ('ERROR', "Command 2 of 2 failed: Redis failed: unknown command "
             "'BOOM'"), self.driver.apply({}, b'SET a 1\nBOOM', engine))
        status, message = self.driver.apply({}, b'SET a "open', engine)
        self.assertEqual('ERROR', status)
        self.assertIn('apply section cannot be read', message)

    def test_directives(self) -> None:
        self.assertEqual({'run_as_superuser': '', 'database': 'appdb'},
                         sql.directives('\n-- trove: run_as_superuser\n'
                                        '  --TROVE:  Database appdb\n'
                                        'SELECT 1;'))
        # Only at the top: after a statement it is a comment.
        self.assertEqual({}, sql.directives(
            'SELECT 1;\n-- trove: run_as_superuser\n'))
        self.assertEqual({}, sql.directives('-- apply\n'
                                            '-- trove: run_as_superuser\n'))
        self.assertRaises(ValueError, sql.directives,
                          '-- trove: run_as_root\nSELECT 1')
        status, message = self.driver.apply(
            ADMIN, b'-- trove: run_as_root\nSELECT 1', FakeMariadb())
        self.assertEqual('ERROR', status)
        self.assertIn('unknown directive', message)

    def test_superuser_only_for_an_administrators_module(self) -> None:
        found = {'run_as_superuser': ''}
        self.assertTrue(sql.runs_as_superuser({'is_admin': True}, found))
        self.assertFalse(sql.runs_as_superuser({'is_admin': True}, {}))
        for payload in ({}, {'is_admin': False}, {'is_admin': 'true'}):
            self.assertRaises(sql.RefusedDirective, sql.runs_as_superuser,
                              payload, found)
        engine = FakeMariadb()
        status, message = self.driver.apply(
            {'is_admin': False}, SQL_CONTENTS.encode(), engine)
        self.assertEqual('ERROR', status)
        self.assertIn('only in a module created by an administrator',
                      message)
        self.assertEqual([], engine.sent)
        self.assertEqual('ERROR', self.driver.remove(
            {}, SQL_CONTENTS.encode(), engine)[0])
        self.assertEqual([], engine.sent)

    def test_mariadb_role_statements(self) -> None:
        statements = mariadb_modules.role_statements('pw', ['app_db', 'b%`c'])
        self.assertEqual([
            ('CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s',
             ('os_module', 'localhost', 'pw')),
            ('ALTER USER %s@%s IDENTIFIED BY %s ACCOUNT UNLOCK',
             ('os_module', 'localhost', 'pw')),
            ('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s',
             ('os_module', 'localhost')),
            ('GRANT ALL PRIVILEGES ON `app\\_db`.* TO %s@%s',
             ('os_module', 'localhost')),
            ('GRANT ALL PRIVILEGES ON `b\\%%``c`.* TO %s@%s',
             ('os_module', 'localhost')),
        ], statements)
        for statement, _ in statements:
            self.assertNotIn('*.*', statement)
            self.assertNotIn('WITH GRANT OPTION', statement)

    def test_postgresql_role_statements(self) -> None:
        def text(statements):
            return [statement.as_string(None) for statement in statements]
        attributes = ('WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE '
                      'NOREPLICATION NOBYPASSRLS')
        self.assertEqual(
            ['CREATE ROLE "os_module" %s PASSWORD \'p\'\'w\'' % attributes],
            text(postgresql_modules.role_statements("p'w", False, [])))
        self.assertEqual([
            'ALTER ROLE "os_module" %s PASSWORD \'pw\'' % attributes,
            'REVOKE "pg_execute_server_program" FROM "os_module"',
            'REVOKE "pg_read_all_data" FROM "os_module"'],
            text(postgresql_modules.role_statements(
                'pw', True, ['pg_execute_server_program',
                             'pg_read_all_data'])))
        self.assertEqual([
            'GRANT CONNECT, CREATE, TEMPORARY ON DATABASE "app" TO '
            '"os_module"',
            'GRANT USAGE, CREATE ON SCHEMA public TO "os_module"',
            'ALTER DEFAULT PRIVILEGES FOR ROLE "os_module" GRANT SELECT, '
            'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON TABLES TO '
            'PUBLIC',
            'ALTER DEFAULT PRIVILEGES FOR ROLE "os_module" GRANT USAGE, '
            'SELECT, UPDATE ON SEQUENCES TO PUBLIC'],
            text(postgresql_modules.database_statements('app')))
        self.assertEqual('ALTER ROLE "os_module" WITH PASSWORD NULL',
                         postgresql_modules.ROLE_CLOSE.as_string(None))

    def test_mariadb_restricted_run(self) -> None:
        engine = FakeMariadb()
        module_sent: list = []
        logins: list = []

        def connect(**options):
            logins.append((options['user'], options['unix_socket']))
            return FakeMariadbConnection(module_sent, None)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.mariadb.modules.pymysql.'
            'connect', connect))
        self.assertEqual(('OK', 'Applied: ran 1 statement(s).'),
                         self.driver.apply({}, b'CREATE TABLE app.t (v int);',
                                           engine))
        self.assertEqual([('os_module', engine.socket_path)], logins)
        self.assertEqual(['CREATE TABLE app.t (v int)'], module_sent)
        self.assertEqual('SHOW DATABASES', engine.sent[0])
        self.assertTrue(engine.sent[1].startswith('CREATE USER IF NOT '))
        grants = [statement for statement in engine.sent
                  if statement.startswith('GRANT')]
        self.assertEqual(['GRANT ALL PRIVILEGES ON `app`.* TO %s@%s'],
                         grants)
        self.assertEqual('ALTER USER %s@%s ACCOUNT LOCK', engine.sent[-1])

    def test_nothing_to_run_and_bad_contents(self) -> None:
        engine = FakeMariadb()
        status, message = self.driver.apply({}, b'-- remove\nDROP x;',
                                            engine)
        self.assertEqual('ERROR', status)
        self.assertIn('no statements to apply', message)
        self.assertEqual('OK', self.driver.remove({}, b'SELECT 1', engine)[0])
        self.assertEqual('ERROR', self.driver.apply({}, b'\xff', engine)[0])
        self.assertEqual([], engine.sent)

    def test_unsupported_engine(self) -> None:
        status, message = self.driver.apply({}, b'SELECT 1', FakeEngine())
        self.assertEqual('ERROR', status)
        self.assertIn('FakeEngine', message)
