"""Modules on real engines from real guest images: the sql driver's apply
really changes the engine (a client sees the database or key it made),
its remove really undoes it, and a statement the engine refuses gives an
ERROR result with the engine's own words. Modules run as the restricted
role os_module: what only the superuser may do (run a program, write a
file) fails, ordinary DDL/DML in the tenant's database works and the
tenant's user reads it; an administrator's module with the directive
``-- trove: run_as_superuser`` runs as the superuser. One engine per
class."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import uuid

import fixtures
import redis
import testtools

import psycopg
import pymysql

from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.mariadb import accounts as \
    mariadb_accounts
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.postgresql import accounts as \
    postgresql_accounts
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.guestagent.modules import manager as module_manager
from trove_clone.tests.functional.guestagent import test_lifecycle

#: The address pool of these tests: 127.77.229.0/28.
ADDRESS = '127.77.229.%d'
#: The first line of a module that needs the engine's superuser.
SUPERUSER = '-- trove: run_as_superuser\n'
#: The tenant's database and user the restricted tests use.
TENANT_DATABASE = 'appdb'
TENANT_USER = ('app', 'app-pass-1')


def sql_module(name: str, contents: str, is_admin: bool = False) -> dict:
    """An ``sql`` module payload, its contents base64-encoded as the
    trove CLI sends them (``is_admin``: an administrator's)."""
    return {'id': str(uuid.uuid4()), 'name': name, 'type': 'sql',
            'contents': base64.b64encode(contents.encode()).decode(),
            'md5': 'md5', 'datastore': 'all', 'datastore_version': 'all',
            'tenant': 'all', 'auto_apply': False, 'visible': True,
            'is_admin': is_admin, 'live_update': False,
            'priority_apply': False, 'apply_order': 5}


def admin_module(name: str, contents: str) -> dict:
    """An administrator's module that runs as the superuser."""
    return sql_module(name, SUPERUSER + contents, is_admin=True)


class _ModulesTest(testtools.TestCase):
    """An engine started once for the class from a freshly built guest
    image; each test has its own results directory."""

    datastore = ''
    version = ''
    lifecycle_class = None
    address = ''

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.engine = None
        cls.work = tempfile.mkdtemp(prefix='trove-modules-')
        try:
            cls._start_engine()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start_engine(cls) -> None:
        # The engine runs as its own system user: it must reach its data.
        os.chmod(cls.work, 0o755)
        result = subprocess.run(
            [sys.executable, test_lifecycle.BUILDER, cls.datastore,
             cls.version, '--output', cls.work], capture_output=True,
            text=True, timeout=900)
        if result.returncode:
            raise RuntimeError('The guest image cannot be built: %s'
                               % result.stderr)
        root = os.path.join(cls.work, 'root')
        with tarfile.open(result.stdout.split(':')[0]) as archive:
            archive.extractall(root, filter='tar')
        with open(os.path.join(root, 'manifest.json')) as manifest:
            programs = json.load(manifest)['programs']
        cls.engine = cls.lifecycle_class(
            root, cls.address, os.path.join(cls.work, 'volume', 'data'),
            programs, 512)
        cls.engine.prepare()

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            if cls.engine is not None:
                cls.engine.stop()
        finally:
            shutil.rmtree(cls.work, ignore_errors=True)
            super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.modules = module_manager.ModuleManager(
            self.useFixture(fixtures.TempDir()).path)

    def apply(self, module: dict) -> dict:
        [result] = self.modules.apply([module], self.engine)
        return result


class _SqlModulesTest(_ModulesTest):
    """The scenario of the SQL engines; subclasses say how a client
    lists databases."""

    #: The accounts class of the engine (the tenant's database and user).
    accounts_class = None
    #: (module contents, words of the engine's refusal) of a statement
    #: only the superuser may run.
    forbidden = ('', '')
    #: (the header, the prefix of a table name) of a module that works in
    #: the tenant's database.
    in_tenant_database = ('', '')

    @classmethod
    def _start_engine(cls) -> None:
        super()._start_engine()
        accounts = cls.accounts_class(cls.engine)
        accounts.create_databases([{'name': TENANT_DATABASE}])
        accounts.create_users([{'name': TENANT_USER[0],
                                'password': TENANT_USER[1],
                                'databases': [{'name': TENANT_DATABASE}]}])

    def tenant_rows(self, query: str) -> list[tuple]:
        """What the tenant's user reads in its database over TCP."""
        raise NotImplementedError

    def test_restricted_module_cannot_do_what_the_superuser_may(self
                                                                ) -> None:
        contents, refusal = self.forbidden
        result = self.apply(sql_module('forbidden', contents))
        self.assertEqual('ERROR', result['status'], result)
        self.assertIn('Statement 1 of 1 failed', result['message'])
        self.assertIn(refusal, result['message'])
        # An administrator's module may ask for the superuser...
        result = self.apply(admin_module('forbidden-admin', contents))
        self.assertEqual(('OK', 'Applied: ran 1 statement(s) as the '
                          'superuser.'), (result['status'],
                                          result['message']))
        # ... but the directive means nothing in a module that is not
        # an administrator's: nothing runs.
        result = self.apply(sql_module('forbidden-member',
                                       SUPERUSER + contents))
        self.assertEqual('ERROR', result['status'])
        self.assertIn('only in a module created by an administrator',
                      result['message'])

    def test_restricted_module_works_in_the_tenant_database(self) -> None:
        table = self.in_tenant_database[1] + 'module_audit'
        module = sql_module('audit-table', self.in_tenant_database[0] + (
            '-- apply\nCREATE TABLE %s (id INT);\n'
            'INSERT INTO %s VALUES (7);\n'
            '-- remove\nDROP TABLE %s;\n' % (table, table, table)))
        result = self.apply(module)
        self.assertEqual(('OK', 'Applied: ran 2 statement(s).'),
                         (result['status'], result['message']))
        self.assertEqual([(7,)], self.tenant_rows(
            'SELECT id FROM module_audit'))
        self.modules.remove(module, self.engine)
        self.assertRaises((pymysql.err.ProgrammingError,
                           psycopg.errors.UndefinedTable), self.tenant_rows,
                          'SELECT id FROM module_audit')

    def test_restricted_module_cannot_reach_the_system(self) -> None:
        result = self.apply(sql_module('system', (
            'CREATE DATABASE module_other;\n')))
        self.assertEqual('ERROR', result['status'])
        self.assertNotIn('module_other', self.databases())

    def databases(self) -> set[str]:
        raise NotImplementedError

    def test_apply_creates_and_remove_drops(self) -> None:
        module = admin_module('audit', (
            '-- apply\nCREATE DATABASE module_audit;\n'
            '-- remove\nDROP DATABASE module_audit;\n'))
        result = self.apply(module)
        self.assertEqual(('OK', 'Applied: ran 1 statement(s) as the '
                          'superuser.'),
                         (result['status'], result['message']))
        self.assertIn('module_audit', self.databases())
        self.assertEqual([result], self.modules.results())
        self.modules.remove(module, self.engine)
        self.assertNotIn('module_audit', self.databases())
        self.assertEqual([], self.modules.results())

    def test_refused_statement_is_an_error(self) -> None:
        module = admin_module('twice', (
            'CREATE DATABASE module_twice;\nCREATE DATABASE module_twice;\n'
            '-- remove\nDROP DATABASE IF EXISTS module_twice;\n'))
        result = self.apply(module)
        self.assertEqual('ERROR', result['status'])
        self.assertIn('Statement 2 of 2 failed', result['message'])
        self.assertIn('module_twice', result['message'])
        self.assertEqual(['ERROR'],
                         [r['status'] for r in self.modules.results()])
        # What ran before the failure stays until the module is removed.
        self.assertIn('module_twice', self.databases())
        self.modules.remove(module, self.engine)
        self.assertNotIn('module_twice', self.databases())


class MariadbModulesTest(_SqlModulesTest):

    datastore = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 1
    accounts_class = mariadb_accounts.MariadbAccounts
    #: Where the superuser's OUTFILE goes (a new name each run: MariaDB
    #: never overwrites one).
    outfile = '/tmp/trove-module-%s' % uuid.uuid4().hex
    forbidden = ("SELECT 1 INTO OUTFILE '%s';" % outfile, 'FILE privilege')

    def test_restricted_module_cannot_do_what_the_superuser_may(self
                                                                ) -> None:
        self.addCleanup(lambda: os.path.exists(self.outfile) and
                        os.unlink(self.outfile))
        super().test_restricted_module_cannot_do_what_the_superuser_may()
    in_tenant_database = ('', TENANT_DATABASE + '.')

    def tenant_rows(self, query: str) -> list[tuple]:
        connection = pymysql.connect(
            host=self.address, user=TENANT_USER[0],
            password=TENANT_USER[1], database=TENANT_DATABASE,
            connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                return [tuple(row) for row in cursor.fetchall()]
        finally:
            connection.close()

    def test_restricted_module_cannot_touch_mysql_schema(self) -> None:
        result = self.apply(sql_module('grants', (
            "UPDATE mysql.global_priv SET Priv = '{}' WHERE User = 'root';"
        )))
        self.assertEqual('ERROR', result['status'])
        self.assertIn('denied', result['message'])
        # The account is locked between runs and has no global right.
        with self.engine.cursor() as cursor:
            cursor.execute("SHOW CREATE USER 'os_module'@'localhost'")
            self.assertIn('ACCOUNT LOCK', cursor.fetchone()[0])
            cursor.execute("SHOW GRANTS FOR 'os_module'@'localhost'")
            grants = [row[0] for row in cursor.fetchall()]
        self.assertIn("GRANT USAGE ON *.* TO `os_module`@`localhost` "
                      "IDENTIFIED BY PASSWORD", grants[0])
        self.assertEqual(['GRANT ALL PRIVILEGES ON `%s`.* TO '
                          '`os_module`@`localhost`' % TENANT_DATABASE],
                         grants[1:])

    def databases(self) -> set[str]:
        connection = self.engine.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute('SHOW DATABASES')
                return {row[0] for row in cursor.fetchall()}
        finally:
            connection.close()

    def test_statements_share_one_session(self) -> None:
        module = admin_module('session', (
            'CREATE DATABASE module_session;\nUSE module_session;\n'
            'CREATE TABLE t (v varchar(20));\n'
            "INSERT INTO t VALUES ('100%');\n"
            '-- remove\nDROP DATABASE module_session;\n'))
        self.assertEqual('OK', self.apply(module)['status'])
        connection = self.engine.connect()
        self.addCleanup(connection.close)
        with connection.cursor() as cursor:
            cursor.execute('SELECT v FROM module_session.t')
            self.assertEqual((('100%',),), cursor.fetchall())
        self.modules.remove(module, self.engine)


class PostgresqlModulesTest(_SqlModulesTest):

    datastore = 'postgresql'
    version = '15'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    address = ADDRESS % 2
    accounts_class = postgresql_accounts.PostgresqlAccounts
    forbidden = ("COPY (SELECT 1) TO PROGRAM 'id';",
                 'pg_execute_server_program')
    in_tenant_database = ('-- trove: database %s\n' % TENANT_DATABASE, '')

    def tenant_rows(self, query: str) -> list[tuple]:
        with psycopg.connect(host=self.address, port=self.engine.port,
                             user=TENANT_USER[0], password=TENANT_USER[1],
                             dbname=TENANT_DATABASE,
                             connect_timeout=5) as connection:
            return [tuple(row) for row in connection.execute(query)]

    def test_module_role_has_no_power(self) -> None:
        self.apply(sql_module('noop', 'SELECT 1;'))
        with self.engine.connect() as connection:
            role = connection.execute(
                'SELECT rolsuper, rolcreatedb, rolcreaterole, '
                'rolreplication, rolbypassrls, rolpassword IS NULL '
                'FROM pg_authid WHERE rolname = %s', ('os_module',)
            ).fetchone()
            member_of = connection.execute(
                'SELECT count(*) FROM pg_auth_members m JOIN pg_roles r '
                "ON r.oid = m.member WHERE r.rolname = 'os_module'"
            ).fetchone()[0]
        self.assertEqual((False, False, False, False, False, True), role)
        self.assertEqual(0, member_of)

    def databases(self) -> set[str]:
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(
                'SELECT datname FROM pg_database')}


class RedisModulesTest(_ModulesTest):

    datastore = 'redis'
    version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 3

    def client(self) -> redis.Redis:
        client = self.engine.client(timeout=5)
        self.addCleanup(client.close)
        return client

    def test_apply_sets_and_remove_deletes(self) -> None:
        module = sql_module('greeting', (
            '# one command a line\nSET module:greeting "hello world"\n'
            '-- remove\nDEL module:greeting\n'))
        result = self.apply(module)
        self.assertEqual(('OK', 'Applied: ran 1 command(s).'),
                         (result['status'], result['message']))
        self.assertEqual(b'hello world', self.client().get('module:greeting'))
        self.modules.remove(module, self.engine)
        self.assertIsNone(self.client().get('module:greeting'))
        self.assertEqual([], self.modules.results())

    def test_refused_command_is_an_error(self) -> None:
        result = self.apply(sql_module('bad', 'SET module:a 1\nNOSUCHCMD x'))
        self.assertEqual('ERROR', result['status'])
        self.assertIn('Command 2 of 2 failed: Redis failed:',
                      result['message'])
        self.assertIn('unknown command', result['message'])


del _ModulesTest
del _SqlModulesTest
