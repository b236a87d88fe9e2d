"""trove-manage, in process, with a fake image service."""
import io
import json
import os
import subprocess
import sys

import fixtures
from oslo_utils import uuidutils
import sqlalchemy
import testtools

from trove_clone.cmd import manage
from trove_clone.common import crypto
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.db import api as db_api
from trove_clone.db import migration
from trove_clone.db import models
from trove_clone import drivers
from trove_clone.tests.unit import base

IMAGE = '5a5e0d1c-7f1b-4bd2-9f0e-1c2d3e4f5a6b'
BIG = 18446744073709551615


class ManageTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.images.add(IMAGE, tags=['trove', 'mysql'])
        self.rules = self.useFixture(fixtures.TempDir()).join('rules.json')
        with open(self.rules, 'w') as rules_file:
            json.dump({'configuration-parameters': [
                {'name': 'max_binlog_cache_size', 'restart_required': False,
                 'min': 4096, 'max': BIG, 'type': 'integer'},
                {'name': 'sql_mode', 'restart_required': False,
                 'type': 'string'}]}, rules_file)

    def run_manage(self, *argv: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', out))
        self.useFixture(fixtures.MonkeyPatch('sys.stderr', err))
        code = manage.main(['--config-file', os.devnull] + list(argv))
        return code, out.getvalue().strip(), err.getvalue().strip()

    def ok(self, *argv: str) -> str:
        code, out, err = self.run_manage(*argv)
        self.assertEqual(0, code, err)
        self.assertEqual('', err)
        return out

    def refused(self, *argv: str) -> str:
        before = self.dump()
        code, out, err = self.run_manage(*argv)
        self.assertEqual(1, code, out)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertEqual(before, self.dump())
        return err

    def dump(self) -> tuple:
        versions = db_api.datastore_version_list(self.context)
        return (db_api.datastore_list(self.context), versions,
                [db_api.config_parameter_list(self.context, v['id'])
                 for v in versions],
                [db_api.version_metadata_list(self.context, v['id'], key)
                 for v in versions for key in ('flavor', 'volume_type')])

    def test_seed_000_sequence(self) -> None:
        self.assertEqual("Datastore 'mysql' updated: no default version.",
                         self.ok('datastore_update', 'mysql', ''))
        self.assertEqual("Datastore version 'mysql-5.5' (mysql-5.5) created "
                         "for datastore 'mysql'.",
                         self.ok('datastore_version_update', 'mysql',
                                 'mysql-5.5', 'mysql', IMAGE, '', '1'))
        self.assertIn("updated", self.ok('datastore_version_update', 'mysql',
                                         'mysql-5.5', 'mysql', IMAGE, '',
                                         '1'))
        self.assertEqual("Datastore 'mysql' updated: default version "
                         "'mysql-5.5'.",
                         self.ok('datastore_update', 'mysql', 'mysql-5.5'))
        self.assertEqual("Loaded 2 configuration parameters for datastore "
                         "'mysql' version 'mysql-5.5' (mysql-5.5).",
                         self.ok('db_load_datastore_config_parameters',
                                 'mysql', 'mysql-5.5', self.rules))
        version = db_api.datastore_version_find(self.context, 'mysql',
                                                'mysql-5.5')
        param = db_api.config_parameter_get(self.context, version['id'],
                                            'max_binlog_cache_size')
        self.assertEqual(str(BIG), param['max_size'])
        self.assertIn('Removed 2', self.ok(
            'db_remove_datastore_config_parameters', 'mysql', 'mysql-5.5'))

    def test_seed_001_names_and_numbers(self) -> None:
        self.ok('datastore_update', 'mysql', '')
        self.ok('datastore_version_update', 'mysql', '5.7', 'mysql', '', '',
                '1', '--image-tags', 'trove,mysql', '--version-number',
                '5.7.29')
        self.ok('datastore_version_update', 'mysql', '5.7', 'mysql', '', '',
                '1', '--image-tags', 'trove,mysql', '--version-number',
                '5.7.30')
        self.ok('datastore_version_update', 'mysql', 'mysql-5.7', 'mysql',
                '', '', '1', '--image-tags', 'trove,mysql',
                '--version-number', '5.7.29')
        self.assertEqual(3, len(db_api.datastore_version_list(self.context)))
        error = self.refused('datastore_update', 'mysql', '5.7')
        self.assertIn('5.7.29, 5.7.30', error)
        self.ok('datastore_update', 'mysql', '5.7', '--version-number',
                '5.7.30')
        self.ok('db_load_datastore_config_parameters', 'mysql', '5.7',
                self.rules, '--version-number', '5.7.29')

    def test_flavor_and_volume_type_associations(self) -> None:
        self.ok('datastore_update', 'mysql', '')
        self.ok('datastore_version_update', 'mysql', '5.7', 'mysql', IMAGE,
                '', '1')
        self.assertIn('Added flavors 1, 2', self.ok(
            'datastore_version_flavor_add', 'mysql', '5.7', '1,2'))
        self.assertIn('Removed flavor 1', self.ok(
            'datastore_version_flavor_delete', 'mysql', '5.7', '1'))
        self.ok('datastore_version_volume_type_add', 'mysql', '5.7',
                'ssd,hdd')
        self.assertIn('hdd, ssd', self.ok(
            'datastore_version_volume_type_list', 'mysql', '5.7'))
        self.ok('datastore_version_volume_type_delete', 'mysql', '5.7',
                'hdd')
        self.assertIn(': ssd', self.ok(
            'datastore_version_volume_type_list', 'mysql', '5.7'))
        self.assertIn('not associated', self.refused(
            'datastore_version_volume_type_delete', 'mysql', '5.7', 'hdd'))
        self.assertIn('999', self.refused(
            'datastore_version_flavor_add', 'mysql', '5.7', '2,999'))

    def test_bad_arguments_change_nothing(self) -> None:
        self.ok('datastore_update', 'mysql', '')
        self.ok('datastore_version_update', 'mysql', '5.7', 'mysql', IMAGE,
                '', '1')
        self.ok('datastore_version_update', 'mysql', 'old', 'mysql', IMAGE,
                '', '0')
        bad_json = self.useFixture(fixtures.TempDir()).join('bad.json')
        with open(bad_json, 'w') as bad:
            bad.write('{"configuration-parameters": [{"name": "x"}]}')
        cases = [
            (('datastore_version_update', 'nosuch', 'v', 'm', IMAGE, '',
              '1'), 'nosuch'),
            (('datastore_version_update', 'mysql', '8.0', 'mysql',
              '00000000-0000-0000-0000-000000000000', '', '1'),
             '00000000-0000-0000-0000-000000000000'),
            (('datastore_version_update', 'mysql', '8.0', 'mysql', '', '',
              '1', '--image-tags', 'trove,nosuch'), 'trove,nosuch'),
            (('datastore_version_update', 'mysql', '8.0', 'mysql', '', '',
              '1'), 'image'),
            (('datastore_version_update', 'mysql', '8.0', 'mysql', IMAGE,
              '', 'yes'), 'ACTIVE'),
            (('datastore_update', 'mysql', 'old'), 'not active'),
            (('datastore_update', 'mysql', 'nosuch'), 'nosuch'),
            (('db_load_datastore_config_parameters', 'mysql', '5.7',
              '/nonexistent/rules.json'), 'No such file'),
            (('db_load_datastore_config_parameters', 'mysql', '5.7',
              bad_json), 'x'),
            (('db_load_datastore_config_parameters', 'nosuch', '5.7',
              self.rules), 'nosuch'),
            (('datastore_version_flavor_add', 'mysql', 'nosuch', '1'),
             'nosuch'),
            (('db_downgrade',), 'restore'),
        ]
        for argv, expected in cases:
            self.assertIn(expected, self.refused(*argv), argv)

    def test_empty_names_refused(self) -> None:
        """Trove's trove-manage makes a datastore named '' from
        ``datastore_update '' ''``: refused, exit 1, nothing written."""
        self.ok('datastore_update', 'mysql', '')
        cases = [
            (('datastore_update', '', ''), 'datastore name must not be '
             'empty'),
            (('datastore_update', '  ', ''), 'datastore name'),
            (('datastore_version_update', '', '5.7', 'mysql', IMAGE, '',
              '1'), 'datastore name must not be empty'),
            (('datastore_version_update', 'mysql', '', 'mysql', IMAGE, '',
              '1'), 'version name must not be empty'),
            (('datastore_version_update', 'mysql', ' ', 'mysql', IMAGE, '',
              '1'), 'version name'),
            (('datastore_version_update', 'mysql', '5.7', '', IMAGE, '',
              '1'), 'manager must not be empty'),
        ]
        for argv, expected in cases:
            self.assertIn(expected, self.refused(*argv), argv)
        self.assertEqual(['mysql'], [ds['name'] for ds in
                                     db_api.datastore_list(self.context)])
        self.assertEqual([], db_api.datastore_version_list(self.context))

    def test_values_wider_than_their_columns(self) -> None:
        """SQLite would store them; MariaDB and PostgreSQL would refuse
        them with a database error: refused first, naming the value."""
        self.ok('datastore_update', 'mysql', '')
        self.ok('datastore_version_update', 'mysql', '5.7', 'mysql', IMAGE,
                '', '1')
        long = 'x' * 256
        cases = [
            (('datastore_update', long, ''), 'datastore name has 256'),
            (('datastore_update', 'mysql', long), 'version name has 256'),
            (('datastore_version_update', long, '5.7', 'mysql', IMAGE, '',
              '1'), 'datastore name'),
            (('datastore_version_update', 'mysql', long, 'mysql', IMAGE, '',
              '1'), 'version name'),
            (('datastore_version_update', 'mysql', '8.0', long, IMAGE, '',
              '1'), 'manager'),
            (('datastore_version_update', 'mysql', '8.0', 'mysql', IMAGE,
              'p' * 512, '1'), 'packages has 512'),
            (('datastore_version_update', 'mysql', '8.0', 'mysql', IMAGE, '',
              '1', '--version-number', long), 'version number'),
            (('datastore_version_flavor_add', 'mysql', '5.7', 'f' * 129),
             'at most 128'),
            (('flavor_create', 'f' * 256, 'x', '1', '1', '1'), 'flavor id'),
            (('flavor_create', '77', long, '1', '1', '1'), 'flavor name'),
        ]
        for argv, expected in cases:
            self.assertIn(expected, self.refused(*argv), argv)
        self.ok('datastore_update', 'd' * 255, '')


class ManageDatabaseCommandsTest(base.TestCase):
    """The db_* commands, as a separate process on a fresh database."""

    def manage(self, *argv: str) -> subprocess.CompletedProcess:
        state = self.useFixture(fixtures.TempDir()).path
        conf = os.path.join(state, 'trove.conf')
        if not os.path.exists(conf):
            with open(conf, 'w') as conf_file:
                conf_file.write('[database]\nconnection = sqlite:///%s\n'
                                % os.path.join(self.db_dir, 'trove.sqlite'))
        return subprocess.run(
            [sys.executable, '-m', 'trove_clone.cmd.manage',
             '--config-file', conf] + list(argv),
            capture_output=True, text=True, timeout=120)

    def setUp(self) -> None:
        super().setUp()
        self.db_dir = self.useFixture(fixtures.TempDir()).path

    def test_sync_version_and_phases(self) -> None:
        result = self.manage('db_version')
        self.assertEqual(1, result.returncode)
        self.assertIn('not under migration control', result.stderr)
        self.assertEqual(0, self.manage('db_expand').returncode)
        latest = migration.latest_heads()
        self.assertIn('%s, base' % latest['expand'],
                      self.manage('db_version').stdout)
        self.assertIn('0 rows', self.manage('db_migrate').stdout)
        self.assertEqual(0, self.manage('db_contract').returncode)
        result = self.manage('db_version')
        self.assertEqual('Database version is: %(expand)s, %(contract)s '
                         '(expand, contract); up to date.' % latest,
                         result.stdout.strip())
        self.assertEqual(0, self.manage('db_sync').returncode)
        self.assertEqual(0, self.manage('db_upgrade').returncode)
        result = self.manage('db_downgrade', '2026_1_expand01')
        self.assertEqual(1, result.returncode)
        self.assertIn('restore the control database from the backup',
                      result.stderr)

    def test_config_file_from_the_environment(self) -> None:
        """Without --config-file, $OS_TROVE_CONFIG_FILE (the trovestack
        openrc sets it) names the configuration; without any, the error
        says what is missing in one line."""
        conf = os.path.join(self.db_dir, 'env.conf')
        with open(conf, 'w') as conf_file:
            conf_file.write('[database]\nconnection = sqlite:///%s\n'
                            % os.path.join(self.db_dir, 'env.sqlite'))
        env = dict(os.environ, OS_TROVE_CONFIG_FILE=conf)
        argv = [sys.executable, '-m', 'trove_clone.cmd.manage']
        result = subprocess.run(argv + ['db_sync'], env=env,
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.db_dir,
                                                    'env.sqlite')))
        # The module key goes beside that configuration file.
        self.assertTrue(os.path.exists(os.path.join(self.db_dir,
                                                    'module.key')))
        env.pop('OS_TROVE_CONFIG_FILE')
        result = subprocess.run(argv + ['--config-file', os.devnull,
                                        'db_version'], env=env,
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(1, result.returncode)
        self.assertEqual(['No control database is configured: give '
                          '--config-file with a [database] connection '
                          '(default /etc/trove/trove.conf, or '
                          '$OS_TROVE_CONFIG_FILE).'],
                         result.stderr.strip().splitlines())

    def test_datastore_command_before_sync(self) -> None:
        result = self.manage('datastore_update', 'mysql', '')
        self.assertEqual(1, result.returncode)
        self.assertIn('db_sync', result.stderr)
        self.assertEqual(1, len(result.stderr.strip().splitlines()))


class ManageFlavorTest(ManageTest):

    def test_flavor_commands(self) -> None:
        self.assertEqual("Flavor 42 'db.huge' created: 8192 MB RAM, 4 vCPUs, "
                         "40 GB disk.",
                         self.ok('flavor_create', '42', 'db.huge', '8192',
                                 '4', '40'))
        listing = self.ok('flavor_list')
        self.assertIn('db.huge', listing)
        self.assertIn('m1.small', listing)
        self.assertEqual(8192, drivers.get('flavor').get('42')['ram'])
        self.refused('flavor_create', '42', 'other', '1', '1', '1')
        self.refused('flavor_create', '43', 'db.huge', '1', '1', '1')
        self.refused('flavor_create', '44', 'x', 'lots', '1', '1')
        self.refused('flavor_create', '44', 'x', '512', '0', '1')
        self.assertIn('Flavor 42 deleted', self.ok('flavor_delete', '42'))
        self.refused('flavor_delete', '42')
        self.assertRaises(exception.FlavorNotFound, drivers.get('flavor').get,
                          '42')

    def dump(self) -> tuple:
        return super().dump() + (db_api.flavor_list(self.context),)


class ManageSecretsTest(testtools.TestCase):
    """An upgrade from instance keys wrapped with the old literal default
    to the deployment's own key loses nothing."""

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.conf = os.path.join(self.state, 'trove.conf')
        self.url = 'sqlite:///%s' % os.path.join(self.state, 't.sqlite')
        with open(self.conf, 'w') as conf_file:
            conf_file.write('[database]\nconnection = %s\n' % self.url)

    def manage(self, *argv: str) -> str:
        result = subprocess.run(
            [sys.executable, '-m', 'trove_clone.cmd.manage',
             '--config-file', self.conf] + list(argv),
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        return result.stdout

    def old_instance(self, key: str) -> str:
        """An instance row as the code before this change wrote it."""
        instance_id = uuidutils.generate_uuid()
        engine = sqlalchemy.create_engine(self.url)
        with engine.begin() as connection:
            version_id = uuidutils.generate_uuid()
            datastore_id = uuidutils.generate_uuid()
            connection.execute(models.Datastore.__table__.insert().values(
                id=datastore_id, name='ds-%s' % version_id))
            connection.execute(
                models.DatastoreVersion.__table__.insert().values(
                    id=version_id, datastore_id=datastore_id, name='1',
                    version='1', manager='mysql', active=True))
            connection.execute(models.Instance.__table__.insert().values(
                id=instance_id, name='old', tenant_id='p',
                datastore_version_id=version_id, task_id=1,
                deleted=False, created=models.utcnow(),
                updated=models.utcnow(), encrypted_key=crypto.wrap_key(
                    key, secrets.LEGACY_RPC_KEY)))
        engine.dispose()
        return instance_id

    def stored(self, instance_id: str) -> str:
        engine = sqlalchemy.create_engine(self.url)
        with engine.connect() as connection:
            wrapped = connection.execute(sqlalchemy.select(
                models.Instance.encrypted_key).where(
                models.Instance.id == instance_id)).scalar()
        engine.dispose()
        return wrapped

    def test_db_sync_and_contract_rewrap_legacy_keys(self) -> None:
        # The first step of a rolling upgrade writes the key the new
        # services need; the old code's rows are wrapped with the literal.
        self.manage('db_expand')
        key_file = os.path.join(self.state, 'instance-rpc.key')
        self.assertEqual(0o600, os.stat(key_file).st_mode & 0o777)
        key = crypto.generate_key()
        first = self.old_instance(key)
        out = self.manage('db_sync')
        self.assertIn('1 instance RPC keys wrapped with the old default key '
                      'were wrapped again', out)
        with open(key_file) as source:
            secret = source.read().strip()
        self.assertEqual(key, crypto.unwrap_key(self.stored(first), secret))
        second = self.old_instance(key)
        self.assertIn('1 instance RPC keys', self.manage('db_contract'))
        self.assertEqual(key, crypto.unwrap_key(self.stored(second), secret))
        self.assertNotIn('wrapped again', self.manage('db_sync'))
