"""Replication end to end, through python-troveclient, for Redis,
MariaDB and PostgreSQL (one deployment, the three engines at once): a
primary with rows; two replicas of it in one request (``replica_of``,
``replica_count 2``);
rows written on the primary read back from each replica with the
tenant's user and the engine's own driver; writes on a replica refused;
promote (nothing lost, the old primary follows the new one); eject
after kill -9 of the new primary's engine and agent (by PID); detach
(the replica keeps its data and takes writes); everything deleted,
nothing left behind."""
import concurrent.futures
import json
import os
import signal
import threading
import time
import traceback

import psycopg
import pymysql
import redis
from testtools import content
from troveclient import exceptions

from trove_clone.tests.functional import instances as deployment
from trove_clone.tests.functional import test_engine_access

WAIT = 300
USER = 'repl_app'
PASSWORD = 'Repl-pw-71c2'


class ReplicationTest(deployment.DeploymentTestCase):

    address_pool = '127.77.160.0/28'
    datastores = ('redis', 'postgresql', 'mariadb')
    # The taskmanager must not restart the killed primary's agent before
    # the eject takes it (the watcher would, some seconds after its
    # heartbeat expired).
    extra_conf = 'server_watch_interval = 3600'

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()
        self.clients: dict = {}

    @property
    def client(self):
        """The client of the calling thread (the engines' scenarios run
        at once)."""
        ident = threading.get_ident()
        if ident not in self.clients:
            self.clients[ident] = self.deployment.client()
        return self.clients[ident]

    # --- instances ---------------------------------------------------------

    def wait_for(self, instance_id: str, check, what: str):
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.client.instances.get(instance_id)
            if check(instance):
                return instance
            if instance.status == 'ERROR':
                self.fail('%s: ERROR: %s' % (what, getattr(instance, 'fault',
                                                           None)))
            self.assertLess(time.monotonic(), deadline, '%s: %s' % (
                what, instance.status))
            time.sleep(0.3)

    def wait_active(self, instance_id: str, what: str = 'active'):
        return self.wait_for(
            instance_id, lambda i: i.status in ('ACTIVE', 'HEALTHY') and
            i.operating_status == 'HEALTHY', what)

    def create_primary(self, datastore: str) -> str:
        user = {'name': USER, 'password': PASSWORD}
        kwargs = {'users': [user]}
        if datastore != 'redis':
            kwargs['databases'] = [{'name': 'appdb'}]
            user['databases'] = [{'name': 'appdb'}]
        instance = self.client.instances.create(
            'repl-%s' % datastore, '1', volume={'size': 1},
            datastore=datastore, **kwargs)
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        self.wait_active(instance.id, 'primary')
        return instance.id

    def source_of(self, instance_id: str) -> str | None:
        replica_of = getattr(self.client.instances.get(instance_id),
                             'replica_of', None)
        return replica_of['id'] if replica_of else None

    def replicas_of(self, instance_id: str) -> set:
        return {item['id'] for item in getattr(
            self.client.instances.get(instance_id), 'replicas', [])}

    def kill(self, instance_id: str, datastore: str) -> None:
        """kill -9 the engine and the guest agent of an instance, by
        PID (the agent leads its server's process group)."""
        admin = self.deployment.client(user='admin')
        server_id = admin.mgmt_instances.show(instance_id).server['id']
        with open(os.path.join(self.deployment.state, 'local', 'servers',
                               server_id, 'server.json')) as record:
            agent = json.load(record)['pid']
        engines = test_engine_access.processes(
            agent, test_engine_access.PROCESS[datastore])
        self.assertTrue(engines)
        for pid in [agent] + [found['pid'] for found in engines]:
            os.kill(pid, signal.SIGKILL)

    # --- the engines' data -------------------------------------------------

    def address(self, instance_id: str) -> str:
        return self.client.instances.get(instance_id).ip[0]

    def write(self, datastore: str, instance_id: str, value: str) -> None:
        address = self.address(instance_id)
        if datastore == 'redis':
            with redis.Redis(host=address, username=USER, password=PASSWORD,
                             socket_timeout=10) as client:
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
            with redis.Redis(host=address, username=USER, password=PASSWORD,
                             socket_timeout=10) as client:
                return sorted(item.decode() for item in
                              client.lrange('items', 0, -1))
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

    def reads(self, datastore: str, instance_id: str, expected: list[str]
              ) -> None:
        """The instance has exactly ``expected``, once replication
        brought it there."""
        deadline = time.monotonic() + 60
        while True:
            try:
                found = self.read(datastore, instance_id)
            except Exception as error:  # noqa: B902 - retried to deadline
                found = error
            if found == expected:
                return
            if time.monotonic() > deadline:
                self.fail('%s has %s, not %s' % (instance_id, found,
                                                 expected))
            time.sleep(0.1)

    def refuses_writes(self, datastore: str, instance_id: str) -> None:
        refused = {'redis': redis.exceptions.ReadOnlyError,
                   'postgresql': psycopg.errors.ReadOnlySqlTransaction,
                   'mariadb': pymysql.err.OperationalError}[datastore]
        self.assertRaises(refused, self.write, datastore, instance_id,
                          'refused')

    # --- the scenario ------------------------------------------------------

    def scenario(self, datastore: str) -> None:
        primary = self.create_primary(datastore)
        self.write(datastore, primary, 'a')
        created = self.client.instances.create(
            'repl-%s-replica' % datastore, replica_of=primary,
            replica_count=2)
        first = created.id
        self.assertEqual(primary, created.replica_of['id'])
        replicas = self.replicas_of(primary)
        self.assertEqual(2, len(replicas))
        for replica in replicas:
            self.addCleanup(self.deployment.delete_and_wait, replica)
        names = {self.client.instances.get(replica).name
                 for replica in replicas}
        self.assertEqual({'repl-%s-replica-1' % datastore,
                          'repl-%s-replica-2' % datastore}, names)
        for replica in replicas:
            shown = self.wait_active(replica, 'replica')
            self.assertEqual((primary, 1), (shown.replica_of['id'],
                                            shown.volume['size']))
        self.write(datastore, primary, 'b')
        for replica in replicas:
            self.reads(datastore, replica, ['a', 'b'])
            self.refuses_writes(datastore, replica)
        lag = self.wait_for(
            first, lambda i: getattr(i, 'replication', None), 'lag')
        self.assertEqual('streaming', lag.replication['state'])
        # A live primary is not ejected; a primary with replicas is not
        # deleted.
        self.assertRaises(exceptions.BadRequest,
                          self.client.instances.eject_replica_source, primary)
        self.assertRaises(exceptions.Forbidden, self.client.instances.delete,
                          primary)

        # Promote: the old primary and the other replica follow the new.
        other = (replicas - {first}).pop()
        self.client.instances.promote_to_replica_source(first)
        self.wait_for(first, lambda i: not getattr(i, 'replica_of', None)
                      and i.status in ('ACTIVE', 'HEALTHY'), 'promote')
        for member in (primary, other):
            self.wait_active(member, 'after promote')
            self.assertEqual(first, self.source_of(member))
        self.assertEqual({primary, other}, self.replicas_of(first))
        self.write(datastore, first, 'c')
        for member in (primary, other):
            self.reads(datastore, member, ['a', 'b', 'c'])
        self.refuses_writes(datastore, primary)

        # Eject: the new primary dies; the most advanced replica takes
        # over, the other follows it.
        self.kill(first, datastore)
        deadline = time.monotonic() + 60
        while True:
            try:
                self.client.instances.eject_replica_source(first)
                break
            except exceptions.BadRequest as error:
                # Its heartbeat is not old enough yet.
                self.assertIn('heartbeat', str(error))
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.5)
        self.wait_for(first, lambda i: i.status != 'EJECT' and
                      not getattr(i, 'replicas', None), 'eject')
        survivors = {primary, other}
        new = [member for member in survivors
               if self.source_of(member) is None]
        self.assertEqual(1, len(new), 'one new primary')
        new = new[0]
        follower = (survivors - {new}).pop()
        self.wait_active(new, 'new primary')
        self.wait_active(follower, 'follower')
        self.assertEqual(new, self.source_of(follower))
        self.write(datastore, new, 'd')
        self.reads(datastore, follower, ['a', 'b', 'c', 'd'])

        # Detach: the follower keeps its data and takes writes.
        self.client.instances.update(follower, detach_replica_source=True)
        self.wait_for(follower, lambda i: not getattr(i, 'replica_of', None)
                      and i.status in ('ACTIVE', 'HEALTHY'), 'detach')
        self.write(datastore, follower, 'e')
        self.assertEqual(['a', 'b', 'c', 'd', 'e'],
                         self.read(datastore, follower))
        self.assertEqual(set(), self.replicas_of(new))

        # Everything deleted, nothing left.
        for member in (follower, new, first):
            self.client.instances.delete(member)
        for member in (follower, new, first):
            self.deployment.delete_and_wait(member)
            self.assertRaises(exceptions.NotFound,
                              self.client.instances.get, member)

    def test_redis_postgresql_mariadb(self) -> None:
        """The three engines' scenarios at once (most of each is waiting
        for a guest or an engine): one test, a third of the time."""
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            futures = {datastore: pool.submit(self.scenario, datastore)
                       for datastore in self.datastores}
        failures = {datastore: future.exception()
                    for datastore, future in futures.items()
                    if future.exception() is not None}
        for datastore, error in failures.items():
            self.addDetail('%s failure' % datastore, content.text_content(
                ''.join(traceback.format_exception(error))))
        self.assertEqual({}, {datastore: str(error) for datastore, error
                              in failures.items()})
        self.assertEqual([], self.trove.instances.list())
        servers = os.path.join(self.deployment.state, 'local', 'servers')
        deadline = time.monotonic() + 60
        while [name for name in os.listdir(servers) if name != '.lock']:
            self.assertLess(time.monotonic(), deadline, os.listdir(servers))
            time.sleep(0.5)
