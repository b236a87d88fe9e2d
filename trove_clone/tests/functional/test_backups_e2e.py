"""Backups end to end, through python-troveclient, for MariaDB,
PostgreSQL and Redis: rows written, a full backup, more rows, an
incremental backup (not Redis), more rows, then the full and the
incremental restored into new instances, each read back with exactly
what its point had, by the tenant's user the backup brought along.

Skipped while the guest agent has no backup capability (the guest side
of issue 15)."""
import os
import time

import psycopg
import pymysql
import redis
from troveclient import exceptions

from trove_clone.tests.functional import instances as deployment

WAIT = 300
USER = 'tenant_app'
PASSWORD = 'Tenant-pw-4b7d'


class BackupEndToEndTest(deployment.DeploymentTestCase):

    address_pool = '127.77.152.16/28'
    datastores = ('redis', 'postgresql', 'mariadb')

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()

    # --- instances and backups -------------------------------------------

    def create(self, datastore: str, name: str,
               backup_id: str | None = None) -> str:
        kwargs = {'volume': {'size': 1}, 'datastore': datastore}
        if backup_id:
            kwargs['restorePoint'] = {'backupRef': backup_id}
        else:
            kwargs['users'] = [{'name': USER, 'password': PASSWORD}]
            if datastore != 'redis':
                kwargs['databases'] = [{'name': 'appdb'}]
                kwargs['users'][0]['databases'] = [{'name': 'appdb'}]
        instance = self.trove.instances.create(name, '1', **kwargs)
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        self.wait_active(instance.id)
        return instance.id

    def wait_active(self, instance_id: str):
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(instance_id)
            if instance.status in ('ACTIVE', 'HEALTHY'):
                return instance
            if instance.status == 'ERROR':
                self.fail('ERROR: %s' % getattr(instance, 'fault', None))
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.3)

    def backup(self, instance_id: str, name: str, incremental: bool = False,
               check_busy: bool = False):
        backup = self.trove.backups.create(name, instance_id,
                                           incremental=incremental)
        if check_busy:
            # While it runs the instance shows BACKUP and refuses actions
            # (a mariadb-backup lasts seconds: no race with its end).
            self.assertEqual('BACKUP',
                             self.trove.instances.get(instance_id).status)
            self.assertRaises(exceptions.UnprocessableEntity,
                              self.trove.instances.restart, instance_id)
        deadline = time.monotonic() + WAIT
        while backup.status in ('NEW', 'BUILDING', 'SAVING'):
            self.assertLess(time.monotonic(), deadline, backup.status)
            time.sleep(0.5)
            backup = self.trove.backups.get(backup.id)
        self.assertEqual('COMPLETED', backup.status,
                         getattr(backup, 'fail_reason', None))
        # GB: a small backup may round to 0.
        self.assertGreaterEqual(backup.size, 0)
        self.assertTrue(backup.locationRef)
        self.wait_active(instance_id)
        return backup

    def address(self, instance_id: str) -> str:
        return self.trove.instances.get(instance_id).ip[0]

    # --- the engines' data -----------------------------------------------

    def write(self, datastore: str, instance_id: str, value: str) -> None:
        address = self.address(instance_id)
        if datastore == 'redis':
            client = redis.Redis(host=address, username=USER,
                                 password=PASSWORD, socket_timeout=10)
            with client:
                client.rpush('items', value)
        elif datastore == 'postgresql':
            with psycopg.connect(host=address, user=USER, password=PASSWORD,
                                 dbname='appdb', connect_timeout=10,
                                 autocommit=True) as connection:
                connection.execute('CREATE TABLE IF NOT EXISTS items '
                                   '(value text)')
                connection.execute('INSERT INTO items VALUES (%s)',
                                   (value,))
        else:
            connection = pymysql.connect(
                host=address, user=USER, password=PASSWORD,
                database='appdb', connect_timeout=10, autocommit=True)
            with connection, connection.cursor() as cursor:
                cursor.execute('CREATE TABLE IF NOT EXISTS items '
                               '(value varchar(64))')
                cursor.execute('INSERT INTO items VALUES (%s)', (value,))

    def read(self, datastore: str, instance_id: str) -> list[str]:
        address = self.address(instance_id)
        if datastore == 'redis':
            client = redis.Redis(host=address, username=USER,
                                 password=PASSWORD, socket_timeout=10)
            with client:
                return [item.decode() for item in
                        client.lrange('items', 0, -1)]
        if datastore == 'postgresql':
            with psycopg.connect(host=address, user=USER, password=PASSWORD,
                                 dbname='appdb',
                                 connect_timeout=10) as connection:
                return [row[0] for row in connection.execute(
                    'SELECT value FROM items ORDER BY value').fetchall()]
        connection = pymysql.connect(host=address, user=USER,
                                     password=PASSWORD, database='appdb',
                                     connect_timeout=10)
        with connection, connection.cursor() as cursor:
            cursor.execute('SELECT value FROM items ORDER BY value')
            return [row[0] for row in cursor.fetchall()]

    # --- the scenario -----------------------------------------------------

    def round_trip(self, datastore: str) -> None:
        source = self.create(datastore, 'bk-%s' % datastore)
        self.write(datastore, source, 'a-before-full')
        full = self.backup(source, 'full',
                           check_busy=datastore == 'mariadb')
        self.assertIsNone(full.parent_id)
        self.write(datastore, source, 'b-before-incremental')
        points = [(full, ['a-before-full'])]
        if datastore != 'redis':
            incremental = self.backup(source, 'incremental',
                                      incremental=True)
            self.assertEqual(full.id, incremental.parent_id)
            points.append((incremental, ['a-before-full',
                                         'b-before-incremental']))
        self.write(datastore, source, 'c-after-backups')
        for backup, expected in points:
            restored = self.create(datastore, 'restored-%s' % backup.name,
                                   backup.id)
            self.assertEqual(expected, self.read(datastore, restored),
                             backup.name)
            self.deployment.delete_and_wait(restored)
        self.assertEqual(['a-before-full', 'b-before-incremental',
                          'c-after-backups'], self.read(datastore, source))
        # The full backup goes with its incremental child.
        self.trove.backups.delete(full.id)
        deadline = time.monotonic() + 60
        while self.trove.backups.list(instance_id=source):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)

    def test_mariadb(self) -> None:
        self.round_trip('mariadb')

    def test_postgresql(self) -> None:
        self.round_trip('postgresql')

    def test_redis(self) -> None:
        self.round_trip('redis')

    def test_a_corrupted_backup_is_not_restored(self) -> None:
        source = self.create('redis', 'bk-corrupt')
        self.write('redis', source, 'kept')
        backup = self.backup(source, 'to-corrupt')
        # The local storage's object (backups beside trove.conf), one
        # byte changed in the middle.
        scheme = 'local:///'
        self.assertTrue(backup.locationRef.startswith(scheme))
        path = os.path.join(
            os.path.dirname(self.deployment.api.conf_path), 'backups',
            backup.locationRef[len(scheme):])
        with open(path, 'r+b') as stored:
            stored.seek(os.path.getsize(path) // 2)
            byte = stored.read(1)
            stored.seek(-1, os.SEEK_CUR)
            stored.write(bytes([byte[0] ^ 0xff]))
        restored = self.trove.instances.create(
            'restored-corrupt', '1', volume={'size': 1}, datastore='redis',
            restorePoint={'backupRef': backup.id})
        self.addCleanup(self.deployment.delete_and_wait, restored.id)
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(restored.id)
            if instance.status == 'ERROR':
                break
            self.assertNotIn(instance.status, ('ACTIVE', 'HEALTHY'),
                             'a corrupted backup was restored')
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.3)
        fault = self.trove.instances.get(restored.id).fault
        self.assertIn(backup.id, fault['details'] + fault['message'])
