"""Datastore lifecycles with real engines from real guest images: prepare
on an empty data directory, answer a real client, stop and start again
with the data intact, and report the engine's own error when it cannot
start."""
import json
import os
import subprocess
import sys
import tarfile

import fixtures
import psycopg
import pymysql
import redis
import testtools

from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.tests.functional import base

BUILDER = os.path.join(base.ROOT, 'tools', 'build-guest-image')
ADDRESS = '127.77.251.%d'


class _LifecycleTest(testtools.TestCase):

    datastore = ''
    version = ''
    lifecycle_class = None
    address = ''

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        os.chmod(self.work, 0o755)
        result = subprocess.run(
            [sys.executable, BUILDER, self.datastore, self.version,
             '--output', self.work], capture_output=True, text=True,
            timeout=900)
        self.assertEqual(0, result.returncode, result.stderr)
        self.root = os.path.join(self.work, 'root')
        with tarfile.open(result.stdout.split(':')[0]) as archive:
            archive.extractall(self.root, filter='tar')
        with open(os.path.join(self.root, 'manifest.json')) as manifest:
            self.manifest = json.load(manifest)
        self.data_dir = os.path.join(self.work, 'volume', 'data')
        self.engine = self.make()
        self.addCleanup(self.engine.stop)

    def make(self, ram_mb: int = 512) -> lifecycle_base.Lifecycle:
        return self.lifecycle_class(self.root, self.address, self.data_dir,
                                    self.manifest['programs'], ram_mb)


class RedisLifecycleTest(_LifecycleTest):

    datastore = 'redis'
    version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 1

    def client(self) -> redis.Redis:
        """A client of the agent's own ACL user (there is no other way in
        but the tenant's users)."""
        client = self.engine.client(timeout=5)
        self.addCleanup(client.close)
        return client

    def test_prepare_write_restart_read(self) -> None:
        self.engine.prepare()
        self.assertTrue(self.engine.is_healthy())
        info = self.client().info('server')
        self.assertEqual(self.manifest['engine_version'],
                         info['redis_version'])
        self.assertEqual(512 * 1024 * 1024 * 3 // 4,
                         int(self.client().config_get('maxmemory')[
                             'maxmemory']))
        self.client().set('written', 'before restart')
        self.engine.stop()
        self.assertFalse(self.engine.is_healthy())
        # The agent of a resized server starts the engine on the new
        # flavor.
        again = self.make(1024)
        self.addCleanup(again.stop)
        again.start()
        self.assertEqual(b'before restart', self.client().get('written'))
        self.assertEqual(1024 * 1024 * 1024 * 3 // 4,
                         int(self.client().config_get('maxmemory')[
                             'maxmemory']))

    def test_engine_error_is_reported(self) -> None:
        os.makedirs(self.data_dir)
        with open(os.path.join(self.data_dir, 'redis.conf'), 'w') as conf:
            conf.write('port 6379\nbind %s\nnosuch-directive yes\n'
                       % self.address)
        error = self.assertRaises(lifecycle_base.EngineError,
                                  self.engine.start)
        self.assertIn('nosuch-directive', error.message)


class _PostgresqlTest(_LifecycleTest):

    datastore = 'postgresql'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle

    def test_prepare_write_restart_read(self) -> None:
        self.engine.prepare()
        with self.engine.connect() as connection:
            version = connection.execute('SHOW server_version').fetchone()[0]
            self.assertTrue(version.startswith(
                self.manifest['engine_version']), version)
            connection.execute("CREATE ROLE app LOGIN PASSWORD 'app-pw'")
            connection.execute('CREATE TABLE t (v text)')
            connection.execute("INSERT INTO t VALUES ('before restart')")
            self.assertEqual('128MB', connection.execute(
                'SHOW shared_buffers').fetchone()[0])
        # A client over TCP, at the server's address, with a password.
        with psycopg.connect(host=self.address, port=5432, user='app',
                             password='app-pw', dbname='postgres') as app:
            self.assertEqual((1,), app.execute('SELECT 1').fetchone())
        self.engine.stop()
        self.assertFalse(self.engine.is_healthy())
        again = self.make()
        self.addCleanup(again.stop)
        again.prepare()
        with again.connect() as connection:
            self.assertEqual(('before restart',), connection.execute(
                'SELECT v FROM t').fetchone())
        # The agent of a resized server starts the engine on the new
        # flavor.
        again.stop()
        resized = self.make(1024)
        self.addCleanup(resized.stop)
        resized.start()
        with resized.connect() as connection:
            self.assertEqual('256MB', connection.execute(
                'SHOW shared_buffers').fetchone()[0])
            self.assertEqual(('before restart',), connection.execute(
                'SELECT v FROM t').fetchone())


class Postgresql15LifecycleTest(_PostgresqlTest):
    version = '15'
    address = ADDRESS % 2


class Postgresql16LifecycleTest(_PostgresqlTest):
    version = '16'
    address = ADDRESS % 3


del _PostgresqlTest


class MariadbLifecycleTest(_LifecycleTest):

    datastore = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 4

    def test_prepare_write_restart_read(self) -> None:
        self.engine.prepare()
        connection = self.engine.connect()
        with connection.cursor() as cursor:
            cursor.execute('SELECT VERSION()')
            self.assertTrue(cursor.fetchone()[0].startswith(
                self.manifest['engine_version']))
            cursor.execute("CREATE USER app@'%' IDENTIFIED BY 'app-pw'")
            cursor.execute('CREATE DATABASE d')
            cursor.execute("GRANT ALL ON d.* TO app@'%'")
            cursor.execute('CREATE TABLE d.t (v varchar(40))')
            cursor.execute("INSERT INTO d.t VALUES ('before restart')")
            cursor.execute('SELECT @@innodb_buffer_pool_size, '
                           '@@max_connections, @@log_bin, @@gtid_strict_mode')
            self.assertEqual((256 * 1024 * 1024, 100, 1, 1),
                             cursor.fetchone())
        connection.close()
        app = pymysql.connect(host=self.address, port=3306, user='app',
                              password='app-pw', database='d')
        with app.cursor() as cursor:
            cursor.execute('SELECT v FROM t')
            self.assertEqual(('before restart',), cursor.fetchone())
        app.close()
        self.engine.stop()
        self.assertFalse(self.engine.is_healthy())
        again = self.make()
        self.addCleanup(again.stop)
        again.prepare()
        connection = again.connect()
        with connection.cursor() as cursor:
            cursor.execute('SELECT v FROM d.t')
            self.assertEqual(('before restart',), cursor.fetchone())
        connection.close()
        # The agent of a resized server starts the engine on the new
        # flavor.
        again.stop()
        resized = self.make(2048)
        self.addCleanup(resized.stop)
        resized.start()
        connection = resized.connect()
        with connection.cursor() as cursor:
            cursor.execute('SELECT @@innodb_buffer_pool_size, '
                           '@@max_connections, @@innodb_log_file_size')
            self.assertEqual((1024 * 1024 * 1024, 400, 256 * 1024 * 1024),
                             cursor.fetchone())
            cursor.execute('SELECT v FROM d.t')
            self.assertEqual(('before restart',), cursor.fetchone())
        connection.close()


del _LifecycleTest
