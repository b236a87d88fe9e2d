"""Configuration groups end to end, through the real python-troveclient:
a dynamic value is live at once, a restart-required one after the
RESTART_REQUIRED instance is restarted, a PATCH is live without a restart,
and detaching brings the template's values back."""
import json
import os
import subprocess
import time

import psycopg
import pymysql
import redis
import testtools

from trove_clone.tests.functional import fixtures as trove_fixtures
from trove_clone.tests.functional import instances as deployment

WAIT = 180


class _ConfigurationTest(deployment.DeploymentTestCase):

    datastore = ''
    address_pool = ''
    #: (name, value) of a dynamic and a restart-required parameter, and a
    #: second value of the dynamic one.
    dynamic = ('', 0)
    restart_required = ('', 0)
    patched = 0

    def wait_for(self, instance_id: str, *wanted: str):
        trove = self.deployment.client()
        deadline = time.monotonic() + WAIT
        while True:
            instance = trove.instances.get(instance_id)
            if instance.status in wanted:
                return instance
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            if time.monotonic() > deadline:
                self.fail('%s is %s, not %s'
                          % (instance_id, instance.status, wanted))
            time.sleep(0.2)

    def live(self, address: str, root: tuple, name: str) -> str:
        raise NotImplementedError

    def wait_live(self, address: str, root: tuple, name: str,
                  expected) -> None:
        deadline = time.monotonic() + 30
        while self.live(address, root, name) != str(expected):
            if time.monotonic() > deadline:
                self.assertEqual(str(expected),
                                 self.live(address, root, name), name)
            time.sleep(0.2)

    def test_attach_restart_patch_detach(self) -> None:
        trove = self.deployment.client()
        dynamic, dynamic_value = self.dynamic
        restart, restart_value = self.restart_required
        version = self.deployment.versions[self.datastore]
        group = trove.configurations.create(
            'tuned', json.dumps({dynamic: dynamic_value,
                                 restart: restart_value}),
            datastore=self.datastore, datastore_version=version)
        self.addCleanup(trove.configurations.delete, group.id)
        instance = trove.instances.create('cfg', '1', volume={'size': 1},
                                          datastore=self.datastore)
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        instance = self.wait_for(instance.id, 'ACTIVE')
        address = instance.ip[0]
        root_user = trove.root.create(instance.id)
        root = (root_user[0], root_user[1])
        default_dynamic = self.live(address, root, dynamic)
        default_restart = self.live(address, root, restart)

        trove.instances.update(instance.id, configuration=group.id)
        self.wait_for(instance.id, 'RESTART_REQUIRED')
        self.wait_live(address, root, dynamic, dynamic_value)
        self.assertEqual(default_restart, self.live(address, root, restart))
        self.assertEqual([instance.id], [
            item.id for item in trove.configurations.instances(group.id)])

        trove.instances.restart(instance.id)
        self.wait_for(instance.id, 'ACTIVE')
        self.assertEqual(str(restart_value),
                         self.live(address, root, restart))
        self.assertEqual(str(dynamic_value),
                         self.live(address, root, dynamic))

        trove.configurations.edit(group.id, json.dumps(
            {dynamic: self.patched}))
        self.wait_live(address, root, dynamic, self.patched)
        self.assertEqual('ACTIVE', trove.instances.get(instance.id).status)

        trove.instances.update(instance.id, remove_configuration=True)
        self.wait_live(address, root, dynamic, default_dynamic)
        self.wait_for(instance.id, 'RESTART_REQUIRED')
        trove.instances.restart(instance.id)
        self.wait_for(instance.id, 'ACTIVE')
        self.assertEqual(default_restart, self.live(address, root, restart))
        defaults = trove.instances.configuration(instance.id)
        self.assertTrue(defaults.configuration)


class MysqlConfigurationTest(_ConfigurationTest):

    datastore = 'mysql'
    address_pool = '127.77.246.0/28'
    dynamic = ('max_connections', 321)
    restart_required = ('ft_min_word_len', 3)
    patched = 222

    def live(self, address, root, name):
        connection = pymysql.connect(host=address, user=root[0],
                                     password=root[1], connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute('SHOW GLOBAL VARIABLES LIKE %s', (name,))
                return str(cursor.fetchone()[1])
        finally:
            connection.close()


class MariadbConfigurationTest(MysqlConfigurationTest):

    datastore = 'mariadb'
    address_pool = '127.77.247.0/28'


class PostgresqlConfigurationTest(_ConfigurationTest):

    datastore = 'postgresql'
    address_pool = '127.77.248.0/28'
    dynamic = ('statement_timeout', 5000)
    restart_required = ('max_connections', 77)
    patched = 7000

    def live(self, address, root, name):
        with psycopg.connect(host=address, user=root[0], password=root[1],
                             dbname='postgres', connect_timeout=5) as conn:
            return conn.execute('SELECT setting FROM pg_settings WHERE '
                                'name = %s', (name,)).fetchone()[0]


class RedisConfigurationTest(_ConfigurationTest):

    datastore = 'redis'
    address_pool = '127.77.249.0/28'
    dynamic = ('timeout', 300)
    restart_required = ('databases', 4)
    patched = 120

    def live(self, address, root, name):
        client = redis.Redis(host=address, username=root[0],
                             password=root[1], socket_timeout=5,
                             retry_on_timeout=False)
        return str(client.config_get(name)[name])


class ConfigurationCliTest(testtools.TestCase):
    """The seed and issue commands as users type them: `openstack database
    configuration ...` and `trove configuration-...`."""

    def setUp(self) -> None:
        super().setUp()
        self.deployment = self.useFixture(deployment.Deployment(
            '127.77.250.16/28', datastores=('mysql',)))
        self.endpoint = '%s/v1.0/demo' % self.deployment.api.endpoint

    def openstack(self, *argv: str) -> str:
        result = subprocess.run(
            [os.path.join(trove_fixtures.BIN, 'openstack'), '--os-auth-type',
             'admin_token', '--os-token', 'alice:demo', '--os-endpoint',
             self.endpoint] + list(argv), capture_output=True, text=True,
            timeout=120)
        self.assertEqual(0, result.returncode, '%s\n%s' % (
            ' '.join(argv), result.stderr))
        return result.stdout

    def test_create_attach_show_instances_set_detach(self) -> None:
        group = json.loads(self.openstack(
            'database', 'configuration', 'create', 'tuned',
            '{"max_connections": 200}', '--datastore', 'mysql',
            '--datastore-version', '10.11', '-f', 'json'))
        self.assertIn('max_connections', str(group['values']))
        listed = json.loads(self.openstack('database', 'configuration',
                                           'list', '-f', 'json'))
        self.assertEqual(['tuned'], [item['Name'] for item in listed])
        parameters = json.loads(self.openstack(
            'database', 'configuration', 'parameter', 'list',
            '--datastore', 'mysql', '10.11', '-f', 'json'))
        self.assertIn('max_connections',
                      [item['Name'] for item in parameters])
        trove = self.deployment.client()
        instance = trove.instances.create('cli', '1', volume={'size': 1},
                                          datastore='mysql')
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        deadline = time.monotonic() + WAIT
        while trove.instances.get(instance.id).status != 'ACTIVE':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.3)
        self.openstack('database', 'configuration', 'attach', instance.id,
                       group['id'])
        shown = json.loads(self.openstack('database', 'configuration',
                                          'show', group['id'], '-f',
                                          'json'))
        self.assertEqual(1, shown['instance_count'])
        members = json.loads(self.openstack(
            'database', 'configuration', 'instances', group['id'], '-f',
            'json'))
        self.assertEqual([instance.id], [item['ID'] for item in members])
        self.openstack('database', 'configuration', 'set', group['id'],
                       '{"max_connections": 300}')
        self.openstack('database', 'configuration', 'detach', instance.id)
        self.openstack('database', 'configuration', 'delete', group['id'])
        self.assertEqual([], json.loads(self.openstack(
            'database', 'configuration', 'list', '-f', 'json')))


del _ConfigurationTest
