"""The replication capability's algorithm (names, state, waits, the
heartbeat's report) on a fake engine, and the engines' pure helpers:
Redis ACL lines, MariaDB GTID positions, PostgreSQL standby settings and
pg_hba.conf lines."""
import os
import stat

import fixtures
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.mariadb import backup as \
    mariadb_backup
from trove_clone.guestagent.datastores.mariadb import replication as \
    mariadb_replication
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.postgresql import replication as \
    postgresql_replication
from trove_clone.guestagent.datastores.redis import replication as \
    redis_replication

REPLICA_ID = '0b7c1a9e-58e4-4b0e-9d0c-3f3d2f4d6a11'


class FakeEngine:

    def __init__(self, volume: str) -> None:
        self.agent_dir = os.path.join(volume, 'agent')
        self.address, self.port = '192.0.2.10', 3306


class FakeReplication(replication.Replication):
    """Records the hooks; the stream comes up after ``delay`` checks."""

    datastore = 'fakedb'
    attach_timeout = 0.3

    def __init__(self, engine, up_after: int = 0) -> None:
        super().__init__(engine)
        self.calls: list = []
        self.up_after = up_after

    def _grant(self, user, password, address):
        self.calls.append(('grant', user, address))
        return {'slot': user}

    def _revoke(self, user):
        self.calls.append(('revoke', user))

    def _follow(self, master, snapshot, seeded):
        self.calls.append(('follow', master['host'], seeded))

    def _streaming(self):
        self.up_after -= 1
        return self.up_after < 0 or (False, 'still connecting')

    def _unfollow(self):
        self.calls.append(('unfollow',))

    def make_read_only(self, read_only):
        self.calls.append(('read_only', read_only))

    def _replica_status(self):
        return {'state': 'streaming', 'lag_seconds': 0.0}


class ReplicationTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.engine = FakeEngine(self.useFixture(fixtures.TempDir()).path)
        self.capability = FakeReplication(self.engine)

    def test_names_come_from_the_replica_id(self) -> None:
        self.assertEqual('os_repl_0b7c1a9e58e44b0e9d0c3f3d2f4d6a11',
                         replication.user_name(REPLICA_ID))
        for bad in (None, '', "x'; DROP", 'a b', '-x', 'x' * 65):
            self.assertRaises(exception.BadRequest, replication.user_name,
                              bad)

    def test_source_address(self) -> None:
        self.assertEqual('192.0.2.4',
                         replication.source_address('192.0.2.4'))
        self.assertEqual('127.0.0.1',
                         replication.source_address('127.77.156.2'))
        self.assertEqual('::1', replication.source_address('::1'))
        self.assertRaises(exception.BadRequest, replication.source_address,
                          'replica.example')

    def test_context_grants_and_remembers(self) -> None:
        snapshot = self.capability.context({'id': REPLICA_ID,
                                            'address': '192.0.2.11'})
        user = replication.user_name(REPLICA_ID)
        self.assertEqual([('grant', user, '192.0.2.11')],
                         self.capability.calls)
        master = snapshot['master']
        self.assertEqual(('192.0.2.10', 3306, user, user, REPLICA_ID),
                         (master['host'], master['port'], master['user'],
                          master['slot'], master['replica_id']))
        self.assertGreaterEqual(len(master['password']), 32)
        # A fresh password each time.
        again = self.capability.context({'id': REPLICA_ID,
                                         'address': '192.0.2.11'})
        self.assertNotEqual(master['password'],
                            again['master']['password'])
        state = replication.load_state(self.engine)
        self.assertEqual({REPLICA_ID: {'address': '192.0.2.11',
                                       'source_address': '192.0.2.11',
                                       'user': user, 'slot': user}},
                         state['replicas'])
        mode = os.stat(replication.state_path(self.engine)).st_mode
        self.assertEqual(0o600, stat.S_IMODE(mode))
        self.assertEqual({'role': 'source', 'replicas': [REPLICA_ID],
                          'connected': None}, self.capability.status())

        self.capability.cleanup({'replica_id': REPLICA_ID})
        self.assertEqual(('revoke', user), self.capability.calls[-1])
        self.assertEqual({}, replication.load_state(self.engine)['replicas'])
        self.assertIsNone(self.capability.status())

    def test_context_needs_an_address(self) -> None:
        self.assertRaises(exception.BadRequest, self.capability.context,
                          {'id': REPLICA_ID})
        self.assertEqual([], self.capability.calls)

    def test_snapshot_carries_the_backup(self) -> None:
        snapshot = self.capability.snapshot(
            {'id': REPLICA_ID, 'address': '192.0.2.11'},
            {'id': 'b-1', 'location': 'local:///c/o'})
        self.assertEqual({'id': 'b-1', 'location': 'local:///c/o',
                          'log_position': None}, snapshot['dataset'])

    def test_attach_promote_detach(self) -> None:
        snapshot = {'master': {'host': '192.0.2.10', 'port': 3306,
                               'user': 'os_repl_x', 'password': 'pw',
                               'replica_id': REPLICA_ID}}
        self.capability.attach(snapshot, seeded=True)
        self.assertEqual([('follow', '192.0.2.10', True)],
                         self.capability.calls)
        self.assertTrue(replication.is_replica(self.engine))
        self.assertEqual({'role': 'replica', 'source': {
            'host': '192.0.2.10', 'port': 3306}, 'state': 'streaming',
            'lag_seconds': 0.0, 'lag_bytes': None, 'error': None},
            self.capability.status())
        self.assertEqual({'replica_id': REPLICA_ID, 'user': 'os_repl_x'},
                         self.capability.detach(for_failover=True))
        self.assertEqual([('unfollow',)], self.capability.calls[1:])
        self.assertFalse(replication.is_replica(self.engine))
        self.capability.attach(snapshot)
        self.capability.promote()
        self.assertEqual([('follow', '192.0.2.10', False), ('unfollow',),
                          ('read_only', False)], self.capability.calls[2:])
        self.assertFalse(replication.is_replica(self.engine))

    def test_attach_waits_then_fails_with_the_reason(self) -> None:
        self.capability.up_after = 3
        self.capability.attach({'master': {
            'host': 'h', 'port': 1, 'user': 'u', 'password': 'p'}})
        self.capability.up_after = 10 ** 6
        error = self.assertRaises(
            replication.ReplicationError, self.capability.attach,
            {'master': {'host': 'h', 'port': 1, 'user': 'u',
                        'password': 'p'}})
        self.assertIn('still connecting', error.message)

    def test_attach_checks_the_snapshot(self) -> None:
        for snapshot in (None, {}, {'master': {'host': 'h'}}):
            self.assertRaises(exception.BadRequest, self.capability.attach,
                              snapshot)
        self.assertEqual([], self.capability.calls)

    def test_unreadable_state_is_no_state(self) -> None:
        os.makedirs(self.engine.agent_dir)
        with open(replication.state_path(self.engine), 'w') as state:
            state.write('{not json')
        self.useFixture(fixtures.FakeLogger())
        self.assertEqual({}, replication.load_state(self.engine))


class RedisTest(testtools.TestCase):

    def test_tenant_acl(self) -> None:
        self.assertEqual(['user app on #ab ~* &* +@all'],
                         redis_replication.tenant_acl([
                             b'user default off -@all',
                             b'user os_admin on #cd ~* &* +@all',
                             b'user os_repl_x on #ef +psync',
                             b'user app on #ab ~* &* +@all']))


class MariadbTest(testtools.TestCase):

    def test_gtid_rank(self) -> None:
        self.assertEqual(0, mariadb_replication.gtid_rank(''))
        self.assertEqual(42, mariadb_replication.gtid_rank('0-7-42'))
        self.assertEqual(45, mariadb_replication.gtid_rank('0-7-42,1-3-3'))

    def test_positions_of_a_backup(self) -> None:
        directory = self.useFixture(fixtures.TempDir()).path
        self.assertIsNone(mariadb_replication.binlog_info_gtid(directory))
        with open(os.path.join(directory, 'xtrabackup_binlog_info'),
                  'w') as info:
            info.write('mysql-bin.000002\t1234\t0-99-17\n')
        self.assertEqual('0-99-17',
                         mariadb_replication.binlog_info_gtid(directory))
        path = os.path.join(directory, mariadb_backup.INFO)
        self.assertIsNone(mariadb_backup.read_gtid(path))
        with open(path, 'w') as info:
            info.write("tool_name = mariadb-backup\nbinlog_pos = filename "
                       "'mysql-bin.000002', position '1234', GTID of the "
                       "last change '0-99-17'\n")
        self.assertEqual('0-99-17', mariadb_backup.read_gtid(path))


class PostgresqlTest(testtools.TestCase):

    master = {'host': '192.0.2.10', 'port': 5432, 'user': 'os_repl_x',
              'password': 'pw-1', 'slot': 'os_repl_x'}

    def test_standby_settings_replace_the_old_ones(self) -> None:
        text = ("# Do not edit this file manually!\n"
                "primary_conninfo = 'host=old'\n"
                "work_mem = '8MB'\nprimary_slot_name = 'old'\n")
        self.assertEqual(
            "# Do not edit this file manually!\nwork_mem = '8MB'\n"
            "primary_conninfo = 'host=''192.0.2.10'' port=''5432'' "
            "user=''os_repl_x'' password=''pw-1'' "
            "application_name=''r-1'''\n"
            "primary_slot_name = 'os_repl_x'\n",
            postgresql_replication.standby_settings(text, self.master,
                                                    'r-1'))

    def test_conninfo_quotes(self) -> None:
        self.assertIn("password='a\\'b\\\\c'", postgresql_replication.conninfo(
            dict(self.master, password="a'b\\c"), 'x'))

    def test_lsn_rank(self) -> None:
        self.assertEqual(0, postgresql_replication.lsn_rank(None))
        self.assertEqual((1 << 32) + 0x10,
                         postgresql_replication.lsn_rank('1/10'))
        self.assertLess(postgresql_replication.lsn_rank('0/FFFFFFFF'),
                        postgresql_replication.lsn_rank('1/0'))

    def test_hba_allows_replication_from_the_replica_only(self) -> None:
        hba = postgresql_lifecycle.hba_conf([('os_repl_a', '192.0.2.11'),
                                             ('os_repl_b', '2001:db8::5')])
        self.assertIn('host    replication  os_repl_a  192.0.2.11/32  '
                      'scram-sha-256\n'
                      'host    postgres  os_repl_a  192.0.2.11/32  '
                      'scram-sha-256\n', hba)
        self.assertIn('host    replication  os_repl_b  2001:db8::5/128  '
                      'scram-sha-256\n', hba)
        # Replication roles log in nowhere else (first match wins).
        for text in (hba, postgresql_lifecycle.hba_conf()):
            self.assertLess(text.index('+os_replication  0.0.0.0/0  reject'),
                            text.index('all       0.0.0.0/0  scram'))
        self.assertNotIn('replication  all', postgresql_lifecycle.hba_conf())
