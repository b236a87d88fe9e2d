"""Backups and restores of real engines from real guest images, through
the guest's backup capability and the ``local`` storage driver: data
written, a full backup, more data, an incremental backup (MariaDB), a
restore of each point onto a fresh volume read back with the engine's
client exactly as it was; a corrupted or truncated object, or the wrong
key, is refused before the new data directory is touched."""
import base64
import os
import subprocess
import sys
import tarfile
import time

import fixtures
from oslo_config import fixture as config_fixture
import psycopg
import pymysql
import redis
import testtools

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers import backup_storage
from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent import manager as guest_manager
from trove_clone.tests.functional.guestagent import test_lifecycle

_LifecycleTest = test_lifecycle.RedisLifecycleTest.__bases__[0]

ADDRESS = '127.77.153.%d'
CONTAINER = 'database_backups'


class _BackupTest(_LifecycleTest):

    manager = ''

    def setUp(self) -> None:
        super().setUp()
        self.storage_options = {'driver': 'local',
                                'root': os.path.join(self.work, 'storage')}
        self.storage = backup_storage.load(self.storage_options)
        self.key = base64.b64encode(os.urandom(32)).decode()
        self.volumes = 0

    def capability(self, engine: lifecycle_base.Lifecycle) -> backup.Backup:
        return loader.capability('backup', self.manager, engine)

    def create(self, backup_id: str, parent: dict | None = None) -> dict:
        info = {'id': backup_id, 'instance_id': 'i-1', 'name': backup_id,
                'datastore': self.manager, 'datastore_version': self.version,
                'incremental': parent is not None, 'parent': parent,
                'storage': self.storage_options, 'container': CONTAINER,
                'encryption_key': self.key}
        result = self.capability(self.engine).create(info)
        self.assertEqual('local:///%s/%s' % (
            CONTAINER, self.capability(self.engine).object_name(info)),
            result['location'])
        self.assertEqual(result['checksum'], self.storage.metadata(
            result['location'])['checksum'])
        return dict(result, id=backup_id)

    def fresh(self) -> lifecycle_base.Lifecycle:
        """A lifecycle on a new, empty volume (a new instance)."""
        self.volumes += 1
        data_dir = os.path.join(self.work, 'volume%d' % self.volumes,
                                'data')
        engine = self.lifecycle_class(self.root, self.address, data_dir,
                                      self.manifest['programs'], 512)
        self.addCleanup(engine.stop)
        return engine

    def restore(self, chain: list[dict],
                key: str | None = None) -> lifecycle_base.Lifecycle:
        """A new instance restored from ``chain`` and started (the
        current engine stopped first: same address)."""
        self.engine.stop()
        engine = self.fresh()
        self.capability(engine).restore({
            'id': chain[-1]['id'], 'datastore': self.manager,
            'datastore_version': self.version,
            'chain': [{name: entry[name] for name in (
                'id', 'location', 'checksum', 'metadata')}
                for entry in chain],
            'storage': self.storage_options,
            'encryption_key': key or self.key})
        engine.prepare()
        return engine

    def assert_refused(self, chain: list[dict], reason: str,
                       key: str | None = None) -> None:
        self.engine.stop()
        engine = self.fresh()
        error = self.assertRaises(
            exception.RestoreBackupIntegrityError,
            self.capability(engine).restore, {
                'id': chain[-1]['id'], 'chain': chain,
                'storage': self.storage_options,
                'encryption_key': key or self.key})
        self.assertIn(reason, error.message)
        self.assertEqual([], os.listdir(engine.data_dir)
                         if os.path.isdir(engine.data_dir) else [])
        self.assertFalse(os.path.exists(os.path.join(
            os.path.dirname(engine.data_dir), backup.RESTORE_DIR)))

    def path_of(self, result: dict) -> str:
        return os.path.join(self.storage_options['root'], CONTAINER,
                            result['location'].rsplit('/', 1)[1])

    def corrupt(self, result: dict) -> None:
        """Flip a byte in the middle of the stored object."""
        with open(self.path_of(result), 'r+b') as stored:
            stored.seek(os.path.getsize(self.path_of(result)) // 2)
            byte = stored.read(1)
            stored.seek(-1, os.SEEK_CUR)
            stored.write(bytes([byte[0] ^ 0x40]))


class RedisBackupTest(_BackupTest):

    datastore = 'redis'
    manager = 'redis'
    version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 1

    def test_backup_restore_and_refusals(self) -> None:
        self.engine.prepare()
        client = self.engine.client(timeout=5)
        client.set('k1', 'one')
        client.hset('h', mapping={'a': '1', 'b': '2'})
        client.execute_command('ACL', 'SETUSER', 'app', 'on', '>app-pw',
                               '~*', '&*', '+@all')
        client.close()
        full = self.create('full-1')
        self.assertEqual('redis-rdb-tar', full['metadata']['format'])
        error = self.assertRaises(
            backup.BackupFailed, self.create, 'incr-1', full)
        self.assertIn('not supported', error.message)

        restored = self.restore([full])
        app = redis.Redis(host=self.address, port=6379, username='app',
                          password='app-pw', socket_timeout=5)
        self.addCleanup(app.close)
        self.assertEqual(b'one', app.get('k1'))
        self.assertEqual({b'a': b'1', b'b': b'2'}, app.hgetall('h'))
        # The new agent's own user has the new instance's password.
        self.assertTrue(restored.is_healthy())
        self.assertNotEqual(self.engine.agent_password,
                            restored.agent_password)
        app.set('k2', 'after restore')
        # Restarted, the data survives (it went into the append-only
        # file too).
        restored.stop()
        restored.start()
        self.assertEqual([b'one', b'after restore'],
                         app.mget('k1', 'k2'))
        restored.stop()

        wrong_key = base64.b64encode(os.urandom(32)).decode()
        self.assert_refused([full], 'another key', key=wrong_key)
        self.corrupt(full)
        self.assert_refused([full], 'corrupt')


class MariadbBackupTest(_BackupTest):

    datastore = 'mariadb'
    manager = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 2

    def app(self) -> pymysql.Connection:
        connection = pymysql.connect(host=self.address, port=3306,
                                     user='app', password='app-pw',
                                     database='appdb', autocommit=True)
        self.addCleanup(connection.close)
        return connection

    def rows(self) -> list:
        with self.app().cursor() as cursor:
            cursor.execute('SELECT id, v FROM t ORDER BY id')
            return [tuple(row) for row in cursor.fetchall()]

    def insert(self, rows: list) -> None:
        with self.app().cursor() as cursor:
            cursor.executemany('INSERT INTO t VALUES (%s, %s)', rows)

    def test_full_incremental_restore_and_refusals(self) -> None:
        self.engine.prepare()
        with self.engine.cursor() as cursor:
            cursor.execute('CREATE DATABASE appdb')
            cursor.execute("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'")
            cursor.execute("GRANT ALL ON appdb.* TO 'app'@'%'")
            # What a tenant with root could leave in the backup: the
            # agent's account with another password (read at the next
            # start only). A restore must make it the agent's again.
            cursor.execute(
                "UPDATE mysql.global_priv SET Priv = '{\"access\":0,"
                "\"plugin\":\"mysql_native_password\","
                "\"authentication_string\":\"*0000000000000000000000000"
                "000000000000000\"}' WHERE User = 'root' AND "
                "Host = 'localhost'")
        with self.app().cursor() as cursor:
            cursor.execute('CREATE TABLE t (id INT PRIMARY KEY, '
                           'v VARCHAR(40)) ENGINE=InnoDB')
        first = [(1, 'one'), (2, 'two')]
        self.insert(first)
        full = self.create('full-1')
        self.assertEqual('full-backuped', full['metadata']['backup_type'])
        self.assertGreater(full['metadata']['to_lsn'], 0)
        second = [(3, 'three'), (4, 'four')]
        self.insert(second)
        incremental = self.create('incr-1', parent=full)
        self.assertEqual('incremental',
                         incremental['metadata']['backup_type'])
        self.assertEqual(full['metadata']['to_lsn'],
                         incremental['metadata']['from_lsn'])
        # to_lsn is the checkpoint's, which may not have moved.
        self.assertGreater(incremental['metadata']['last_lsn'],
                           full['metadata']['last_lsn'])

        restored = self.restore([full])
        self.assertEqual(first, self.rows())
        # The agent's account works on the restored data.
        self.assertTrue(restored.is_healthy())
        restored.stop()
        restored = self.restore([full, incremental])
        self.assertEqual(first + second, self.rows())
        restored.stop()

        self.corrupt(incremental)
        self.assert_refused([full, incremental], 'corrupt')
        with open(self.path_of(full), 'r+b') as stored:
            stored.truncate(os.path.getsize(self.path_of(full)) - 100)
        self.assert_refused([full], 'truncated')


class PostgresqlBackupTest(_BackupTest):

    datastore = 'postgresql'
    manager = 'postgresql'
    version = '15'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    address = ADDRESS % 3

    def rows(self) -> list:
        with psycopg.connect(host=self.address, port=5432, user='app',
                             password='app-pw', dbname='appdb') as app:
            return app.execute('SELECT id, v FROM t ORDER BY id').fetchall()

    def insert(self, *rows) -> None:
        with psycopg.connect(host=self.address, port=5432, user='app',
                             password='app-pw', dbname='appdb',
                             autocommit=True) as app:
            for row in rows:
                app.execute('INSERT INTO t VALUES (%s, %s)', row)

    def test_full_incremental_restore_and_refusals(self) -> None:
        self.engine.prepare()
        with self.engine.connect() as connection:
            connection.execute("CREATE ROLE app LOGIN PASSWORD 'app-pw'")
            connection.execute('CREATE DATABASE appdb OWNER app')
        with psycopg.connect(host=self.address, port=5432, user='app',
                             password='app-pw', dbname='appdb',
                             autocommit=True) as app:
            app.execute('CREATE TABLE t (id int PRIMARY KEY, v text)')
        first, second, third = [(1, 'one'), (2, 'two')], [(3, 'three')], \
            [(4, 'four')]
        self.insert(*first)
        full = self.create('full-1')
        self.assertEqual('pg_basebackup-tar', full['metadata']['format'])
        self.insert(*second)
        incremental = self.create('incr-1', parent=full)
        self.assertEqual('pg_wal-tar', incremental['metadata']['format'])
        self.assertEqual(full['metadata']['wal_end'],
                         incremental['metadata']['wal_start'])
        self.insert(*third)
        incremental2 = self.create('incr-2', parent=incremental)
        # The slot moved on: the WAL since the full backup is gone.
        error = self.assertRaises(backup.BackupFailed, self.create,
                                  'incr-x', full)
        self.assertIn('no longer kept', error.message)

        for chain, rows in (([full], first),
                            ([full, incremental], first + second),
                            ([full, incremental, incremental2],
                             first + second + third)):
            restored = self.restore(chain)
            self.assertEqual(rows, self.rows())
            self.assertTrue(restored.is_healthy())
            restored.stop()

        self.corrupt(incremental)
        self.assert_refused([full, incremental], 'corrupt')


class BackupConductor:
    """Keeps the heartbeats and backup reports instead of sending them."""

    def __init__(self) -> None:
        self.reports: list[tuple] = []

    def heartbeat(self, context, instance_id, payload, sent) -> None:
        pass

    def update_backup(self, context, instance_id, backup_id, payload,
                      sent) -> None:
        self.reports.append((backup_id, payload))


class AgentBackupTest(testtools.TestCase):
    """Through the guest agent's RPC methods: create_backup reports
    BUILDING then COMPLETED, and a new agent's prepare(backup_info)
    restores it before its engine starts, with the users of the request
    created on top."""

    address = ADDRESS % 4

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        os.chmod(self.work, 0o755)
        result = subprocess.run(
            [sys.executable, test_lifecycle.BUILDER, 'redis', '7.0',
             '--output', self.work], capture_output=True, text=True,
            timeout=900)
        self.assertEqual(0, result.returncode, result.stderr)
        self.root = os.path.join(self.work, 'root')
        with tarfile.open(result.stdout.split(':')[0]) as archive:
            archive.extractall(self.root, filter='tar')
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.context = trove_context.admin_context()

    def agent(self, volume: str) -> guest_manager.Manager:
        os.makedirs(os.path.join(self.work, volume))
        self.conf.config(guest_root=self.root,
                         guest_volume=os.path.join(self.work, volume),
                         guest_address=self.address, guest_ram_mb=512)
        agent = guest_manager.Manager('agent-backup')
        agent._conductor = BackupConductor()
        self.addCleanup(lambda: agent.engine and agent.engine.stop())
        return agent

    def wait(self, condition, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_create_backup_then_prepare_from_it(self) -> None:
        agent = self.agent('volume')
        agent.prepare(self.context, 'redis', users=[
            {'name': 'app', 'password': 'app-pw'}])
        self.wait(lambda: agent.status != 'building')
        self.assertEqual('healthy', agent.status, agent.error)
        app = redis.Redis(host=self.address, username='app',
                          password='app-pw', socket_timeout=5)
        self.addCleanup(app.close)
        app.set('k', 'v')
        storage = {'driver': 'local',
                   'root': os.path.join(self.work, 'storage')}
        key = base64.b64encode(os.urandom(32)).decode()
        agent.create_backup(self.context, {
            'id': 'b1', 'instance_id': 'i1', 'name': 'b1',
            'datastore': 'redis', 'datastore_version': '7.0',
            'incremental': False, 'parent': None, 'storage': storage,
            'container': CONTAINER, 'encryption_key': key})
        reports = agent._conductor.reports
        self.wait(lambda: len(reports) == 2)
        self.assertEqual(('b1', {'state': 'BUILDING'}), reports[0])
        done = reports[1][1]
        self.assertEqual('COMPLETED', done['state'], done)
        self.assertEqual('redis-rdb-tar', done['metadata']['format'])
        agent.create_backup(self.context, {
            'id': 'b2', 'incremental': True, 'parent': dict(done, id='b1'),
            'storage': storage, 'container': CONTAINER,
            'encryption_key': key})
        self.wait(lambda: len(reports) == 4)
        self.assertEqual('FAILED', reports[3][1]['state'])
        self.assertIn('not supported', reports[3][1]['reason'])
        agent.engine.stop()

        restored = self.agent('volume2')
        restored.prepare(self.context, 'redis', users=[
            {'name': 'other', 'password': 'other-pw'}], backup_info={
                'id': 'b1', 'datastore': 'redis',
                'datastore_version': '7.0',
                'chain': [{'id': 'b1', 'location': done['location'],
                           'checksum': done['checksum'],
                           'metadata': done['metadata']}],
                'storage': storage, 'encryption_key': key})
        self.wait(lambda: restored.status != 'building')
        self.assertEqual('healthy', restored.status, restored.error)
        self.assertEqual(b'v', app.get('k'))
        self.assertEqual(['app', 'other'], sorted(
            user['name'] for user in restored.list_users(self.context)))

        failed = self.agent('volume3')
        restored.engine.stop()
        failed.prepare(self.context, 'redis', backup_info={
            'id': 'b1', 'chain': [{'id': 'b1', 'location': done['location'],
                                   'checksum': '0' * 32}],
            'storage': storage, 'encryption_key': key})
        self.wait(lambda: failed.status != 'building')
        self.assertEqual('failed to spawn', failed.status)
        self.assertIn('Backup b1 cannot be restored: its checksum is',
                      failed.error)
