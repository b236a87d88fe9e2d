"""Instance upgrades (seed 002) through the real python-troveclient: to
the image an instance already runs, PostgreSQL 15 to 16 and Redis 6.2 to
7.0 with the data and the users carried over, and the refusals and
failures that leave an instance as it was or in ERROR with its data."""
import time

import psycopg
import redis

from trove_clone.tests.functional import instances as deployment

WAIT = 240


class UpgradeTest(deployment.DeploymentTestCase):

    address_pool = '127.77.250.32/28'

    @classmethod
    def prepare_deployment(cls) -> None:
        for datastore, version, default in (
                ('postgresql', '15', True), ('postgresql', '16', False),
                ('postgresql', '17', False), ('redis', '6.2', True),
                ('redis', '7.0', False)):
            cls.deployment.register(datastore, version, default=default)

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()

    def wait_for(self, instance_id: str, *wanted: str):
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(instance_id)
            if instance.status in wanted:
                return instance
            if instance.status == 'ERROR' and 'ERROR' not in wanted:
                self.fail('ERROR: %s' % getattr(instance, 'fault', None))
            if time.monotonic() > deadline:
                self.fail('%s is %s, not %s'
                          % (instance_id, instance.status, wanted))
            time.sleep(0.3)

    def create(self, datastore: str, version: str, **kwargs):
        instance = self.trove.instances.create(
            'up-%s' % datastore, '1', volume={'size': 1},
            datastore=datastore, datastore_version=version, **kwargs)
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        return self.wait_for(instance.id, 'ACTIVE')

    def upgrade(self, instance_id: str, version: str):
        self.trove.instances.upgrade(instance_id, version)
        deadline = time.monotonic() + 10
        while self.trove.instances.get(instance_id).status == 'ACTIVE' \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.wait_for(instance_id, 'ACTIVE', 'ERROR')

    def postgresql_with_data(self, version: str):
        instance = self.create(
            'postgresql', version, databases=[{'name': 'app'}],
            users=[{'name': 'owner', 'password': 'owner-pw',
                    'databases': [{'name': 'app'}]}])
        with self.connect(instance) as connection:
            connection.execute('CREATE TABLE t (n int, s text)')
            connection.execute("INSERT INTO t SELECT g, 'row ' || g FROM "
                               "generate_series(1, 500) g")
        return instance

    def connect(self, instance):
        return psycopg.connect(host=instance.ip[0], user='owner',
                               password='owner-pw', dbname='app',
                               autocommit=True)

    def assertData(self, instance, major: str) -> None:
        with self.connect(instance) as connection:
            self.assertIn('PostgreSQL %s' % major, connection.execute(
                'SELECT version()').fetchone()[0])
            self.assertEqual((500,), connection.execute(
                'SELECT count(*) FROM t').fetchone())
            self.assertEqual(('row 500',), connection.execute(
                'SELECT s FROM t WHERE n = 500').fetchone())

    def test_postgresql_16_to_17_by_pg_upgrade(self) -> None:
        instance = self.postgresql_with_data('16')
        upgraded = self.upgrade(instance.id, '17')
        self.assertEqual('ACTIVE', upgraded.status,
                         getattr(upgraded, 'fault', None))
        self.assertEqual('17', upgraded.datastore['version'])
        self.assertData(upgraded, '17')

    def test_postgresql_15_to_16_or_a_clean_refusal(self) -> None:
        """Debian's PostgreSQL 15 on this machine marks every column with
        an option stock 16 refuses; the guest then refuses the upgrade
        before stopping anything. Elsewhere the upgrade goes through."""
        instance = self.postgresql_with_data('15')
        self.trove.instances.upgrade(instance.id, '16')
        deadline = time.monotonic() + WAIT
        while True:
            shown = self.trove.instances.get(instance.id)
            if shown.status == 'ACTIVE' and (
                    shown.datastore['version'] == '16' or
                    getattr(shown, 'fault', None)):
                break
            self.assertLess(time.monotonic(), deadline, shown.status)
            time.sleep(0.3)
        if shown.datastore['version'] == '16':
            self.assertData(shown, '16')
        else:
            self.assertIn('refused', shown.fault['message'])
            self.assertEqual('HEALTHY', shown.operating_status)
            self.assertData(shown, '15')

    def test_redis_6_2_to_7_0_and_to_the_same_image(self) -> None:
        instance = self.create('redis', '6.2',
                               users=[{'name': 'app', 'password': 'app-pw'}])
        address = instance.ip[0]
        client = redis.Redis(host=address, username='app',
                             password='app-pw', socket_timeout=5)
        client.mset({'k%d' % n: 'v%d' % n for n in range(200)})
        same = self.upgrade(instance.id, '6.2')
        self.assertEqual('ACTIVE', same.status,
                         getattr(same, 'fault', None))
        self.assertEqual(b'v7', client.get('k7'))
        upgraded = self.upgrade(instance.id, '7.0')
        self.assertEqual('ACTIVE', upgraded.status,
                         getattr(upgraded, 'fault', None))
        self.assertEqual('7.0', upgraded.datastore['version'])
        client = redis.Redis(host=address, username='app',
                             password='app-pw', socket_timeout=5)
        self.assertTrue(client.info('server')['redis_version'].startswith(
            '7.0'))
        self.assertEqual(200, client.dbsize())
        self.assertEqual(b'v199', client.get('k199'))

    def test_downgrade_is_refused_and_changes_nothing(self) -> None:
        instance = self.create('redis', '7.0')
        self.assertRaises(Exception, self.trove.instances.upgrade,
                          instance.id, '6.2')
        shown = self.trove.instances.get(instance.id)
        self.assertEqual(('ACTIVE', '7.0'),
                         (shown.status, shown.datastore['version']))

    def test_failed_post_upgrade_leaves_error_and_the_volume(self) -> None:
        image_id = self.deployment.broken_image('redis', '7.0')
        self.deployment.api.manage('datastore_version_update', 'redis',
                                   '7.9', 'redis', image_id, '', '1')
        instance = self.create('redis', '6.2')
        failed = self.upgrade(instance.id, '7.9')
        self.assertEqual('ERROR', failed.status)
        self.assertIn('post_upgrade', failed.fault['message'])
        self.assertIn('was kept', failed.fault['details'])
        self.assertEqual('6.2', failed.datastore['version'])
