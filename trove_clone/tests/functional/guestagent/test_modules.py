"""Modules on real engines from real guest images: the sql driver's apply
really changes the engine (a client sees the database or key it made),
its remove really undoes it, and a statement the engine refuses gives an
ERROR result with the engine's own words. One engine per class."""
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

from trove_clone.guestagent.datastores import mariadb as mariadb_lifecycle
from trove_clone.guestagent.datastores import postgresql as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores import redis as redis_lifecycle
from trove_clone.guestagent.modules import manager as module_manager
from trove_clone.tests.functional.guestagent import test_lifecycle

#: The address pool of these tests: 127.77.229.0/28.
ADDRESS = '127.77.229.%d'


def sql_module(name: str, contents: str) -> dict:
    """An ``sql`` module payload, its contents base64-encoded as the
    trove CLI sends them."""
    return {'id': str(uuid.uuid4()), 'name': name, 'type': 'sql',
            'contents': base64.b64encode(contents.encode()).decode(),
            'md5': 'md5', 'datastore': 'all', 'datastore_version': 'all',
            'tenant': 'all', 'auto_apply': False, 'visible': True,
            'is_admin': False, 'live_update': False, 'priority_apply': False,
            'apply_order': 5}


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

    def databases(self) -> set[str]:
        raise NotImplementedError

    def test_apply_creates_and_remove_drops(self) -> None:
        module = sql_module('audit', (
            '-- apply\nCREATE DATABASE module_audit;\n'
            '-- remove\nDROP DATABASE module_audit;\n'))
        result = self.apply(module)
        self.assertEqual(('OK', 'Applied: ran 1 statement(s).'),
                         (result['status'], result['message']))
        self.assertIn('module_audit', self.databases())
        self.assertEqual([result], self.modules.results())
        self.modules.remove(module, self.engine)
        self.assertNotIn('module_audit', self.databases())
        self.assertEqual([], self.modules.results())

    def test_refused_statement_is_an_error(self) -> None:
        module = sql_module('twice', (
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

    def databases(self) -> set[str]:
        connection = self.engine.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute('SHOW DATABASES')
                return {row[0] for row in cursor.fetchall()}
        finally:
            connection.close()

    def test_statements_share_one_session(self) -> None:
        module = sql_module('session', (
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
