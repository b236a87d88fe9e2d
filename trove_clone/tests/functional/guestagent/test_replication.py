"""Replication of real engines from real guest images, through the
guest's replication capability (as the agent calls it, without a
deployment): a primary and one replica on loopback addresses; rows
written on the primary are read on the replica with the tenant's own
user and the engine's client; the tenant's write on the replica is
refused; a planned switchover (demote, wait for the position, promote,
the old primary follows the new one); a write on the new primary read
on the old one, which now refuses writes."""
import base64
import os
import time
import uuid

import psycopg
import pymysql
import redis

from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.guestagent.datastores import loader
from trove_clone.tests.functional.guestagent import test_lifecycle

_LifecycleTest = test_lifecycle.RedisLifecycleTest.__bases__[0]

ADDRESS = '127.77.156.%d'


def eventually(check, timeout: float = 10.0):
    """``check()`` once it stops raising and returns something true."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except Exception:  # noqa: B902 - retried until the deadline
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            return check()
        time.sleep(0.05)


class _ReplicationTest(_LifecycleTest):

    manager = ''
    replica_address = ''

    def setUp(self) -> None:
        super().setUp()
        self.primary_id = str(uuid.uuid4())
        self.replica_id = str(uuid.uuid4())
        self.replica = self.lifecycle_class(
            self.root, self.replica_address,
            os.path.join(self.work, 'replica-volume', 'data'),
            self.manifest['programs'], 512)
        self.addCleanup(self.replica.stop)

    def replication(self, engine: lifecycle_base.Lifecycle
                    ) -> replication.Replication:
        return loader.capability('replication', self.manager, engine)

    def make_replica(self, snapshot: dict) -> None:
        """What the agent's prepare(snapshot=...) does."""
        self.replication(self.replica).seed(snapshot)
        self.replica.prepare()
        self.replication(self.replica).attach(snapshot, seeded=True)

    def switchover(self) -> None:
        """promote_to_replica_source as the contract orders it."""
        old, new = self.replication(self.engine), \
            self.replication(self.replica)
        old.demote()
        new.wait_for_txn(old.latest_txn_id(), timeout=30)
        new.promote()
        old.attach(new.context({'id': self.primary_id,
                                'address': self.address}))
        old.cleanup({'replica_id': self.replica_id})
        self.assertEqual('replica', old.status()['role'])
        self.assertEqual('source', new.status()['role'])
        self.assertEqual([self.primary_id], list(
            replication.load_state(self.replica)['replicas']))
        self.assertEqual({}, replication.load_state(self.engine).get(
            'replicas'))

    def detach_old_primary(self) -> None:
        """detach_replica of the old primary, then the source's
        cleanup, as the contract orders them."""
        info = self.replication(self.engine).detach()
        self.assertEqual({'replica_id': self.primary_id,
                          'user': replication.user_name(self.primary_id)},
                         info)
        self.replication(self.replica).cleanup(info)
        self.assertIsNone(self.replication(self.engine).status())
        self.assertIsNone(self.replication(self.replica).status())

    def eject_after_the_primary_dies(self) -> None:
        """eject_replica_source: the primary killed, the most advanced
        replica (get_last_txn) promoted with everything it received."""
        self.start_primary()
        self.write(self.address, 1)
        self.build_replica()
        self.write(self.address, 2)
        eventually(lambda: self.read(self.replica_address) == [1, 2], 5)
        self.engine.process.kill()
        self.engine.process.wait()
        self.assertGreater(self.replication(self.replica).last_txn()['rank'],
                           0)
        self.replication(self.replica).promote()
        self.write(self.replica_address, 3)
        self.assertEqual([1, 2, 3], self.read(self.replica_address))
        self.assertIsNone(self.replication(self.replica).status())

    def assert_streaming(self, engine: lifecycle_base.Lifecycle) -> dict:
        status = self.replication(engine).status()
        self.assertEqual('replica', status['role'])
        self.assertEqual('streaming', status['state'], status)
        return status


class RedisReplicationTest(_ReplicationTest):

    datastore = 'redis'
    manager = 'redis'
    version = '7.0'
    lifecycle_class = redis_lifecycle.RedisLifecycle
    address = ADDRESS % 1
    replica_address = ADDRESS % 2

    def app(self, address: str) -> redis.Redis:
        client = redis.Redis(host=address, port=6379, username='app',
                             password='app-pw', socket_timeout=5)
        self.addCleanup(client.close)
        return client

    def start_primary(self) -> redis.Redis:
        self.engine.prepare()
        admin = self.engine.client(timeout=5)
        self.addCleanup(admin.close)
        admin.execute_command('ACL', 'SETUSER', 'app', 'on', '>app-pw',
                              '~*', '&*', '+@all')
        return admin

    def build_replica(self) -> dict:
        snapshot = self.replication(self.engine).snapshot(
            {'id': self.replica_id, 'address': self.replica_address})
        self.make_replica(snapshot)
        return snapshot

    def write(self, address: str, number: int) -> None:
        self.app(address).set('row:%d' % number, number)

    def read(self, address: str) -> list:
        return sorted(int(key.split(b':')[1])
                      for key in self.app(address).keys('row:*'))

    def test_replicate_refuse_switch_over(self) -> None:
        admin = self.start_primary()
        primary, replica = self.app(self.address), \
            self.app(self.replica_address)
        primary.set('before', 'attach')

        started = time.monotonic()
        snapshot = self.build_replica()
        self.assertNotIn('dataset', snapshot)
        # In sync well under a second (repl-diskless-sync-delay 0).
        self.assertLess(time.monotonic() - started, 3)
        self.assertEqual(b'attach', replica.get('before'))
        primary.set('k1', 'one')
        self.assertEqual(b'one', eventually(lambda: replica.get('k1'), 2))
        self.assertRaises(redis.exceptions.ReadOnlyError, replica.set,
                          'k2', 'refused')
        self.assert_streaming(self.replica)
        # The replication user can do nothing but replicate.
        user = snapshot['master']['user']
        intruder = redis.Redis(host=self.address, port=6379, username=user,
                               password=snapshot['master']['password'])
        self.addCleanup(intruder.close)
        self.assertRaises(redis.exceptions.NoPermissionError, intruder.get,
                          'k1')

        self.switchover()
        replica.set('k3', 'on the new primary')
        self.assertEqual(b'on the new primary',
                         eventually(lambda: primary.get('k3'), 2))
        self.assertRaises(redis.exceptions.ReadOnlyError, primary.set,
                          'k4', 'refused')
        # A restart keeps the old primary a replica of the new one.
        self.engine.stop()
        self.engine.start()
        replica.set('k5', 'after restart')
        self.assertEqual(b'after restart',
                         eventually(lambda: primary.get('k5'), 5))
        self.assertRaises(redis.exceptions.ReadOnlyError, primary.set,
                          'k6', 'refused')
        # Detached, it keeps its data and takes writes; the account it
        # used is gone from the source.
        self.detach_old_primary()
        primary.set('k7', 'standalone')
        self.assertEqual([b'one', b'after restart', b'standalone'],
                         primary.mget('k1', 'k5', 'k7'))
        self.assertNotIn(replication.user_name(self.primary_id).encode(),
                         admin.execute_command('ACL', 'USERS'))
        new_admin = self.replica.client(timeout=5)
        self.addCleanup(new_admin.close)
        self.assertNotIn(replication.user_name(self.primary_id).encode(),
                         new_admin.execute_command('ACL', 'USERS'))

    def test_eject_after_the_primary_dies(self) -> None:
        self.eject_after_the_primary_dies()


class MariadbReplicationTest(_ReplicationTest):

    datastore = 'mariadb'
    manager = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 3
    replica_address = ADDRESS % 4

    def app(self, address: str) -> pymysql.Connection:
        connection = pymysql.connect(host=address, port=3306, user='app',
                                     password='app-pw', database='appdb',
                                     autocommit=True)
        self.addCleanup(connection.close)
        return connection

    def rows(self, address: str) -> list:
        with self.app(address).cursor() as cursor:
            cursor.execute('SELECT id, v FROM t ORDER BY id')
            return [tuple(row) for row in cursor.fetchall()]

    def insert(self, address: str, *rows) -> None:
        with self.app(address).cursor() as cursor:
            cursor.executemany('INSERT INTO t VALUES (%s, %s)', rows)

    def start_primary(self) -> None:
        self.engine.prepare()
        with self.engine.cursor() as cursor:
            cursor.execute('CREATE DATABASE appdb')
            cursor.execute("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'")
            cursor.execute("GRANT ALL ON appdb.* TO 'app'@'%'")
        with self.app(self.address).cursor() as cursor:
            cursor.execute('CREATE TABLE t (id INT PRIMARY KEY, '
                           'v VARCHAR(40)) ENGINE=InnoDB')

    def write(self, address: str, number: int) -> None:
        self.insert(address, (number, 'row %d' % number))

    def read(self, address: str) -> list:
        return [row[0] for row in self.rows(address)]

    def build_replica(self, *after_backup) -> dict:
        """A replica seeded from a fresh backup, ``after_backup`` rows
        written on the primary between the backup and the attach."""
        storage = {'driver': 'local',
                   'root': os.path.join(self.work, 'storage')}
        key = base64.b64encode(os.urandom(32)).decode()
        backup = loader.capability('backup', self.manager, self.engine)
        result = dict(backup.create({
            'id': 'b-1', 'incremental': False, 'parent': None,
            'storage': storage, 'container': 'backups',
            'encryption_key': key}), id='b-1')
        self.assertTrue(result['metadata'].get('gtid'), result['metadata'])
        snapshot = self.replication(self.engine).snapshot(
            {'id': self.replica_id, 'address': self.replica_address},
            result)
        self.assertEqual(result['metadata']['gtid'],
                         snapshot['dataset']['log_position'])
        if after_backup:
            self.insert(self.address, *after_backup)
        loader.capability('backup', self.manager, self.replica).restore({
            'id': 'b-1', 'chain': [{name: result[name] for name in (
                'id', 'location', 'checksum', 'metadata')}],
            'storage': storage, 'encryption_key': key})
        self.make_replica(snapshot)
        return snapshot

    def test_replicate_refuse_switch_over(self) -> None:
        self.start_primary()
        self.insert(self.address, (1, 'in the backup'))
        self.assertNotEqual(self.engine.server_id, self.replica.server_id)
        # Written after the backup: comes through the binary log, once.
        self.build_replica((2, 'after the backup'))

        expected = [(1, 'in the backup'), (2, 'after the backup')]
        self.assertEqual(expected, eventually(
            lambda: self.rows(self.replica_address) == expected and
            self.rows(self.replica_address), 5))
        self.insert(self.address, (3, 'streamed'))
        expected.append((3, 'streamed'))
        self.assertEqual(expected, eventually(
            lambda: self.rows(self.replica_address) == expected and
            self.rows(self.replica_address), 5))
        error = self.assertRaises(pymysql.err.OperationalError, self.insert,
                                  self.replica_address, (9, 'refused'))
        self.assertEqual(1290, error.args[0])  # --read-only
        status = self.assert_streaming(self.replica)
        self.assertEqual(0.0, status['lag_seconds'])

        self.switchover()
        self.insert(self.replica_address, (4, 'on the new primary'))
        expected.append((4, 'on the new primary'))
        self.assertEqual(expected, eventually(
            lambda: self.rows(self.address) == expected and
            self.rows(self.address), 5))
        error = self.assertRaises(pymysql.err.OperationalError, self.insert,
                                  self.address, (9, 'refused'))
        self.assertEqual(1290, error.args[0])
        self.assert_streaming(self.engine)
        self.detach_old_primary()
        self.insert(self.address, (5, 'standalone'))
        self.assertEqual(expected + [(5, 'standalone')],
                         self.rows(self.address))
        with self.replica.cursor() as cursor:
            cursor.execute('SELECT COUNT(*) FROM mysql.user WHERE User = %s',
                           (replication.user_name(self.primary_id),))
            self.assertEqual((0,), cursor.fetchone())

    def test_eject_after_the_primary_dies(self) -> None:
        self.eject_after_the_primary_dies()


class PostgresqlReplicationTest(_ReplicationTest):

    datastore = 'postgresql'
    manager = 'postgresql'
    version = '15'
    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    address = ADDRESS % 5
    replica_address = ADDRESS % 6

    def connect(self, address: str) -> psycopg.Connection:
        connection = psycopg.connect(host=address, port=5432, user='app',
                                     password='app-pw', dbname='appdb',
                                     autocommit=True)
        self.addCleanup(connection.close)
        return connection

    def rows(self, address: str) -> list:
        return self.connect(address).execute(
            'SELECT id, v FROM t ORDER BY id').fetchall()

    def insert(self, address: str, *rows) -> None:
        connection = self.connect(address)
        for row in rows:
            connection.execute('INSERT INTO t VALUES (%s, %s)', row)

    def start_primary(self) -> None:
        self.engine.prepare()
        with self.engine.connect() as connection:
            connection.execute("CREATE ROLE app LOGIN PASSWORD 'app-pw'")
            connection.execute('CREATE DATABASE appdb OWNER app')
        self.connect(self.address).execute(
            'CREATE TABLE t (id int PRIMARY KEY, v text)')

    def build_replica(self) -> dict:
        snapshot = self.replication(self.engine).snapshot(
            {'id': self.replica_id, 'address': self.replica_address})
        self.make_replica(snapshot)
        return snapshot

    def write(self, address: str, number: int) -> None:
        self.insert(address, (number, 'row %d' % number))

    def read(self, address: str) -> list:
        return [row[0] for row in self.rows(address)]

    def test_replicate_refuse_switch_over(self) -> None:
        self.start_primary()
        self.insert(self.address, (1, 'before the copy'))

        snapshot = self.replication(self.engine).snapshot(
            {'id': self.replica_id, 'address': self.replica_address})
        self.assertEqual(snapshot['master']['user'],
                         snapshot['master']['slot'])
        with open(os.path.join(self.engine.pgdata, 'pg_hba.conf')) as hba:
            # On loopback, connections come from 127.0.0.1.
            self.assertIn('replication  %s  127.0.0.1/32' % (
                snapshot['master']['user']),
                hba.read())
        self.make_replica(snapshot)
        # The replication role reaches no tenant database.
        error = self.assertRaises(
            psycopg.OperationalError, psycopg.connect, host=self.address,
            port=5432, user=snapshot['master']['user'],
            password=snapshot['master']['password'], dbname='appdb')
        self.assertIn('pg_hba.conf rejects', str(error))
        expected = [(1, 'before the copy')]
        self.assertEqual(expected, self.rows(self.replica_address))
        self.insert(self.address, (2, 'streamed'))
        expected.append((2, 'streamed'))
        self.assertEqual(expected, eventually(
            lambda: self.rows(self.replica_address) == expected and
            self.rows(self.replica_address), 5))
        self.assertRaises(psycopg.errors.ReadOnlySqlTransaction, self.insert,
                          self.replica_address, (9, 'refused'))
        status = self.assert_streaming(self.replica)
        self.assertEqual(0, status['lag_bytes'])
        with self.engine.connect() as connection:
            self.assertEqual([(snapshot['master']['slot'], True)],
                             connection.execute(
                                 'SELECT slot_name, active FROM '
                                 'pg_replication_slots WHERE slot_name '
                                 "LIKE 'os_repl_%'").fetchall())

        self.switchover()
        self.insert(self.replica_address, (3, 'on the new primary'))
        expected.append((3, 'on the new primary'))
        self.assertEqual(expected, eventually(
            lambda: self.rows(self.address) == expected and
            self.rows(self.address), 5))
        self.assertRaises(psycopg.errors.ReadOnlySqlTransaction, self.insert,
                          self.address, (9, 'refused'))
        self.assert_streaming(self.engine)
        self.detach_old_primary()
        self.insert(self.address, (4, 'standalone'))
        self.assertEqual(expected + [(4, 'standalone')],
                         self.rows(self.address))
        with self.replica.connect() as connection:
            self.assertEqual([], connection.execute(
                "SELECT slot_name FROM pg_replication_slots UNION ALL "
                "SELECT rolname FROM pg_roles WHERE rolname = %s",
                (replication.user_name(self.primary_id),)).fetchall())

    def test_eject_after_the_primary_dies(self) -> None:
        self.eject_after_the_primary_dies()
