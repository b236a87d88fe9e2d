"""Upgrades of real engines between real guest images: data written by
the old image's engine, pre_upgrade on it, the server "rebuilt" (a
lifecycle of the new image on the same data directory), post_upgrade:
the new version serves the same data and users; a failed post_upgrade
leaves the old data for the old image; a downgrade is refused with the
engine still serving."""
import json
import os
import subprocess
import sys
import tarfile

import psycopg
import pymysql
import redis

from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.guestagent.capabilities import upgrade
from trove_clone.tests.functional.guestagent import test_lifecycle

# test_lifecycle deletes the name of its base class (so that the loader
# does not collect it); its subclasses still carry it.
_LifecycleTest = test_lifecycle.RedisLifecycleTest.__bases__[0]

ADDRESS = '127.77.254.%d'


class _UpgradeTest(_LifecycleTest):
    """The old image (``version``) unpacked in ``root`` and its lifecycle
    ``engine``; the new image (``new_version``) in ``new_root``."""

    new_version = ''
    manager = ''

    def setUp(self) -> None:
        super().setUp()
        result = subprocess.run(
            [sys.executable, test_lifecycle.BUILDER, self.datastore,
             self.new_version, '--output', os.path.join(self.work, 'new')],
            capture_output=True, text=True, timeout=900)
        self.assertEqual(0, result.returncode, result.stderr)
        self.new_root = os.path.join(self.work, 'new-root')
        with tarfile.open(result.stdout.split(':')[0]) as archive:
            archive.extractall(self.new_root, filter='tar')
        with open(os.path.join(self.new_root, 'manifest.json')) as manifest:
            self.new_manifest = json.load(manifest)
        self.upgrade_dir = os.path.join(self.work, 'volume', 'upgrade')

    def make_new(self) -> lifecycle_base.Lifecycle:
        """The lifecycle the rebuilt server's agent has."""
        engine = self.lifecycle_class(self.new_root, self.address,
                                      self.data_dir,
                                      self.new_manifest['programs'], 512)
        self.addCleanup(engine.stop)
        return engine

    def make_old(self) -> lifecycle_base.Lifecycle:
        engine = self.make()
        self.addCleanup(engine.stop)
        return engine

    def target(self) -> dict:
        return {'engine_version': self.new_manifest['engine_version'],
                'version': self.new_version}

    def pre_upgrade(self) -> dict:
        info = loader.capability('upgrade', self.manager,
                                 self.engine).pre_upgrade(self.target())
        self.assertFalse(self.engine.is_running())
        # What the control plane carries over RPC.
        return json.loads(json.dumps(info))

    def failing_program(self, what: str) -> str:
        """A program that scribbles over the data directory and fails,
        as a broken new engine might."""
        path = os.path.join(self.work, 'broken-%s' % what)
        with open(path, 'w') as script:
            script.write('#!/bin/sh\nfor f in "%s"/*; do [ -f "$f" ] && '
                         'echo broken > "$f"; done\nrm -rf "%s"/*/\n'
                         'exit 1\n' % (self.data_dir, self.data_dir))
        os.chmod(path, 0o755)
        return path

    def check_refused(self, engine: lifecycle_base.Lifecycle,
                      target: dict) -> None:
        """pre_upgrade refuses ``target`` and leaves ``engine`` serving."""
        error = self.assertRaises(
            upgrade.UpgradeRefused,
            loader.capability('upgrade', self.manager, engine).pre_upgrade,
            target)
        self.assertIn('downgrade', error.message)
        self.assertTrue(engine.is_healthy())
        self.assertFalse(os.path.exists(self.upgrade_dir))


class PostgresqlUpgradeTest(_UpgradeTest):
    """16 → 17: both from wheels, inside the image roots, so pg_upgrade
    runs the old binaries pre_upgrade copied to the volume."""

    datastore = 'postgresql'
    manager = 'postgresql'
    version = '16'
    new_version = '17'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    address = ADDRESS % 1

    ROWS = [(1, 'one'), (2, 'two'), (3, 'trois')]

    def write_data(self, engine: lifecycle_base.Lifecycle) -> None:
        engine.prepare()
        with engine.connect() as connection:
            connection.execute('CREATE TABLE t (id int PRIMARY KEY, v text)')
            with connection.cursor() as cursor:
                cursor.executemany('INSERT INTO t VALUES (%s, %s)',
                                   self.ROWS)
        accounts = loader.capability('accounts', 'postgresql', engine)
        accounts.create_databases([{'name': 'app_db'}])
        accounts.create_users([{'name': 'app', 'password': 'app-pw',
                                'databases': [{'name': 'app_db'}]}])

    def check_data(self, engine: lifecycle_base.Lifecycle,
                   version: str) -> None:
        with engine.connect() as connection:
            server = connection.execute('SHOW server_version').fetchone()[0]
            self.assertTrue(server.startswith(version), server)
            self.assertEqual(self.ROWS, connection.execute(
                'SELECT id, v FROM t ORDER BY id').fetchall())
        with psycopg.connect(host=self.address, port=5432, user='app',
                             password='app-pw', dbname='app_db',
                             connect_timeout=10) as app:
            self.assertEqual((1,), app.execute('SELECT 1').fetchone())

    def test_upgrade_then_downgrade_refused(self) -> None:
        self.write_data(self.engine)
        info = self.pre_upgrade()
        self.assertEqual(self.manifest['engine_version'],
                         info['from_version'])
        self.assertEqual('old-engine/bin', info['old_bindir'])
        # The rebuild removes the old image root; its binaries are on the
        # volume.
        upgrade.remove(self.root)
        new = self.make_new()
        loader.capability('upgrade', 'postgresql', new).post_upgrade(info)
        self.check_data(new, self.new_manifest['engine_version'])
        self.assertFalse(os.path.exists(self.upgrade_dir))
        # The new cluster keeps the lifecycle's settings and checksums.
        with new.connect() as connection:
            self.assertEqual(('on',), connection.execute(
                'SHOW data_checksums').fetchone())
            self.assertEqual(('128MB',), connection.execute(
                'SHOW shared_buffers').fetchone())
        self.check_refused(new, {'engine_version':
                                 self.manifest['engine_version'],
                                 'version': self.version})
        self.check_data(new, self.new_manifest['engine_version'])
        # To the same major version (here the image it runs): nothing
        # saved, the new binaries started on the cluster.
        info = loader.capability('upgrade', 'postgresql', new).pre_upgrade(
            self.target())
        self.assertNotIn('old_bindir', info)
        self.assertFalse(new.is_running())
        again = self.make_new()
        loader.capability('upgrade', 'postgresql', again).post_upgrade(info)
        self.check_data(again, self.new_manifest['engine_version'])

    def test_failed_start_restores_old_cluster(self) -> None:
        self.write_data(self.engine)
        # A configuration group valid in 16, whose parameter 17 removed.
        with open(os.path.join(self.engine.pgdata, 'overrides.conf'),
                  'w') as overrides:
            overrides.write('old_snapshot_threshold = -1\n')
        self.engine.stop()
        self.engine.start()
        info = self.pre_upgrade()
        new = self.make_new()
        error = self.assertRaises(
            upgrade.UpgradeFailed,
            loader.capability('upgrade', 'postgresql', new).post_upgrade, info)
        self.assertIn('old_snapshot_threshold', error.message)
        self.assertIn('old data was restored', error.message)
        self.assertFalse(new.is_running())
        self.assertFalse(os.path.exists(self.upgrade_dir))
        old = self.make_old()
        old.start()
        self.check_data(old, self.manifest['engine_version'])

    def test_failed_pg_upgrade_leaves_old_cluster(self) -> None:
        self.write_data(self.engine)
        info = self.pre_upgrade()
        new = self.make_new()
        new.programs['pg_upgrade'] = '/bin/false'
        error = self.assertRaises(
            upgrade.UpgradeFailed,
            loader.capability('upgrade', 'postgresql', new).post_upgrade, info)
        self.assertIn('pg_upgrade failed', error.message)
        old = self.make_old()
        old.start()
        self.check_data(old, self.manifest['engine_version'])

    def test_system_15_to_16(self) -> None:
        """The system's PostgreSQL 15 (absolute paths: still there after
        the rebuild) to the 16 of the wheel. A patched 15 may stamp
        non-standard options on every column, which stock 16 cannot
        restore: pre_upgrade then refuses up front, 15 still serving."""
        result = subprocess.run(
            [sys.executable, test_lifecycle.BUILDER, 'postgresql', '15',
             '--output', os.path.join(self.work, 'system')],
            capture_output=True, text=True, timeout=900)
        self.assertEqual(0, result.returncode, result.stderr)
        system_root = os.path.join(self.work, 'system-root')
        with tarfile.open(result.stdout.split(':')[0]) as archive:
            archive.extractall(system_root, filter='tar')
        manifest = lifecycle_base.read_manifest(system_root)
        old = self.lifecycle_class(system_root, self.address, self.data_dir,
                                   manifest['programs'], 512)
        self.addCleanup(old.stop)
        self.write_data(old)
        target = {'engine_version': '16', 'version': '16'}
        try:
            info = loader.capability('upgrade', 'postgresql', old).pre_upgrade(
                target)
        except upgrade.UpgradeRefused as error:
            self.assertIn('does not know', error.message)
            self.assertTrue(old.is_healthy())
            self.assertFalse(os.path.exists(self.upgrade_dir))
            self.check_data(old, manifest['engine_version'])
            return
        self.assertEqual('/usr/lib/postgresql/15/bin', info['old_bindir'])
        new = self.lifecycle_class(self.root, self.address, self.data_dir,
                                   self.manifest['programs'], 512)
        self.addCleanup(new.stop)
        loader.capability('upgrade', 'postgresql', new).post_upgrade(info)
        self.check_data(new, self.manifest['engine_version'])


class RedisUpgradeTest(_UpgradeTest):

    datastore = 'redis'
    manager = 'redis'
    version = '6.2'
    new_version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 2

    def client(self, **kwargs) -> redis.Redis:
        """A client of ``username`` and ``password``, the agent's own by
        default."""
        if 'username' not in kwargs:
            kwargs.update(username=redis_lifecycle.AGENT_USER,
                          password=self.engine.agent_password)
        client = redis.Redis(host=self.address, port=6379, socket_timeout=10,
                             **kwargs)
        self.addCleanup(client.close)
        return client

    def write_data(self) -> None:
        self.engine.prepare()
        client = self.client()
        client.set('string', 'value')
        client.hset('hash', mapping={'a': '1', 'b': '2'})
        client.rpush('list', 'x', 'y', 'z')
        client.set('expiring', 'soon', ex=3600)
        for number in range(500):
            client.set('key:%d' % number, 'v%d' % number)
        loader.capability('accounts', 'redis', self.engine).create_users(
            [{'name': 'app', 'password': 'app-pw'}])

    def check_data(self, version: str) -> None:
        client = self.client()
        self.assertEqual(version, client.info('server')['redis_version'])
        self.assertEqual(b'value', client.get('string'))
        self.assertEqual({b'a': b'1', b'b': b'2'}, client.hgetall('hash'))
        self.assertEqual([b'x', b'y', b'z'], client.lrange('list', 0, -1))
        self.assertEqual(b'soon', client.get('expiring'))
        self.assertEqual(504, client.dbsize())
        self.assertEqual(b'v499', client.get('key:499'))
        app = self.client(username='app', password='app-pw')
        self.assertEqual(b'value', app.get('string'))
        self.assertRaises(redis.AuthenticationError,
                          self.client(username='app', password='wrong').ping)

    def test_upgrade_then_downgrade_refused(self) -> None:
        self.write_data()
        info = self.pre_upgrade()
        self.assertEqual(503, info['persistent_keys'])
        new = self.make_new()
        loader.capability('upgrade', 'redis', new).post_upgrade(info)
        self.check_data(self.new_manifest['engine_version'])
        self.assertFalse(os.path.exists(self.upgrade_dir))
        self.check_refused(new, {'engine_version':
                                 self.manifest['engine_version'],
                                 'version': self.version})
        # Written by 7.0, read by 7.0 after a restart.
        new.stop()
        again = self.make_new()
        again.start()
        self.check_data(self.new_manifest['engine_version'])

    def test_failed_start_restores_old_data(self) -> None:
        self.write_data()
        info = self.pre_upgrade()
        new = self.make_new()
        new.programs['server'] = self.failing_program('redis')
        error = self.assertRaises(
            upgrade.UpgradeFailed,
            loader.capability('upgrade', 'redis', new).post_upgrade, info)
        self.assertIn('old data was restored', error.message)
        self.assertFalse(os.path.exists(self.upgrade_dir))
        old = self.make_old()
        old.start()
        self.check_data(self.manifest['engine_version'])

    def test_empty_start_is_rolled_back(self) -> None:
        """A new engine that starts without the keys is an upgrade that
        failed."""
        self.write_data()
        info = self.pre_upgrade()
        new = self.make_new()
        for name in os.listdir(self.data_dir):
            if name.startswith(('appendonly', 'dump')):
                upgrade.remove(os.path.join(self.data_dir, name))
        error = self.assertRaises(
            upgrade.UpgradeFailed,
            loader.capability('upgrade', 'redis', new).post_upgrade, info)
        self.assertIn('loaded 0 keys', error.message)
        old = self.make_old()
        old.start()
        self.check_data(self.manifest['engine_version'])


class MariadbUpgradeTest(_UpgradeTest):

    datastore = 'mariadb'
    manager = 'mysql'
    version = '10.11'
    new_version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 3

    def write_data(self) -> None:
        self.engine.prepare()
        accounts = loader.capability('accounts', 'mysql', self.engine)
        accounts.create_databases([{'name': 'd'}])
        accounts.create_users([{'name': 'app', 'password': 'app-pw',
                                'databases': [{'name': 'd'}]}])
        connection = self.engine.connect()
        with connection.cursor() as cursor:
            cursor.execute('CREATE TABLE d.t (id int PRIMARY KEY, '
                           'v varchar(40))')
            cursor.execute("INSERT INTO d.t VALUES (1, 'one'), (2, 'two')")
        connection.close()

    def check_data(self) -> None:
        app = pymysql.connect(host=self.address, port=3306, user='app',
                              password='app-pw', database='d',
                              connect_timeout=10)
        try:
            with app.cursor() as cursor:
                cursor.execute('SELECT VERSION()')
                self.assertTrue(cursor.fetchone()[0].startswith(
                    self.new_manifest['engine_version']))
                cursor.execute('SELECT id, v FROM t ORDER BY id')
                self.assertEqual(((1, 'one'), (2, 'two')), cursor.fetchall())
        finally:
            app.close()

    def test_upgrade_with_mariadb_upgrade(self) -> None:
        self.write_data()
        self.check_refused(self.engine, {'engine_version': '10.6.18',
                                         'version': '10.6'})
        info = self.pre_upgrade()
        self.assertEqual('data.backup', info['backup'])
        new = self.make_new()
        new.programs['upgrade'] = '/usr/bin/mariadb-upgrade'
        loader.capability('upgrade', 'mysql', new).post_upgrade(info)
        self.check_data()
        self.assertFalse(os.path.exists(self.upgrade_dir))
        self.assertTrue(os.path.exists(os.path.join(
            new.datadir, 'mysql_upgrade_info')))

    def test_failed_start_restores_old_data(self) -> None:
        self.write_data()
        info = self.pre_upgrade()
        new = self.make_new()
        new.programs['server'] = self.failing_program('mariadb')
        error = self.assertRaises(
            upgrade.UpgradeFailed,
            loader.capability('upgrade', 'mysql', new).post_upgrade, info)
        self.assertIn('old data was restored', error.message)
        old = self.make_old()
        old.start()
        self.check_data()


del _UpgradeTest
del _LifecycleTest
