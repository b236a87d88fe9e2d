"""The engines' backup command lines and what they record."""
import collections
import os

import fixtures

from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.datastores.mariadb import backup as mariadb
from trove_clone.guestagent.datastores.mariadb import lifecycle as \
    mariadb_lifecycle
from trove_clone.guestagent.datastores.postgresql import backup as \
    postgresql
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql_lifecycle
from trove_clone.guestagent.datastores.redis import backup as redis
from trove_clone.guestagent.datastores.redis import lifecycle as \
    redis_lifecycle
from trove_clone.guestagent.datastores import templating
from trove_clone.tests.unit import base


class _EngineTest(base.TestCase):

    lifecycle_class = None
    programs: dict = {}

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.engine = self.lifecycle_class(
            '/image', '192.0.2.9', os.path.join(self.volume, 'data'),
            self.programs, 512)


class MariadbTest(_EngineTest):

    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    programs = {'server': '/usr/sbin/mariadbd',
                'backup': '/usr/bin/mariadb-backup'}

    def test_full_and_incremental_command_lines(self) -> None:
        capability = mariadb.MariadbBackup(self.engine)
        data = os.path.join(self.volume, 'data')
        work = os.path.join(self.volume, 'backup')
        full = ['/usr/bin/mariadb-backup',
                '--defaults-file=%s/my.cnf' % data, '--backup',
                '--stream=xbstream', '--user=root',
                '--socket=%s/run/mysqld.sock' % data,
                '--extra-lsndir=%s/lsn' % work, '--target-dir=%s' % work]
        self.assertEqual(full, capability.backup_command({'id': 'b1'}))
        self.assertEqual(full + ['--incremental-lsn=4242'],
                         capability.backup_command({
                             'id': 'b2', 'incremental': True,
                             'parent': {'id': 'b1',
                                        'metadata': {'to_lsn': 4242}}}))
        error = self.assertRaises(
            backup.BackupFailed, capability.backup_command,
            {'id': 'b2', 'incremental': True,
             'parent': {'id': 'b1', 'metadata': {}}})
        self.assertIn('parent backup b1 has no recorded LSN', error.message)

    def test_checkpoints_are_the_metadata(self) -> None:
        path = os.path.join(self.volume, 'checkpoints')
        with open(path, 'w') as out:
            out.write('backup_type = incremental\nfrom_lsn = 10\n'
                      'to_lsn = 20\nlast_lsn = 25\nrecover_binlog_info = '
                      '0\n')
        self.assertEqual({'backup_type': 'incremental', 'from_lsn': 10,
                          'to_lsn': 20, 'last_lsn': 25,
                          'recover_binlog_info': '0'},
                         mariadb.read_checkpoints(path))

    def test_object_names(self) -> None:
        self.assertEqual('b1.xbstream.zst.enc', mariadb.MariadbBackup(
            self.engine).object_name({'id': 'b1'}))


class PostgresqlTest(_EngineTest):

    lifecycle_class = postgresql_lifecycle.PostgresqlLifecycle
    programs = {'postgres': '/pg/bin/postgres',
                'pg_basebackup': '/pg/bin/pg_basebackup'}

    def test_command_line_streams_one_tar_with_its_wal(self) -> None:
        argv = postgresql.PostgresqlBackup(self.engine).backup_command(
            {'id': 'b1'})
        self.assertEqual(['/pg/bin/pg_basebackup', '-h',
                          self.engine.run_dir, '-p', '5432', '-U',
                          'postgres', '-D', '-', '-Ft', '-X', 'fetch', '-c',
                          'fast', '-w', '-v', '--label=trove_clone backup '
                          'b1'], argv)

    def test_wal_points(self) -> None:
        self.assertEqual(
            {'wal_start': '0/2000028', 'wal_end': '0/2000100',
             'timeline': 1},
            postgresql.wal_points(
                'pg_basebackup: initiating base backup\n'
                'pg_basebackup: write-ahead log start point: 0/2000028 on '
                'timeline 1\npg_basebackup: write-ahead log end point: '
                '0/2000100\n'))

    def test_an_incremental_needs_its_parents_wal_end(self) -> None:
        error = self.assertRaises(
            backup.BackupFailed,
            postgresql.PostgresqlBackup(self.engine).wal_since,
            {'id': 'b1', 'metadata': {'format': 'pg_basebackup-tar'}})
        self.assertIn('parent backup b1 has no recorded WAL end',
                      error.message)

    def test_chains(self) -> None:
        capability = postgresql.PostgresqlBackup(self.engine)
        full = {'id': 'f', 'metadata': {'format': 'pg_basebackup-tar',
                                        'wal_end': '0/3000100'}}
        incremental = {'id': 'i', 'metadata': {'format': 'pg_wal-tar',
                                               'wal_start': '0/3000100',
                                               'wal_end': '0/5000000'}}
        capability.check_chain([full, incremental])
        self.assertEqual('i.pg_wal-tar.zst.enc', capability.object_name(
            {'id': 'i', 'incremental': True}))
        for chain, reason in (
                ([incremental], 'backup i is a pg_wal-tar stream, not one '
                                'of the postgresql datastore'),
                ([full, full], 'backup f is a pg_basebackup-tar stream'),
                ([full, incremental, incremental],
                 'incremental backup i starts at WAL 0/3000100, its parent '
                 'ends at 0/5000000')):
            self.assertIn(reason, self.assertRaises(
                backup.BackupFailed, capability.check_chain, chain).message)

    def test_the_slot_keeps_at_most_a_quarter_of_the_volume(self) -> None:
        usage = collections.namedtuple('usage', 'total used free')
        self.useFixture(fixtures.MonkeyPatch(
            'shutil.disk_usage', lambda path: usage(8 * 2 ** 30, 0, 0)))
        self.assertEqual(2048, self.engine.wal_retention_mb())
        self.assertIn('max_slot_wal_keep_size = 2048MB',
                      templating.render('postgresql',
                                        self.engine._context()))
        self.useFixture(fixtures.MonkeyPatch(
            'shutil.disk_usage', lambda path: usage(2 ** 26, 0, 0)))
        self.assertEqual(64, self.engine.wal_retention_mb())


class RedisTest(_EngineTest):

    lifecycle_class = redis_lifecycle.RedisLifecycle
    programs = {'server': '/usr/bin/redis-server'}

    def test_only_the_tenant_users_are_kept(self) -> None:
        self.assertEqual(
            'user app on #ab ~* &* +@all\n',
            redis.tenant_acl([b'user default off nopass -@all',
                              'user os_admin on #cd ~* &* +@all',
                              'user app on #ab ~* &* +@all', '']))

    def test_incrementals_fail_with_the_reason(self) -> None:
        error = self.assertRaises(
            backup.BackupFailed, redis.RedisBackup(self.engine).create,
            {'id': 'b2', 'incremental': True, 'parent': {'id': 'b1'}})
        self.assertIn('not supported for the redis datastore',
                      error.message)

    def test_restore_needs_an_empty_volume(self) -> None:
        os.makedirs(self.engine.data_dir)
        with open(os.path.join(self.engine.data_dir, 'dump.rdb'), 'w'):
            pass
        error = self.assertRaises(
            backup.BackupFailed, redis.RedisBackup(self.engine).restore,
            {'id': 'b1', 'chain': [{'id': 'b1', 'location': 'x'}],
             'storage': {'driver': 'local', 'root': self.volume},
             'encryption_key': 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdH'
                               'h8='})
        self.assertIn('not empty', error.message)


class ChainTest(_EngineTest):
    """A chain is checked before anything is read."""

    lifecycle_class = mariadb_lifecycle.MariadbLifecycle
    programs = {'server': '/usr/sbin/mariadbd'}

    def check(self, capability, chain: list) -> str:
        return self.assertRaises(backup.BackupFailed, capability.check_chain,
                                 chain).message

    def test_mariadb_chains(self) -> None:
        capability = mariadb.MariadbBackup(self.engine)
        full = {'id': 'f', 'metadata': {'format': 'xbstream',
                                        'backup_type': 'full-backuped',
                                        'to_lsn': 100}}
        incremental = {'id': 'i', 'metadata': {
            'format': 'xbstream', 'backup_type': 'incremental',
            'from_lsn': 100, 'to_lsn': 200}}
        capability.check_chain([full, incremental])
        self.assertIn('does not start with a full backup',
                      self.check(capability, [incremental]))
        self.assertIn('incremental backup i starts at LSN 100, its parent '
                      'ends at 200',
                      self.check(capability, [full, incremental,
                                              incremental]))
        self.assertIn('no backup', self.check(capability, []))

    def test_another_datastore_or_incrementals_are_refused(self) -> None:
        capability = redis.RedisBackup(redis_lifecycle.RedisLifecycle(
            '/image', '192.0.2.9', self.engine.data_dir, {}, 512))
        self.assertIn('backup f is a xbstream stream, not one of the redis '
                      'datastore', self.check(capability, [
                          {'id': 'f', 'metadata': {'format': 'xbstream'}}]))
        self.assertIn('not supported', self.check(capability, [
            {'id': 'f'}, {'id': 'i'}]))
