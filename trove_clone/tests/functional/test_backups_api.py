"""The backups API through the real ``trove`` and ``openstack`` commands
(Keystone's admin) on one Redis instance, without depending on a guest
that can take a backup: the backup storage is unusable (its directory is
a regular file), so every backup ends FAILED, and the test checks that
this leaves the instance ACTIVE and the backup FAILED with a reason;
validation errors, 404s, list filters, quota, strategies and delete.
"""
import json
import time

from troveclient import exceptions

from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment

WAIT = 240
DATASTORE = 'redis'
UNKNOWN_ID = '4c3f1e0a-0000-4000-8000-000000000000'


class BackupApiTest(deployment.DeploymentTestCase):
    address_pool = '127.77.152.0/28'

    @classmethod
    def setUpClass(cls) -> None:
        cls.instance_id = None
        cls.deployment = deployment.Deployment(
            cls.address_pool, datastores=(DATASTORE,), keystone=True,
            extra_conf='backup_timeout = 60\n'
                       'backup_local_dir = /dev/null/backups')
        try:
            cls.deployment.setUp()
            trove = cls.deployment.client()
            cls.instance_id = trove.instances.create(
                'bk', '1', volume={'size': 1},
                datastore=DATASTORE).id
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.instance_id:
            cls.deployment.delete_and_wait(cls.instance_id)
        cls.deployment.cleanUp()

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()
        self.wait_for_instance('ACTIVE', 'HEALTHY')

    # --- helpers ------------------------------------------------------------

    def env(self) -> dict:
        return base.cli_env(self.deployment.keystone.url, {
            'username': 'admin', 'project_name': 'admin',
            'password': self.deployment.keystone.admin_password})

    def cli(self, *argv: str, fails: bool = False) -> str:
        return base.run_cli(self, self.env(), argv, expect_failure=fails)

    def wait_for_instance(self, *wanted: str) -> None:
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(self.instance_id)
            if instance.status in wanted:
                return
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.3)

    def wait_for_backup(self, backup_id: str) -> dict:
        deadline = time.monotonic() + 90
        while self.trove.backups.get(backup_id).status in (
                'NEW', 'BUILDING', 'SAVING'):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.3)
        return json.loads(self.cli('openstack', 'database', 'backup',
                                   'show', backup_id, '-f', 'json'))

    def backup(self, name: str) -> dict:
        return json.loads(self.cli(
            'openstack', 'database', 'backup', 'create', name,
            '--instance', self.instance_id, '-f', 'json'))

    # --- the tests -----------------------------------------------------------

    def test_failed_backup_gives_the_instance_back(self) -> None:
        created = self.backup('fails')
        self.assertEqual('NEW', created['status'])
        self.assertEqual(self.instance_id, created['instance_id'])
        self.assertEqual(DATASTORE, created['datastore'])
        shown = self.wait_for_backup(created['id'])
        self.assertEqual('FAILED', shown['status'])
        self.assertTrue(shown['fail_reason'])
        self.wait_for_instance('ACTIVE', 'HEALTHY')
        # trove's own commands see it, then delete it.
        listed = self.cli('trove', 'backup-list-instance', self.instance_id)
        self.assertIn(created['id'], listed)
        self.assertIn('FAILED', self.cli('trove', 'backup-show',
                                         created['id']))
        self.cli('trove', 'backup-delete', created['id'])
        deadline = time.monotonic() + 30
        while created['id'] in self.cli('trove', 'backup-list'):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)

    def test_refusals(self) -> None:
        error = self.cli('openstack', 'database', 'backup', 'create', 'inc',
                         '--instance', self.instance_id, '--incremental',
                         fails=True)
        self.assertIn('Incremental backups are not supported for the redis '
                      'datastore', error)
        self.assertIn('HTTP 400', error)
        error = self.cli('openstack', 'database', 'backup', 'create', 'bad',
                         '--instance', self.instance_id,
                         '--swift-container', '../x', fails=True)
        self.assertIn('swift_container', error)
        error = self.cli('trove', 'backup-show', UNKNOWN_ID, fails=True)
        self.assertIn(UNKNOWN_ID, error)
        error = self.cli('openstack', 'database', 'backup', 'delete',
                         UNKNOWN_ID, fails=True)
        self.assertIn('Unable to delete', error)
        self.assertRaises(exceptions.NotFound, self.trove.backups.delete,
                          UNKNOWN_ID)
        self.assertEqual([], self.trove.backups.list(
            instance_id=self.instance_id))

    def test_quota_strategy_and_filters(self) -> None:
        project_id = self.deployment.keystone.session().get_project_id()
        self.trove.quota.update(project_id, {'backups': 1})
        self.addCleanup(self.trove.quota.update, project_id,
                        {'backups': 50})
        self.cli('openstack', 'database', 'backup', 'strategy', 'create',
                 '--instance-id', self.instance_id, '--swift-container',
                 'mine')
        strategies = json.loads(self.cli(
            'openstack', 'database', 'backup', 'strategy', 'list', '-f',
            'json'))
        self.assertEqual([self.instance_id],
                         [row['Instance ID'] for row in strategies])
        first = self.backup('one')
        self.addCleanup(self.trove.backups.delete, first['id'])
        self.wait_for_backup(first['id'])
        self.wait_for_instance('ACTIVE', 'HEALTHY')
        error = self.cli('openstack', 'database', 'backup', 'create', 'two',
                         '--instance', self.instance_id, fails=True)
        self.assertIn('Quota exceeded', error)
        listed = json.loads(self.cli(
            'openstack', 'database', 'backup', 'list', '--instance-id',
            self.instance_id, '-f', 'json'))
        self.assertEqual([first['id']], [row['ID'] for row in listed])
        self.assertEqual([first['id']], [row['ID'] for row in json.loads(
            self.cli('openstack', 'database', 'backup', 'list',
                     '--datastore', DATASTORE, '-f', 'json'))])
        limits = {row.verb: row for row in self.trove.limits.list()}
        self.assertEqual(1, limits['ABSOLUTE'].max_backups)
        self.cli('openstack', 'database', 'backup', 'strategy', 'delete',
                 '--instance-id', self.instance_id)
        self.assertEqual([], json.loads(self.cli(
            'openstack', 'database', 'backup', 'strategy', 'list', '-f',
            'json')))
