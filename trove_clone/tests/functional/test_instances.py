"""Instances end to end, through the real python-troveclient: create with a
database and a user, connect with the engine's own driver as that user,
write, restart, resize the volume and the flavor, enable root, delete and
find nothing left."""
import os
import time

import psycopg
import pymysql
import redis
from troveclient import exceptions as trove_exc

from trove_clone.tests.functional import instances as deployment

WAIT = 180


class _InstanceTest(deployment.DeploymentTestCase):

    datastore = ''
    address_pool = ''
    #: Whether the datastore has named databases.
    has_databases = True

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()

    def wait_for(self, instance_id: str, *statuses: str,
                 timeout: float = WAIT):
        deadline = time.monotonic() + timeout
        while True:
            instance = self.trove.instances.get(instance_id)
            if instance.status in statuses:
                return instance
            if instance.status == 'ERROR' and 'ERROR' not in statuses:
                self.fail('Instance went to ERROR: %s'
                          % getattr(instance, 'fault', None))
            if time.monotonic() > deadline:
                self.fail('Instance is %s after %d s, not %s'
                          % (instance.status, timeout, statuses))
            time.sleep(0.2)

    def wait_gone(self, instance_id: str, timeout: float = WAIT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.trove.instances.get(instance_id)
            except trove_exc.NotFound:
                return
            time.sleep(0.2)
        self.fail('Instance %s still exists after %d s'
                  % (instance_id, timeout))

    def create(self, name: str, **kwargs):
        kwargs.setdefault('volume', {'size': 1})
        kwargs.setdefault('datastore', self.datastore)
        instance = self.trove.instances.create(name, '1', **kwargs)
        self.addCleanup(self._delete_quietly, instance.id)
        return instance

    def _delete_quietly(self, instance_id: str) -> None:
        try:
            self.trove.instances.delete(instance_id)
        except trove_exc.ClientException:
            return
        try:
            self.wait_gone(instance_id)
        except AssertionError:
            pass

    # --- per datastore -------------------------------------------------
    def connect(self, address: str, user: str, password: str,
                database: str | None):
        raise NotImplementedError

    def write(self, connection, value: str) -> None:
        raise NotImplementedError

    def read(self, connection) -> list[str]:
        raise NotImplementedError

    def close(self, connection) -> None:
        connection.close()

    def check(self, address: str, user: str, password: str,
              database: str | None, expected: list[str]) -> None:
        connection = self.connect(address, user, password, database)
        try:
            self.assertEqual(expected, self.read(connection))
        finally:
            self.close(connection)

    def test_instance_lifecycle(self) -> None:
        databases = [{'name': 'appdb'}] if self.has_databases else []
        users = [{'name': 'app', 'password': 'app-secret-1',
                  'databases': databases}]
        created = self.create('life', databases=databases, users=users)
        self.assertEqual('BUILD', created.status)
        instance = self.wait_for(created.id, 'ACTIVE')
        self.assertEqual('HEALTHY', instance.operating_status)
        address = instance.ip[0]
        database = 'appdb' if self.has_databases else None
        connection = self.connect(address, 'app', 'app-secret-1', database)
        self.write(connection, 'first')
        self.close(connection)
        self.check(address, 'app', 'app-secret-1', database, ['first'])

        self.trove.instances.restart(created.id)
        self.wait_for(created.id, 'ACTIVE')
        self.check(address, 'app', 'app-secret-1', database, ['first'])

        self.trove.instances.resize_volume(created.id, 2)
        instance = self.wait_for(created.id, 'ACTIVE')
        self.assertEqual(2, instance.volume['size'])
        self.check(address, 'app', 'app-secret-1', database, ['first'])

        self.trove.instances.resize_instance(created.id, '2')
        instance = self.wait_for(created.id, 'ACTIVE')
        self.assertEqual('2', instance.flavor['id'])
        self.check(address, 'app', 'app-secret-1', database, ['first'])

        root = self.trove.root.create(created.id)
        self.assertTrue(root[1])
        self.check(address, root[0], root[1], database, ['first'])
        self.assertTrue(self.trove.root.is_root_enabled(created.id)
                        .rootEnabled)

        server_root = os.path.join(self.deployment.state, 'local',
                                   'servers')
        self.trove.instances.delete(created.id)
        self.wait_gone(created.id)
        self.assertEqual([], [name for name in os.listdir(server_root)
                              if name != '.lock'])

    def test_users_and_databases_through_the_api(self) -> None:
        created = self.create('accounts')
        instance = self.wait_for(created.id, 'ACTIVE')
        address = instance.ip[0]
        databases = []
        if self.has_databases:
            self.trove.databases.create(created.id, [{'name': 'shop'},
                                                     {'name': 'blog'}])
            databases = [{'name': 'shop'}]
            self.assertEqual(['blog', 'shop'], sorted(
                db.name for db in self.trove.databases.list(created.id)))
        else:
            self.assertRaises(trove_exc.ClientException,
                              self.trove.databases.create, created.id,
                              [{'name': 'shop'}])
        self.trove.users.create(created.id, [{
            'name': 'clerk', 'password': 'clerk-pw-1',
            'databases': databases}])
        self.assertEqual(['clerk'], [user.name for user in
                                     self.trove.users.list(created.id)])
        self.assertRaises(trove_exc.BadRequest, self.trove.users.create,
                          created.id, [{'name': 'clerk', 'password': 'x'}])
        database = 'shop' if self.has_databases else None
        connection = self.connect(address, 'clerk', 'clerk-pw-1', database)
        self.write(connection, 'sold')
        self.close(connection)
        self.trove.users.change_passwords(created.id, [{
            'name': 'clerk', 'password': 'clerk-pw-2'}])
        self.check(address, 'clerk', 'clerk-pw-2', database, ['sold'])
        if self.has_databases:
            self.trove.users.grant(created.id, 'clerk', ['blog'])
            self.assertEqual(['blog', 'shop'], sorted(
                db.name for db in self.trove.users.list_access(
                    created.id, 'clerk')))
            self.trove.users.revoke(created.id, 'clerk', 'blog')
            self.trove.databases.delete(created.id, 'blog')
            self.assertEqual(['shop'], [
                db.name for db in self.trove.databases.list(created.id)])
        self.trove.users.delete(created.id, 'clerk')
        self.assertRaises(trove_exc.NotFound, self.trove.users.get,
                          created.id, 'clerk')
        self.assertEqual([], self.trove.users.list(created.id))


class RedisInstanceTest(_InstanceTest):

    datastore = 'redis'
    address_pool = '127.77.240.0/28'
    has_databases = False

    def connect(self, address, user, password, database):
        return redis.Redis(host=address, port=6379, username=user,
                           password=password, socket_timeout=5,
                           retry_on_timeout=False)

    def write(self, connection, value):
        connection.rpush('values', value)

    def read(self, connection):
        items = connection.lrange('values', 0, -1)
        return [item.decode() for item in items]


class PostgresqlInstanceTest(_InstanceTest):

    datastore = 'postgresql'
    address_pool = '127.77.241.0/28'

    def connect(self, address, user, password, database):
        return psycopg.connect(host=address, port=5432, user=user,
                               password=password, dbname=database,
                               connect_timeout=5, autocommit=True)

    def write(self, connection, value):
        connection.execute('CREATE TABLE IF NOT EXISTS items (value text)')
        connection.execute('INSERT INTO items VALUES (%s)', (value,))

    def read(self, connection):
        return [row[0] for row in connection.execute(
            'SELECT value FROM items ORDER BY value')]


class MariadbInstanceTest(_InstanceTest):

    datastore = 'mysql'
    address_pool = '127.77.242.0/28'

    def connect(self, address, user, password, database):
        return pymysql.connect(host=address, port=3306, user=user,
                               password=password, database=database,
                               connect_timeout=5, autocommit=True)

    def write(self, connection, value):
        with connection.cursor() as cursor:
            cursor.execute('CREATE TABLE IF NOT EXISTS items '
                           '(value varchar(64))')
            cursor.execute('INSERT INTO items VALUES (%s)', (value,))

    def read(self, connection):
        with connection.cursor() as cursor:
            cursor.execute('SELECT value FROM items ORDER BY value')
            return [row[0] for row in cursor.fetchall()]


del _InstanceTest
