"""tools/tempest/run.py: reading a trovestack deployment, tempest.conf for
it, the tests of one datastore, the exclude list and the result count."""
import configparser
import importlib.util
import os
import re
import stat

import fixtures
import testtools

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir,
                                     os.pardir, os.pardir, os.pardir))
RUN = os.path.join(ROOT, 'tools', 'tempest', 'run.py')

spec = importlib.util.spec_from_file_location('tempest_run_under_test', RUN)
tempest_run = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tempest_run)

#: A GET /datastores answer as trove-api gives it to an admin.
DATASTORES = [
    {'name': 'mysql', 'default_version': 'v-mysql-10.11',
     'versions': [
         {'id': 'v-mysql-10.6', 'name': '10.6', 'active': True,
          'image': 'image-10.6'},
         {'id': 'v-mysql-10.11', 'name': '10.11', 'active': True,
          'image': 'image-10.11'},
         {'id': 'v-mysql-old', 'name': '5.7', 'active': False}]},
    {'name': 'postgresql', 'default_version': 'v-pg-16',
     'versions': [{'id': 'v-pg-16', 'name': '16', 'active': True,
                   'image': 'image-pg'}]},
    {'name': 'redis', 'default_version': 'v-redis',
     'versions': [{'id': 'v-redis', 'name': '7.0', 'active': True}]},
    {'name': 'mariadb', 'default_version': None, 'versions': []}]
FLAVORS = [{'id': 3, 'str_id': '3', 'ram': 4096},
           {'id': 1, 'str_id': '1', 'ram': 512},
           {'id': 7, 'str_id': '7', 'ram': 256},
           {'id': 2, 'str_id': '2', 'ram': 1024}]
TEST_IDS = [
    'trove_tempest_plugin.tests.scenario.test_instance_basic.'
    'TestInstanceBasicMySQL.test_configuration[id-ce8277b0]',
    'trove_tempest_plugin.tests.scenario.test_instance_basic.'
    'TestInstanceBasicMariaDB.test_configuration[id-ce8277b0]',
    'trove_tempest_plugin.tests.scenario.test_instance_basic.'
    'TestInstanceBasicPostgreSQL.test_user_database[id-6c2c710c]',
    'trove_tempest_plugin.tests.scenario.test_instance_actions.'
    'TestInstanceActionsMySQL.test_resize[id-27914e82]',
    'trove_tempest_plugin.tests.scenario.test_instance_actions.'
    'TestInstanceActionsPostgreSQL.test_rebuild[id-9ec5dd54]',
    'trove_tempest_plugin.tests.scenario.test_backup.'
    'TestBackupMySQL.test_backup_full[id-b90626ae]',
    'trove_tempest_plugin.tests.scenario.test_cinder_backup.'
    'TestCinderBakcupMySQL.test_backup_cinder[id-2d5e2c8d]',
    'trove_tempest_plugin.tests.scenario.test_replication.'
    'TestReplicationPostgreSQL.test_replication[id-2f37f064]',
    'trove_tempest_plugin.tests.scenario.test_instance_ssl.'
    'TestInstanceSSLMariaDB.test_ssl_basic[id-f2dfb7ec]',
    'trove_tempest_plugin.tests.scenario.test_instance_actions.'
    'TestInstanceActionsMariaDB.test_instance_upgrade[id-f7a0fef6]',
    'trove_tempest_plugin.tests.scenario.test_instance_actions.'
    'TestInstanceActionsPostgreSQL.test_instance_upgrade[id-97f1e7ca]',
    # Replication (issue 16): MySQL's runs.
    'trove_tempest_plugin.tests.scenario.test_replication.'
    'TestReplicationMySQL.test_replication[id-280d09c6]',
]


def deployment(**changes) -> 'tempest_run.Deployment':
    values = dict(auth_url='http://127.0.0.1:15000/v3', region='RegionOne',
                  admin_password='admin-secret-from-credentials',
                  datastores=tempest_run.parse_datastores(DATASTORES),
                  flavor_id='1', resize_flavor_id='2')
    values.update(changes)
    return tempest_run.Deployment(**values)


def parse(text: str) -> configparser.ConfigParser:
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_string(text)
    return conf


class ReadDeploymentTest(testtools.TestCase):

    def test_datastores_with_a_default_version(self) -> None:
        found = tempest_run.parse_datastores(DATASTORES)
        self.assertEqual({'mysql', 'postgresql', 'redis'}, set(found))
        # Names, not ids; inactive versions are not offered.
        self.assertEqual(tempest_run.Datastore(
            'mysql', '10.11', ('10.6',), 'image-10.11'), found['mysql'])
        self.assertEqual(tempest_run.Datastore('postgresql', '16', (),
                                               'image-pg'),
                         found['postgresql'])

    def test_flavors(self) -> None:
        self.assertEqual(('1', '2'), tempest_run.choose_flavors(FLAVORS))
        self.assertEqual(('3', '3'), tempest_run.choose_flavors(
            [FLAVORS[0], FLAVORS[2]]))
        self.assertRaises(tempest_run.RunError, tempest_run.choose_flavors,
                          [FLAVORS[2]])

    def test_access_from_openrc_and_credentials(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(state, 'openrc'), 'w') as openrc:
            openrc.write(
                '# source openrc admin  # the admin user\n'
                'export OS_AUTH_URL=http://127.0.0.1:15000/v3\n'
                'export OS_REGION_NAME=RegionTwo OS_INTERFACE=public\n'
                'case ":$PATH:" in *":/x:"*) ;; *) export PATH="/x:$PATH"'
                ' ;; esac\n'
                'if [ "${1:-}" = admin ]; then\n'
                '  export OS_USERNAME=admin OS_PASSWORD=not-this\n'
                'fi\n')
        with open(os.path.join(state, 'credentials'), 'w') as credentials:
            credentials.write('# Passwords\nKEYSTONE_ADMIN_PASSWORD=a-b_c\n'
                              'DEMO_PASSWORD=d\n')
        self.assertEqual(('http://127.0.0.1:15000/v3', 'RegionTwo',
                          'a-b_c'), tempest_run.read_access(state))

    def test_no_deployment(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        error = self.assertRaises(tempest_run.RunError,
                                  tempest_run.read_access, state)
        self.assertIn('kick-start', str(error))


class TempestConfTest(testtools.TestCase):

    def conf(self, datastore: str = 'mysql', **changes
             ) -> configparser.ConfigParser:
        return parse(tempest_run.tempest_conf(deployment(**changes),
                                              datastore, '/ws'))

    def test_identity_and_dynamic_credentials(self) -> None:
        conf = self.conf()
        self.assertEqual('http://127.0.0.1:15000/v3',
                         conf['identity']['uri_v3'])
        self.assertEqual('v3', conf['identity']['auth_version'])
        self.assertEqual('RegionOne', conf['identity']['region'])
        self.assertEqual('true', conf['auth']['use_dynamic_credentials'])
        self.assertEqual('admin', conf['auth']['admin_username'])
        self.assertEqual('admin-secret-from-credentials',
                         conf['auth']['admin_password'])
        self.assertEqual('false', conf['auth']['create_isolated_networks'])
        self.assertEqual('/ws/logs', conf['DEFAULT']['log_dir'])

    def test_services_this_deployment_has(self) -> None:
        available = self.conf()['service_available']
        self.assertEqual('true', available['trove'])
        for service in ('neutron', 'nova', 'cinder', 'swift'):
            self.assertEqual('false', available[service], service)

    def test_database_section(self) -> None:
        database = self.conf()['database']
        # redis is not a datastore of the plugin; mariadb has no version.
        self.assertEqual('mysql,postgresql', database['enabled_datastores'])
        self.assertEqual('mysql:10.11,postgresql:16',
                         database['default_datastore_versions'])
        self.assertEqual('mysql:10.6',
                         database['pre_upgrade_datastore_versions'])
        self.assertEqual('1', database['flavor_id'])
        self.assertEqual('2', database['resize_flavor_id'])
        self.assertEqual('image-10.11', database['rebuild_image_id'])
        self.assertEqual('database', database['catalog_type'])
        self.assertRegex(database['shared_network'],
                         r'^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$')
        self.assertLessEqual(int(database['database_build_timeout']), 900)
        self.assertEqual('false', database['remove_swift_account'])
        self.assertEqual(
            'image-pg', self.conf('postgresql')['database'][
                'rebuild_image_id'])

    def test_every_database_option_is_the_plugins(self) -> None:
        options = {'catalog_type', 'endpoint_type', 'enabled_datastores',
                   'default_datastore_versions',
                   'pre_upgrade_datastore_versions', 'database_build_timeout',
                   'database_restore_timeout', 'backup_wait_timeout',
                   'flavor_id', 'resize_flavor_id', 'shared_network',
                   'subnet_cidr', 'dns_nameservers', 'volume_type',
                   'database_log_container', 'remove_swift_account',
                   'rebuild_image_id', 'run_full_tests', 'ensure_quotas',
                   'ensure_barbican_quotas'}
        conf = self.conf()
        written = set(conf['database']) - set(conf.defaults())
        self.assertIn('flavor_id', written)
        self.assertLessEqual(written, options)

    def test_datastore_not_deployed(self) -> None:
        error = self.assertRaises(tempest_run.RunError,
                                  tempest_run.tempest_conf, deployment(),
                                  'mariadb', '/ws')
        self.assertIn('kick-start mariadb', str(error))

    def test_written_private(self) -> None:
        workspace = self.useFixture(fixtures.TempDir()).path
        path = tempest_run.write_tempest_conf(deployment(), 'postgresql',
                                              workspace)
        self.assertEqual(os.path.join(workspace, 'etc', 'tempest.conf'),
                         path)
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        with open(path) as written:
            conf = parse(written.read())
        self.assertEqual('admin-secret-from-credentials',
                         conf['auth']['admin_password'])
        self.assertEqual(os.path.join(workspace, 'locks'),
                         conf['oslo_concurrency']['lock_path'])
        for directory in ('logs', 'locks'):
            self.assertTrue(os.path.isdir(os.path.join(workspace,
                                                       directory)))


class SelectionTest(testtools.TestCase):

    def selected(self, datastore: str) -> list[str]:
        exclude = []
        with open(tempest_run.EXCLUDE) as source:
            for line in source:
                regex = line.split('#')[0].strip()
                if regex:
                    exclude.append(re.compile(regex))
        pattern = re.compile(tempest_run.test_regex(datastore))
        return [test_id for test_id in TEST_IDS
                if pattern.search(test_id)
                and not any(regex.search(test_id) for regex in exclude)]

    def test_one_datastore_less_the_exclude_list(self) -> None:
        # The backup tests run (issue 15), the cinder ones do not.
        self.assertEqual([TEST_IDS[0], TEST_IDS[5], TEST_IDS[-1]],
                         self.selected('mysql'))
        self.assertEqual([TEST_IDS[1]], self.selected('mariadb'))
        self.assertEqual([TEST_IDS[2], TEST_IDS[4], TEST_IDS[10]],
                         self.selected('postgresql'))

    def test_each_exclusion_says_why(self) -> None:
        with open(tempest_run.EXCLUDE) as source:
            entries = [line for line in source
                       if line.strip() and not line.startswith('#')]
        self.assertEqual(5, len(entries))
        for entry in entries:
            regex, _, reason = entry.partition('#')
            re.compile(regex.strip())
            self.assertRegex(reason.strip(), r'^(issue \d+|needs \w+):')


class CountResultsTest(testtools.TestCase):

    def test_outcomes(self) -> None:
        rows = ('test,status,start_time,stop_time\n'
                'a.T.test_1,success,x,y\n'
                'a.T.test_2,failure,x,y\n'
                'a.T.test_3,skip,x,y\n'
                'setUpClass (a.U),fail,x,y\n'
                'a.T.test_4,xfail,x,y\n'
                'a.T.test_5,inprogress,x,y\n')
        self.assertEqual(
            {'passed': ['a.T.test_1', 'a.T.test_4'],
             'failed': ['a.T.test_2', 'setUpClass (a.U)', 'a.T.test_5'],
             'skipped': ['a.T.test_3']},
            tempest_run.count_results(rows))

    def test_no_run(self) -> None:
        self.assertEqual({'passed': [], 'failed': [], 'skipped': []},
                         tempest_run.count_results(''))
