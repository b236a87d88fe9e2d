"""Issue 14's Trove compatibility items, through the real `openstack`,
`trove` and `trove-manage` commands, on one deployment (Keystone, MariaDB
serving the ``mysql`` datastore) and one shared instance:

* disabling and enabling the default version keeps it the default (the
  shared instance is made as seed 001 leaves an operator: the default
  version disabled and enabled again, then ``trove create`` without a
  version);
* a module reapply with an md5 no instance has answers 202;
* ``openstack database instance list --all`` fills Tenant ID and
  Server ID;
* ``trove-manage`` refuses empty names;
* a replica request without a flavor passes validation (501: no
  replication yet);
* a configuration attach is applied when the command returns.
"""
import json
import os
import subprocess
import time

import pymysql

from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment

WAIT = 240
DATASTORE = 'mysql'


class TroveCompatibilityTest(deployment.DeploymentTestCase):
    address_pool = '127.77.110.0/26'
    datastores = (DATASTORE,)

    @classmethod
    def setUpClass(cls) -> None:
        # The legacy trove CLI needs Keystone.
        cls.deployment = deployment.Deployment(
            cls.address_pool, datastores=cls.datastores, keystone=True)
        cls.instance_id = None
        try:
            cls.deployment.setUp()
            cls.version = cls.deployment.versions[DATASTORE]
            cls.create_after_disable_and_enable()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def create_after_disable_and_enable(cls) -> None:
        """Seed 001's "hide a datastore version" and back, then the
        shared instance: ``trove create`` naming no version (404 "Default
        version for datastore mysql not found" before the fix)."""
        env = cls.admin_env()
        version_id = {row['Name']: row['ID'] for row in json.loads(
            cls.run_command(env, 'openstack', 'datastore', 'version',
                            'list', DATASTORE, '-f', 'json'))}[cls.version]
        for flag in ('--disable', '--enable'):
            cls.run_command(env, 'openstack', 'datastore', 'version',
                            'set', version_id, flag)
        output = cls.run_command(env, 'trove', 'create', 'compat', '1',
                                 '--size', '1', '--datastore', DATASTORE)
        cls.created = {}
        for line in output.splitlines():
            cells = [cell.strip() for cell in line.strip('|').split('|')]
            if len(cells) == 2:
                cls.created[cells[0]] = cells[1].removeprefix(
                    "b'").rstrip("'")
        cls.instance_id = cls.created['id']

    @classmethod
    def admin_env(cls) -> dict:
        return base.cli_env(cls.deployment.keystone.url, {
            'username': 'admin', 'project_name': 'admin',
            'password': cls.deployment.keystone.admin_password})

    @staticmethod
    def run_command(env: dict, *argv: str) -> str:
        result = subprocess.run(
            [os.path.join(base.BIN, argv[0])] + list(argv[1:]), env=env,
            capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError('%s: %s%s' % (' '.join(argv), result.stdout,
                                             result.stderr))
        return result.stdout

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.instance_id:
            cls.deployment.delete_and_wait(cls.instance_id)
        super().tearDownClass()

    # --- helpers ------------------------------------------------------------

    def cli(self, *argv: str, fails: bool = False) -> str:
        """``openstack``/``trove`` as Keystone's admin; stdout, or stderr
        when it is expected to fail."""
        return base.run_cli(self, self.admin_env(), argv,
                            expect_failure=fails)

    def active_instance(self):
        trove = self.deployment.client()
        deadline = time.monotonic() + WAIT
        while True:
            instance = trove.instances.get(self.instance_id)
            if instance.status in ('ACTIVE', 'HEALTHY'):
                return instance
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.3)

    def version_id(self) -> str:
        listing = json.loads(self.cli('openstack', 'datastore', 'version',
                                      'list', DATASTORE, '-f', 'json'))
        return {row['Name']: row['ID'] for row in listing}[self.version]

    # --- the items ----------------------------------------------------------

    def test_default_version_survives_disable_and_enable(self) -> None:
        # Made after a --disable and an --enable: the default is kept.
        self.assertEqual(self.version, self.created['datastore_version'])
        version_id = self.version_id()
        self.addCleanup(self.cli, 'openstack', 'datastore', 'version', 'set',
                        version_id, '--enable')
        self.cli('openstack', 'datastore', 'version', 'set', version_id,
                 '--disable')
        # Trove's answer while the default is disabled.
        error = self.cli('trove', 'create', 'compat-off', '1', '--size',
                         '1', '--datastore', DATASTORE, fails=True)
        self.assertIn('is not active', error)
        self.assertIn('HTTP 400', error)
        shown = json.loads(self.cli('openstack', 'datastore', 'show',
                                    DATASTORE, '-f', 'json'))
        self.assertEqual(self.version, shown['default_version'])

    def test_module_reapply_of_an_md5_no_instance_has(self) -> None:
        trove = self.deployment.client()
        module = trove.modules.create('compat-mod', 'ping',
                                      'message=Module.V1',
                                      datastore=DATASTORE)
        self.addCleanup(trove.modules.delete, module.id)
        # Exit status 0: the API answered 202.
        self.cli('trove', 'module-reapply', module.id, '--md5',
                 '869744bdd18e306a96c145df562065ab')
        self.assertEqual([], trove.modules.instances(module.id))

    def test_admin_list_shows_tenant_and_server(self) -> None:
        instance = self.active_instance()
        rows = json.loads(self.cli('openstack', 'database', 'instance',
                                   'list', '--all', '-f', 'json'))
        row = {item['ID']: item for item in rows}[self.instance_id]
        self.assertEqual(instance.tenant_id, row['Tenant ID'])
        self.assertTrue(instance.server_id)
        self.assertEqual(instance.server_id, row['Server ID'])

    def test_trove_manage_refuses_empty_names(self) -> None:
        api = self.deployment.api
        for argv, named in (
                (('datastore_update', '', ''), 'datastore name'),
                (('datastore_version_update', DATASTORE, '', DATASTORE,
                  '', '', '1'), 'version name'),
                (('datastore_version_update', '', self.version,
                  DATASTORE, '', '', '1'), 'datastore name')):
            result = api.manage(*argv, check=False)
            self.assertEqual(1, result.returncode, result.stdout)
            self.assertIn('%s must not be empty' % named, result.stderr)
        listing = json.loads(self.cli('openstack', 'datastore', 'list',
                                      '-f', 'json'))
        self.assertEqual([DATASTORE], [row['Name'] for row in listing])

    def test_replica_request_without_flavor_takes_the_primarys(
            self) -> None:
        """``openstack database instance create --replica-of`` sends no
        flavor: the replica takes its primary's (Trove's)."""
        primary = self.active_instance()
        shown = json.loads(self.cli(
            'openstack', 'database', 'instance', 'create', 'compat-replica',
            '--replica-of', self.instance_id, '-f', 'json'))
        self.addCleanup(self.deployment.delete_and_wait, shown['id'])
        self.assertEqual((self.instance_id, primary.flavor['id'], 'BUILD'),
                         (shown['replica_of'], shown['flavor'],
                          shown['status']))
        # Built (or failed) before the cleanup deletes it: a delete is
        # refused while the instance builds.
        trove = self.deployment.client()
        deadline = time.monotonic() + WAIT
        while trove.instances.get(shown['id']).status == 'BUILD':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(1)

    def test_configuration_attach_is_live_when_the_command_returns(
            self) -> None:
        """tempest's test_configuration reads max_connections right after
        the attach: the API applies dynamic values before it answers. The
        taskmanager is stopped meanwhile: nothing but the API's own guest
        call can have applied them (a cast would wait in its queue)."""
        instance = self.active_instance()
        trove = self.deployment.client()
        user, password = trove.root.create(self.instance_id)
        group = trove.configurations.create(
            'compat-cfg', json.dumps({'max_connections': 555}),
            datastore=DATASTORE, datastore_version=self.version)
        self.addCleanup(trove.configurations.delete, group.id)

        def live() -> str:
            connection = pymysql.connect(host=instance.ip[0], user=user,
                                         password=password,
                                         connect_timeout=5)
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SHOW VARIABLES LIKE 'max_connections'")
                    return str(cursor.fetchone()[1])
            finally:
                connection.close()

        before = live()
        self.assertNotEqual('555', before)
        taskmanager = self.deployment.daemons['trove-taskmanager']
        taskmanager.kill()
        try:
            self.cli('openstack', 'database', 'configuration', 'attach',
                     self.instance_id, group.id)
            self.assertEqual('555', live())
            self.cli('openstack', 'database', 'configuration', 'detach',
                     self.instance_id)
            self.assertEqual(before, live())
        finally:
            taskmanager.start()
        self.assertEqual('ACTIVE', trove.instances.get(
            self.instance_id).status)
