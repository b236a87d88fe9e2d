"""MariaDB Galera clusters of real engines from a real guest image,
through the guest's cluster capability as the agent calls it (no
deployment; the calls in the order doc/clusters-galera.md gives the
taskmanager): three members on their own loopback addresses (standard
Galera ports on each), a write on each read on the others, a grow to
five (two joined at once, each copying the data through mariabackup
SST), a shrink back to three, a rolling restart with a client writing
throughout (no acknowledged write lost), and a restart of the whole
cluster from its most advanced member (the last one alive, crashed)."""
import os
import secrets
import threading
import time
import uuid

import pymysql

from trove_clone.guestagent.capabilities import cluster
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.mariadb import wsrep
from trove_clone.guestagent.datastores import loader
from trove_clone.services import cluster_topology
from trove_clone.tests.functional.guestagent import test_lifecycle

_LifecycleTest = test_lifecycle.RedisLifecycleTest.__bases__[0]

#: This class's sub-pool: 127.77.172.0/28.
ADDRESS = '127.77.172.%d'
#: How long a member may take to join (an SST on a loaded machine).
JOIN_TIMEOUT = 300


class _Writer(threading.Thread):
    """Inserts rows, one at a time, into whichever member answers;
    ``acknowledged`` holds the ids whose INSERT returned."""

    def __init__(self, addresses: list[str]) -> None:
        super().__init__(name='galera-writer', daemon=True)
        self.addresses = addresses
        self.acknowledged: list[int] = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        number, turn = 1000, 0
        connection = None
        while not self.stopping.is_set():
            number += 1
            try:
                if connection is None:
                    address = self.addresses[turn % len(self.addresses)]
                    turn += 1
                    connection = pymysql.connect(
                        host=address, user='app', password='app-pw',
                        database='appdb', autocommit=True,
                        connect_timeout=2, read_timeout=10,
                        write_timeout=10)
                with connection.cursor() as cursor:
                    cursor.execute('INSERT INTO t VALUES (%s, %s)',
                                   (number, 'writer'))
                self.acknowledged.append(number)
            except pymysql.Error:
                self.failures += 1
                if connection is not None:
                    connection.close()
                connection = None
        if connection is not None:
            connection.close()


class GaleraClusterTest(_LifecycleTest):

    datastore = 'mariadb'
    version = '10.11'
    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    address = ADDRESS % 1

    def setUp(self) -> None:
        super().setUp()
        self.assertTrue(os.path.exists(
            self.manifest['programs'].get(wsrep.PROVIDER_PROGRAM, '')),
            'galera-4 is not installed')
        self.cluster_id = str(uuid.uuid4())
        self.members = [self.engine]
        for number in range(2, 6):
            member = self.lifecycle_class(
                self.root, ADDRESS % number,
                os.path.join(self.work, 'volume-%d' % number, 'data'),
                self.manifest['programs'], 512)
            self.addCleanup(member.stop)
            self.members.append(member)
        self.ids = {member.address: str(uuid.uuid4())
                    for member in self.members}
        #: What the taskmanager derives per cluster (tasks/cluster.py).
        self.secret = secrets.token_urlsafe(32)

    def capability(self, member) -> cluster.Cluster:
        return loader.capability('cluster', 'mariadb', member)

    def member_list(self, count: int) -> list[dict]:
        return [{'id': self.ids[member.address], 'address': member.address}
                for member in self.members[:count]]

    def connect(self, member) -> pymysql.Connection:
        connection = pymysql.connect(host=member.address, user='app',
                                     password='app-pw', database='appdb',
                                     autocommit=True, connect_timeout=5)
        self.addCleanup(connection.close)
        return connection

    def ids_on(self, member) -> list[int]:
        with self.connect(member).cursor() as cursor:
            cursor.execute('SELECT id FROM t ORDER BY id')
            return [row[0] for row in cursor.fetchall()]

    def wait_for(self, check, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            self.assertLess(time.monotonic(), deadline, 'timed out')
            time.sleep(0.05)

    def in_parallel(self, action, members: list) -> None:
        """``action(member)`` for each of ``members`` at once; every
        failure reported with the member's engine log."""
        errors = []

        def run(member):
            try:
                action(member)
            except Exception as error:  # noqa: B902 - reported below
                errors.append('%s: %s\n%s' % (member.address, error,
                                              member.engine_log_tail(3000)))
        threads = [threading.Thread(target=run, args=(member,))
                   for member in members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT + 60)
        self.assertEqual([], errors)

    def prepare(self, members: list) -> None:
        """prepare(cluster_config=...) as the agent runs it, on each of
        ``members``."""
        for member in members:
            self.capability(member).configure({
                'id': self.cluster_id, 'role': 'member',
                'secret': self.secret})
            member.prepare()

    def join_all(self, members: list, count: int) -> None:
        """cluster_join(every member) on each of ``members`` at once
        (the ones that copy the data wait for a free donor)."""
        self.in_parallel(lambda member: self.capability(member).join(
            self.member_list(count)), members)

    def wait_serving(self, member) -> dict:
        deadline = time.monotonic() + JOIN_TIMEOUT
        while True:
            status = self.capability(member).status()
            if status['state'] == 'ok' or time.monotonic() > deadline:
                return status
            time.sleep(0.1)

    def assert_cluster(self, members: list) -> None:
        """Every member of ``members`` serves in a cluster of them (as
        the taskmanager polls cluster_status: a member that left is
        seen gone within moments)."""
        for member in members:
            self.wait_for(lambda: self.capability(member).status()[
                'members'] == len(members))
            status = self.capability(member).status()
            self.assertEqual('ok', status['state'], status)
            self.assertEqual('Synced', status['wsrep_state'])
            self.assertEqual(len(members), status['members'], status)
            self.assertEqual(self.cluster_id, status['cluster_id'])
            self.assertEqual(self.ids[member.address], status['node'])

    def test_create_grow_shrink_rolling_restart(self) -> None:
        self.prepare(self.members[:3])
        # The first member bootstraps; the others copy its data.
        status = self.capability(self.engine).join(self.member_list(3))
        self.assertEqual(('ok', 1), (status['state'], status['members']))
        with self.engine.cursor() as cursor:
            cursor.execute('SHOW GRANTS FOR %s@%s', (wsrep.SST_USER,
                                                     wsrep.SST_HOST))
            grants = cursor.fetchone()[0]
        # The SST account can copy the data and nothing more.
        self.assertIn('RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR', grants)
        self.assertNotIn('ALL PRIVILEGES', grants)
        with open(self.engine.conf_path) as conf:
            text = conf.read()
        self.assertNotIn(self.secret, text)
        self.assertNotIn('wsrep_sst_auth', loader.capability(
            'overrides', 'mariadb', self.engine).defaults())
        self.join_all(self.members[1:3], 3)
        self.assert_cluster(self.members[:3])

        # Every member writable; a write on one is read on the others.
        with self.engine.cursor() as cursor:
            cursor.execute('CREATE DATABASE appdb')
            cursor.execute("CREATE USER 'app'@'%' IDENTIFIED BY 'app-pw'")
            cursor.execute("GRANT ALL ON appdb.* TO 'app'@'%'")
        with self.connect(self.members[1]).cursor() as cursor:
            cursor.execute('CREATE TABLE t (id INT PRIMARY KEY, '
                           'v VARCHAR(40)) ENGINE=InnoDB')
        for number, member in enumerate(self.members[:3], 1):
            with self.connect(member).cursor() as cursor:
                cursor.execute('INSERT INTO t VALUES (%s, %s)',
                               (number, member.address))
        for member in self.members[:3]:
            self.assertEqual([1, 2, 3], self.ids_on(member))

        # Grow by two: both copy the data at once, from different donors;
        # then the old members take the new list.
        self.prepare(self.members[3:])
        self.join_all(self.members[3:], 5)
        self.join_all(self.members[:3], 5)
        self.assert_cluster(self.members)
        with self.connect(self.members[4]).cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (5, 'on the fifth')")
        self.assertEqual([1, 2, 3, 5], self.ids_on(self.members[0]))
        self.assertEqual([1, 2, 3, 5], self.ids_on(self.members[3]))

        # Shrink by two (5 to 3 keeps an odd quorum), one at a time.
        cluster_topology.check_galera_shrink(5, 2)
        for member in self.members[3:]:
            self.capability(member).leave()
        leaving = self.member_list(5)[3:]
        for member in self.members[:3]:
            self.capability(member).forget(leaving)
        self.assert_cluster(self.members[:3])
        self.assertEqual('not joined',
                         self.capability(self.members[4]).status()['state'])
        with open(self.members[0].conf_path) as conf:
            self.assertIn('gcomm://127.77.172.1:4567,127.77.172.2:4567,'
                          '127.77.172.3:4567\n', conf.read())

        # A rolling restart with a client writing throughout.
        writer = _Writer([member.address for member in self.members[:3]])
        writer.start()
        self.addCleanup(writer.stopping.set)
        for member in self.members[:3]:
            self.wait_for(lambda: len(writer.acknowledged) >= 20)
            before = len(writer.acknowledged)
            member.stop()
            member.start()
            self.assertEqual('ok', self.wait_serving(member)['state'])
            self.wait_for(lambda: len(writer.acknowledged) > before + 20)
        writer.stopping.set()
        writer.join(30)
        self.assertFalse(writer.is_alive())
        acknowledged = writer.acknowledged
        self.assertGreater(len(acknowledged), 60)
        for member in self.members[:3]:
            present = set(self.ids_on(member))
            self.assertEqual([], sorted(set(acknowledged) - present),
                             member.address)
        self.assert_cluster(self.members[:3])

        # The whole cluster down, the last member by a crash after it
        # took one more write alone: it is the most advanced (its
        # position read from its InnoDB logs), the cluster restarts from
        # it and the others catch up without a full copy.
        for member in self.members[:2]:
            member.stop()
        last = self.members[2]
        self.wait_for(lambda: self.capability(last).status()[
            'members'] == 1)
        with self.connect(last).cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (6, 'alone')")
        last.process.kill()
        last.process.wait()
        positions = {self.ids[member.address]:
                     self.capability(member).recovery_position()
                     for member in self.members[:3]}
        self.assertEqual(-1, wsrep.read_grastate(last.datadir)['seqno'])
        first = cluster_topology.most_advanced(positions)
        self.assertEqual(self.ids[last.address], first, positions)
        self.assertGreater(positions[first]['seqno'], max(
            positions[self.ids[member.address]]['seqno']
            for member in self.members[:2]))
        self.assertEqual('ok', self.capability(last).rebootstrap()['state'])
        self.in_parallel(lambda member: member.start(), self.members[:2])
        for member in self.members[:2]:
            self.assertEqual('ok', self.wait_serving(member)['state'])
        self.assert_cluster(self.members[:3])
        self.assertEqual(sorted([1, 2, 3, 5, 6] + acknowledged),
                         self.ids_on(self.members[0]))
