"""The operator walkthroughs of seeds 000 and 001, as written, with the
real trove-manage, trove and openstack commands, on each control DB; on
SQLite followed by seed 003's instance part on the same deployment (with
a taskmanager, a conductor and real guest images): what one seed leaves
must not break the next."""
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time

from trove_clone.tests.functional import base
from trove_clone.tests.functional import fixtures as trove_fixtures
from trove_clone.tests.functional import instances
from trove_clone.tests.functional import test_modules

RULES = os.path.join(base.ROOT, 'trove_clone', 'templates', 'mysql',
                     'validation-rules.json')


def _cell(text: str) -> str:
    # python-troveclient 8.11 prints str cells as bytes: "b'mysql'".
    text = text.strip()
    if text.startswith("b'") and text.endswith("'"):
        return text[2:-1]
    return text


def table_ids(output: str) -> dict:
    """name -> id from a two-column ``| id | name |`` table."""
    rows = {}
    for line in output.splitlines():
        cells = [_cell(cell) for cell in line.strip('|').split('|')]
        if len(cells) >= 2 and cells[0] != 'id' and '-' in cells[0]:
            rows[cells[1]] = cells[0]
    return rows


class _SeedWalkthrough(base.DeploymentTestCase):

    def manage(self, *args: str) -> str:
        result = self.api.manage(*args)
        self.assertEqual('', result.stderr.strip(), result.stderr)
        return result.stdout.strip()

    def test_seed_walkthrough(self) -> None:
        self.seed_000()
        self.seed_001()

    def seed_000(self) -> None:
        glance_id = self.upload_public_image('mysql-5.5')
        self.assertIn("Datastore 'mysql' updated",
                      self.manage('datastore_update', 'mysql', ''))
        self.assertEqual(
            "Datastore version 'mysql-5.5' (mysql-5.5) created for "
            "datastore 'mysql'.",
            self.manage('datastore_version_update', 'mysql', 'mysql-5.5',
                        'mysql', glance_id, '', '1'))
        self.assertIn("default version 'mysql-5.5'",
                      self.manage('datastore_update', 'mysql', 'mysql-5.5'))
        loaded = self.manage('db_load_datastore_config_parameters', 'mysql',
                             'mysql-5.5', RULES)
        self.assertRegex(loaded, r'^Loaded \d+ configuration parameters')
        # Step 6: validate as a cloud user with the legacy CLI.
        datastores = table_ids(self.cli(self.alice, 'trove',
                                        'datastore-list'))
        self.assertIn('mysql', datastores)
        versions = table_ids(self.cli(self.alice, 'trove',
                                      'datastore-version-list',
                                      datastores['mysql']))
        self.assertEqual(['mysql-5.5'], list(versions))
        self.mysql_55 = versions['mysql-5.5']

    def seed_001(self) -> None:
        self.upload_image('trove-guest-ubuntu-jammy', 'trove', 'mysql')
        self.cli(self.admin, 'openstack', 'datastore', 'version', 'create',
                 '5.7.29', 'mysql', 'mysql', '', '--image-tags',
                 'trove,mysql', '--active', '--default', '--version-number',
                 '5.7.29')
        listing = json.loads(self.cli(self.admin, 'openstack', 'datastore',
                                      'version', 'list', 'mysql', '-f',
                                      'json'))
        by_name = {row['Name']: row for row in listing}
        self.assertEqual({'mysql-5.5', '5.7.29'}, set(by_name))
        self.assertEqual('5.7.29', by_name['5.7.29']['Version'])
        new_id = by_name['5.7.29']['ID']
        loaded = self.manage('db_load_datastore_config_parameters', 'mysql',
                             '5.7.29', RULES)
        self.assertIn("version '5.7.29' (5.7.29)", loaded)
        params = json.loads(self.cli(
            self.alice, 'openstack', 'database', 'configuration',
            'parameter', 'list', '5.7.29', '--datastore', 'mysql', '-f',
            'json'))
        names = {row['Name']: row for row in params}
        self.assertIn('max_connections', names)
        self.assertEqual(18446744073709551615,
                         int(names['max_binlog_cache_size']['Max Size']))
        shown = json.loads(self.cli(self.alice, 'openstack', 'datastore',
                                    'show', 'mysql', '-f', 'json'))
        # OSC shows the default version by name.
        self.assertEqual('5.7.29', shown['default_version'])
        # Hide a datastore version.
        self.cli(self.admin, 'openstack', 'datastore', 'version', 'set',
                 new_id, '--disable')
        self.wait_for_listing(self.alice, lambda names: '5.7.29'
                              not in names)
        # Replace image ID with tags.
        self.cli(self.admin, 'openstack', 'datastore', 'version', 'set',
                 self.mysql_55, '--image-tags', 'trove,mysql')
        detail = json.loads(self.cli(self.admin, 'openstack', 'datastore',
                                     'version', 'show', self.mysql_55, '-f',
                                     'json'))
        self.assertEqual('', detail.get('image', ''))
        self.assertIn('trove', str(detail.get('image_tags')))

    def wait_for_listing(self, user: dict, predicate) -> None:
        """The API may serve a datastore snapshot up to 1 s old."""
        deadline = time.monotonic() + 10
        while True:
            listing = json.loads(self.cli(user, 'openstack', 'datastore',
                                          'version', 'list', 'mysql', '-f',
                                          'json'))
            names = {row['Name'] for row in listing}
            if predicate(names) or time.monotonic() > deadline:
                self.assertTrue(predicate(names), names)
                return
            time.sleep(0.5)


class SeedsInOrderTest(_SeedWalkthrough):
    """Seeds 000, 001 and 003 (its instance part) one after the other on
    one SQLite deployment that boots instances: the images the seeds
    upload are real MariaDB guest images."""

    backend = 'sqlite'
    address_pool = '127.77.155.0/28'

    @classmethod
    def api_extra_conf(cls) -> str:
        cls.state = tempfile.mkdtemp(prefix='seeds-')
        os.chmod(cls.state, 0o755)
        suffix = secrets.token_hex(4)
        return '\n'.join([
            'transport_url = %s' % instances.TRANSPORT_URL,
            'taskmanager_queue = trove-taskmanager-%s' % suffix,
            'conductor_queue = trove-conductor-%s' % suffix,
            'guest_topic_prefix = guestagent-%s' % suffix,
            'agent_heartbeat_time = 2', 'agent_heartbeat_expiry = 8',
            'server_watch_interval = 2', 'usage_timeout = 120',
            '[local]', 'state_dir = %s/local' % cls.state,
            'address_pool = %s' % cls.address_pool,
            'volume_pool_gb = 4', '[DEFAULT]'])

    @classmethod
    def _start_deployment(cls) -> None:
        super()._start_deployment()
        built = subprocess.run(
            [sys.executable, instances.BUILDER, 'mariadb', '10.11',
             '--output', os.path.join(cls.state, 'built')],
            capture_output=True, text=True, timeout=900)
        if built.returncode:
            raise RuntimeError(built.stderr)
        cls.guest_image = built.stdout.split(':')[0]
        for name in ('trove-taskmanager', 'trove-conductor'):
            cls._use(trove_fixtures.Daemon(name, cls.api.conf_path,
                                           cls.api.state))

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            super().tearDownClass()
        finally:
            if getattr(cls, 'state', None):
                trove_fixtures.keep_logs(cls.state)
                subprocess.run(['rm', '-rf', cls.state], check=False)

    def test_seed_walkthrough(self) -> None:
        self.seed_000()
        self.seed_001()
        self.seed_003()

    def trove(self, *argv: str) -> str:
        return base.run_cli(self, self.cli_env(self.admin),
                            ('trove',) + argv, cwd=self.work)

    def seed_003(self) -> None:
        """Seed 003's first part as printed: a ping module, an instance
        of the mysql datastore (no version named: seed 001 disabled the
        default it made, so the newest active version serves) with flavor
        15 and the module, the module's query and counts."""
        self.work = tempfile.mkdtemp(dir=self.state)
        with open(os.path.join(self.work, 'ping1.dat'), 'w') as data:
            data.write('message=Module.V1\n')
        module = test_modules.properties(self.trove(
            'module-create', 'mymod', 'ping', 'ping1.dat', '--live_update',
            '--datastore', 'mysql'))
        self.assertEqual(test_modules.SEED_MD5[1], module['md5'])
        created = test_modules.properties(self.trove(
            'create', 'myinst', '15', '--size', '1', '--module', 'mymod',
            '--datastore', 'mysql'))
        self.addCleanup(self.delete_instance, created['id'])
        self.assertEqual(('BUILD', 'mysql', '15', 'mysql-5.5'), (
            created['status'], created['datastore'], created['flavor'],
            created['datastore_version']))
        deadline = time.monotonic() + test_modules.WAIT
        while True:
            shown = test_modules.properties(self.trove('show', 'myinst'))
            if shown['status'] == 'ACTIVE':
                break
            self.assertNotIn(shown['status'], ('ERROR', 'FAILED'), shown)
            self.assertLess(time.monotonic(), deadline, shown)
            time.sleep(0.5)
        query = test_modules.table(self.trove('module-query', 'myinst'))
        self.assertEqual(('mymod', 'ping', 'mysql', 'all', 'OK',
                          'Module.V1'), tuple(query[0].values())[:6])
        counts = test_modules.table(self.trove('module-instance-count',
                                               'mymod'))
        self.assertEqual([('mymod', test_modules.SEED_MD5[1], 'True', '1')],
                         [(row['Module Name'], row['Module MD5'],
                           row['Current'], row['Count']) for row in counts])
        listed = test_modules.table(self.trove('module-instances', 'mymod'))
        self.assertEqual([('myinst', 'mysql', 'mysql-5.5', 'ACTIVE', '15',
                           '1')], [(row['Name'], row['Datastore'],
                                    row['Datastore Version'], row['Status'],
                                    row['Flavor ID'], row['Size'])
                                   for row in listed])

    def delete_instance(self, instance_id: str) -> None:
        base.run_cli(self, self.cli_env(self.admin),
                     ('trove', 'delete', instance_id))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            result = subprocess.run(
                [os.path.join(base.BIN, 'trove'), 'show', instance_id],
                env=self.cli_env(self.admin), capture_output=True,
                text=True, timeout=60)
            if result.returncode:
                return
            time.sleep(0.5)
        self.fail('instance %s not deleted within 120 s' % instance_id)


class MysqlSeedWalkthroughTest(_SeedWalkthrough):
    backend = 'mysql'


class PostgresqlSeedWalkthroughTest(_SeedWalkthrough):
    backend = 'postgresql'


del _SeedWalkthrough
