"""The engine-free parts of upgrades: version names, what each engine
calls its major version, refusals (downgrades, space, a target without a
version), the steps and rollback of pre/post_upgrade on a fake engine,
and which manager gets which class."""
import json
import os
import shutil
from unittest import mock

import fixtures
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.datastores.mariadb import lifecycle as mariadb
from trove_clone.guestagent.datastores.mariadb import upgrade as \
    mariadb_upgrade
from trove_clone.guestagent.datastores.postgresql import lifecycle as \
    postgresql
from trove_clone.guestagent.datastores.postgresql import upgrade as \
    postgresql_upgrade
from trove_clone.guestagent.datastores.redis import lifecycle as redis
from trove_clone.guestagent.datastores.redis import upgrade as redis_upgrade
from trove_clone.guestagent.capabilities import upgrade


class VersionTest(testtools.TestCase):

    def test_parse(self) -> None:
        self.assertEqual((16, 15), upgrade.parse_version('16.15'))
        self.assertEqual((7, 0, 15), upgrade.parse_version('7.0.15'))
        self.assertEqual((16,), upgrade.parse_version('16'))
        self.assertEqual((10, 11, 6),
                         upgrade.parse_version('10.11.6-MariaDB'))
        for text in ('', None, 'latest'):
            self.assertRaises(ValueError, upgrade.parse_version, text)

    def test_leading(self) -> None:
        self.assertEqual((7, 0), upgrade.leading((7,), 2))
        self.assertEqual((6, 2), upgrade.leading((6, 2, 14), 2))

    def test_target_version(self) -> None:
        self.assertEqual('16.4', upgrade.target_version(
            {'engine_version': '16.4', 'version': '16'}))
        self.assertEqual('16', upgrade.target_version({'version': '16'}))
        self.assertEqual('', upgrade.target_version({}))
        self.assertEqual('', upgrade.target_version(None))

    def test_majors(self) -> None:
        engine = mock.Mock()
        pg = postgresql_upgrade.PostgresqlUpgrade(engine)
        self.assertEqual((16,), pg.major('16.15'))
        self.assertEqual((9, 6), pg.major('9.6.24'))
        self.assertEqual((7, 0), redis_upgrade.RedisUpgrade(engine).major(
            '7.0.15'))
        self.assertEqual((10, 11), mariadb_upgrade.MariadbUpgrade(
            engine).major('10.11.6'))


class CheckTest(testtools.TestCase):

    def check(self, upgrader_class, current: str, target: str) -> None:
        engine = mock.Mock()
        engine.is_running.return_value = False
        upgrader_class(engine).check(current, target)

    def test_upgrades_and_same_versions_pass(self) -> None:
        for upgrader_class, current, target in (
                (postgresql_upgrade.PostgresqlUpgrade, '15.8', '16.4'),
                (postgresql_upgrade.PostgresqlUpgrade, '16.15', '16.4'),
                (postgresql_upgrade.PostgresqlUpgrade, '9.6.24', '10.1'),
                (redis_upgrade.RedisUpgrade, '6.2.14', '7.0.15'),
                (redis_upgrade.RedisUpgrade, '7.0.15', '7.0.11'),
                (mariadb_upgrade.MariadbUpgrade, '10.11.6', '10.11.6'),
                (mariadb_upgrade.MariadbUpgrade, '10.6.18', '11.4.2')):
            self.check(upgrader_class, current, target)

    def test_downgrades_are_refused(self) -> None:
        for upgrader_class, current, target in (
                (postgresql_upgrade.PostgresqlUpgrade, '16.4', '15.8'),
                (postgresql_upgrade.PostgresqlUpgrade, '10.1', '9.6'),
                (redis_upgrade.RedisUpgrade, '7.0.15', '6.2.14'),
                (mariadb_upgrade.MariadbUpgrade, '10.11.6', '10.6.18')):
            error = self.assertRaises(upgrade.UpgradeRefused, self.check,
                                      upgrader_class, current, target)
            self.assertIn('downgrade', error.message)
            self.assertEqual(400, error.code)

    def test_unreadable_versions_are_refused(self) -> None:
        self.assertRaises(upgrade.UpgradeRefused, self.check,
                          redis_upgrade.RedisUpgrade, '7.0.15', 'latest')

    def test_unknown_column_options_refuse_a_major_upgrade(self) -> None:
        engine = mock.Mock()
        engine.is_running.return_value = True
        upgrader = postgresql_upgrade.PostgresqlUpgrade(engine)
        with mock.patch.object(upgrader, 'column_options',
                               return_value={'n_distinct', 'pg_attver'}):
            error = self.assertRaises(upgrade.UpgradeRefused,
                                      upgrader.check, '15.2', '16.4')
            self.assertIn('pg_attver', error.message)
            # A minor upgrade replays nothing.
            upgrader.check('15.2', '15.8')
        with mock.patch.object(upgrader, 'column_options',
                               return_value={'n_distinct'}):
            upgrader.check('15.2', '16.4')


class FakeLifecycle(base.Lifecycle):
    """A lifecycle whose "engine" is a flag, its data a file."""

    def __init__(self, root: str, data_dir: str,
                 fail_start: bool = False) -> None:
        super().__init__(root, '127.0.0.1', data_dir, {}, 512)
        self.running = False
        self.fail_start = fail_start
        self.started = 0

    def prepare(self) -> None:
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, 'data'), 'w') as data:
            data.write('old data')
        self.start()

    def start(self) -> None:
        self.started += 1
        if self.fail_start:
            with open(os.path.join(self.data_dir, 'data'), 'w') as data:
                data.write('scribbled')
            raise base.EngineError('The engine did not start: broken')
        self.running = True

    def stop(self, timeout: float = 120.0) -> None:
        self.running = False

    def is_running(self) -> bool:
        return self.running

    def is_healthy(self) -> bool:
        return self.running


class FakeUpgrade(upgrade.Upgrade):
    datastore = 'fake'
    major_width = 2


class StepsTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        self.old_root = self.image('old', '6.2.14')
        self.new_root = self.image('new', '7.0.15')
        self.data_dir = os.path.join(self.work, 'volume', 'data')
        self.engine = FakeLifecycle(self.old_root, self.data_dir)
        self.engine.prepare()

    def image(self, name: str, version: str) -> str:
        root = os.path.join(self.work, name)
        os.makedirs(root)
        with open(os.path.join(root, 'manifest.json'), 'w') as manifest:
            json.dump({'engine_version': version, 'programs': {}}, manifest)
        return root

    def data(self) -> str:
        with open(os.path.join(self.data_dir, 'data')) as data:
            return data.read()

    def test_upgrade(self) -> None:
        info = FakeUpgrade(self.engine).pre_upgrade(
            {'engine_version': '7.0.15', 'version': '7.0'})
        self.assertFalse(self.engine.is_running())
        self.assertEqual({'datastore': 'fake', 'from_version': '6.2.14',
                          'to_version': '7.0.15', 'backup': 'data.backup'},
                         info)
        upgrade_dir = os.path.join(self.work, 'volume', 'upgrade')
        with open(os.path.join(upgrade_dir, 'upgrade_info.json')) as saved:
            self.assertEqual(info, json.load(saved))
        new = FakeLifecycle(self.new_root, self.data_dir)
        FakeUpgrade(new).post_upgrade(info)
        self.assertTrue(new.is_running())
        self.assertEqual('old data', self.data())
        self.assertFalse(os.path.exists(upgrade_dir))

    def test_failed_start_restores_the_backup(self) -> None:
        info = FakeUpgrade(self.engine).pre_upgrade({'version': '7.0'})
        new = FakeLifecycle(self.new_root, self.data_dir, fail_start=True)
        error = self.assertRaises(upgrade.UpgradeFailed,
                                  FakeUpgrade(new).post_upgrade, info)
        self.assertIn('from 6.2.14 to 7.0.15 failed: The engine did not '
                      'start: broken. The old data was restored',
                      error.message)
        self.assertEqual(500, error.code)
        self.assertIsInstance(error, exception.TroveError)
        self.assertEqual('old data', self.data())
        self.assertFalse(os.path.exists(os.path.join(self.work, 'volume',
                                                     'upgrade')))

    def test_missing_backup_touches_nothing(self) -> None:
        info = FakeUpgrade(self.engine).pre_upgrade({'version': '7.0'})
        shutil.rmtree(os.path.join(self.work, 'volume', 'upgrade'))
        new = FakeLifecycle(self.new_root, self.data_dir)
        error = self.assertRaises(upgrade.UpgradeFailed,
                                  FakeUpgrade(new).post_upgrade, info)
        self.assertIn('The data was not touched', error.message)
        self.assertEqual(0, new.started)

    def test_refusals_leave_the_engine_running(self) -> None:
        for target in ({'engine_version': '6.0.9'}, {}, {'version': 'x'}):
            self.assertRaises(upgrade.UpgradeRefused,
                              FakeUpgrade(self.engine).pre_upgrade, target)
            self.assertTrue(self.engine.is_running())
        usage = shutil.disk_usage(self.work)._replace(free=1024 * 1024)
        with mock.patch.object(shutil, 'disk_usage', return_value=usage):
            error = self.assertRaises(
                upgrade.UpgradeRefused,
                FakeUpgrade(self.engine).pre_upgrade, {'version': '7.0'})
        self.assertIn('the volume has 1 MB free', error.message)
        self.assertTrue(self.engine.is_running())
        self.assertFalse(os.path.exists(os.path.join(self.work, 'volume',
                                                     'upgrade')))

    def test_failed_save_restarts_the_engine(self) -> None:
        with mock.patch.object(upgrade, 'copy_tree',
                               side_effect=base.EngineError('disk full')):
            error = self.assertRaises(
                upgrade.UpgradeRefused,
                FakeUpgrade(self.engine).pre_upgrade, {'version': '7.0'})
        self.assertIn('saving the data failed: disk full', error.message)
        self.assertTrue(self.engine.is_running())
        self.assertFalse(os.path.exists(os.path.join(self.work, 'volume',
                                                     'upgrade')))


class HelpersTest(testtools.TestCase):

    def test_tree_size_and_copy(self) -> None:
        work = self.useFixture(fixtures.TempDir()).path
        source = os.path.join(work, 'source')
        os.makedirs(os.path.join(source, 'sub'))
        with open(os.path.join(source, 'sub', 'file'), 'w') as data:
            data.write('x' * 5000)
        os.link(os.path.join(source, 'sub', 'file'),
                os.path.join(source, 'link'))
        self.assertEqual(8192, upgrade.tree_size(source))
        upgrade.copy_tree(source, os.path.join(work, 'copy'))
        with open(os.path.join(work, 'copy', 'sub', 'file')) as data:
            self.assertEqual('x' * 5000, data.read())
        self.assertRaises(base.EngineError, upgrade.copy_tree,
                          os.path.join(work, 'nothing'),
                          os.path.join(work, 'other'))
        self.assertTrue(upgrade.is_inside(os.path.join(source, 'sub'),
                                          source))
        self.assertFalse(upgrade.is_inside(work, source))
        upgrade.remove(os.path.join(work, 'copy'))
        upgrade.remove(os.path.join(work, 'copy'))
        self.assertFalse(os.path.exists(os.path.join(work, 'copy')))

    def test_space_margin(self) -> None:
        self.assertEqual(upgrade.MIN_SPACE_MARGIN, upgrade.space_margin(10))
        self.assertEqual(100 * 2 ** 20, upgrade.space_margin(1000 * 2 ** 20))

    def test_redis_persistent_keys(self) -> None:
        self.assertEqual(7, redis_upgrade.persistent_keys(
            {'db0': {'keys': 5, 'expires': 1, 'avg_ttl': 0},
             'db3': {'keys': 3, 'expires': 0}}))
        self.assertEqual(0, redis_upgrade.persistent_keys({}))

    def test_pg_log_tail(self) -> None:
        work = self.useFixture(fixtures.TempDir()).path
        log = os.path.join(work, 'pg_upgrade_dump_5.log')
        with open(log, 'w') as target:
            target.write('...\nERROR: unrecognized parameter "x"\n')
        tail = postgresql_upgrade.log_tail(
            'Consult the last few lines of "%s" for' % log)
        self.assertIn('unrecognized parameter', tail)
        self.assertEqual('', postgresql_upgrade.log_tail('no log named'))
        self.assertEqual('', postgresql_upgrade.log_tail('"/nothing.log"'))


class LoaderTest(testtools.TestCase):

    def test_classes(self) -> None:
        for manager, lifecycle_class, upgrade_class in (
                ('mysql', mariadb.MariadbLifecycle,
                 mariadb_upgrade.MariadbUpgrade),
                ('mariadb', mariadb.MariadbLifecycle,
                 mariadb_upgrade.MariadbUpgrade),
                ('postgresql', postgresql.PostgresqlLifecycle,
                 postgresql_upgrade.PostgresqlUpgrade),
                ('redis', redis.RedisLifecycle, redis_upgrade.RedisUpgrade)):
            engine = lifecycle_class('/root', '127.0.0.1', '/v/data', {}, 512)
            upgrader = loader.capability('upgrade', manager, engine)
            self.assertIsInstance(upgrader, upgrade_class)
            self.assertEqual('/v/upgrade', upgrader.upgrade_dir)

    def test_unknown_manager(self) -> None:
        self.assertRaises(exception.DatastoreOperationNotSupported,
                          loader.capability, 'upgrade', 'cassandra',
                          mock.Mock())
