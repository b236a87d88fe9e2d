"""Anyone on the broker can publish to a guest's and the taskmanager's
topics; without a valid envelope nothing they send is done."""
import glob
import os
import time

from oslo_config import cfg
import oslo_messaging
import redis

from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.tests.functional import instances as deployment

WAIT = 180
USER, PASSWORD = 'app', 'Sealed-pw-1'
#: The control_exchange of trove_clone (common/config.py).
EXCHANGE = 'trove'


class UnsealedRpcTest(deployment.DeploymentTestCase):

    datastore = 'redis'
    address_pool = '127.77.212.0/28'

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()
        # A plain oslo.messaging client, not ours: what anyone holding the
        # broker URL has.
        cfg.CONF([], project='unsealed-rpc-test', default_config_files=[])
        self.transport = oslo_messaging.get_rpc_transport(
            cfg.CONF, url=self.deployment.transport_url)
        self.addCleanup(self.transport.cleanup)

    def wait_healthy(self, instance_id: str):
        deadline = time.monotonic() + WAIT
        while True:
            instance = self.trove.instances.get(instance_id)
            if instance.status == 'ACTIVE' and \
                    instance.operating_status == 'HEALTHY':
                return instance
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.3)

    def server_dir(self, instance_id: str) -> str:
        admin = self.deployment.client(user='admin')
        server_id = admin.mgmt_instances.show(instance_id).server['id']
        return os.path.join(self.deployment.state, 'local', 'servers',
                            server_id)

    def wait_in_log(self, pattern: str, text: str,
                    timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            log = ''
            for path in glob.glob(pattern, recursive=True):
                with open(path, errors='replace') as log_file:
                    log += log_file.read()
            if text in log:
                return log
            self.assertLess(time.monotonic(), deadline,
                            '%r not logged in %s' % (text, pattern))
            time.sleep(0.3)

    def client(self, topic: str, server: str | None = None):
        target = oslo_messaging.Target(exchange=EXCHANGE, topic=topic,
                                       server=server, version='2.0')
        return oslo_messaging.get_rpc_client(self.transport, target,
                                             timeout=10)

    def tenant_redis(self, address: str) -> bool:
        connection = redis.Redis(host=address, port=6379, username=USER,
                                 password=PASSWORD, socket_timeout=5,
                                 retry_on_timeout=False)
        try:
            return connection.ping()
        finally:
            connection.close()

    def test_unsealed_guest_casts_and_calls_are_refused(self) -> None:
        created = self.trove.instances.create(
            'unsealed', '1', volume={'size': 1}, datastore='redis',
            users=[{'name': USER, 'password': PASSWORD}])
        self.addCleanup(self.deployment.delete_and_wait, created.id)
        address = self.wait_healthy(created.id).ip[0]
        self.assertTrue(self.tenant_redis(address))
        topic = '%s.%s' % (self.deployment.topics['guest_topic_prefix'],
                           created.id)
        guest = self.client(topic, created.id)
        # stop_db last: a restart after it would start the engine again.
        for version in ('2.0', '1.1'):
            for method in ('restart', 'stop_db'):
                guest.prepare(version=version).cast({}, method)
        forged = envelope.seal(crypto.generate_key(), 'stop_db', created.id,
                               ttl=60)
        guest.cast({}, 'stop_db', envelope=forged)
        # Two heartbeats later the engine still runs and answers.
        time.sleep(5)
        self.assertTrue(self.tenant_redis(address))
        self.assertEqual('HEALTHY',
                         self.wait_healthy(created.id).operating_status)
        error = self.assertRaises(oslo_messaging.RemoteError, guest.call,
                                  {}, 'get_filesystem_stats')
        self.assertEqual('RPCRefused', error.exc_type)
        server_dir = self.server_dir(created.id)
        log = self.wait_in_log(os.path.join(server_dir, '**', '*.log'),
                               'refused RPC restart: no envelope')
        self.wait_in_log(os.path.join(server_dir, '**', '*.log'),
                         "refused RPC stop_db: the seal does not verify")
        self.assertIn('trove-guestagent refused RPC stop_db: no envelope',
                      log)
        keys = []
        for path in glob.glob(os.path.join(server_dir, '**', '*.conf'),
                              recursive=True):
            with open(path) as conf_file:
                keys += [line.split('=', 1)[1].strip() for line in conf_file
                         if line.startswith('instance_rpc_encr_key')]
        self.assertTrue(keys)
        self.assertNotIn(keys[0], log)
        # Sealed calls from the API still work.
        self.assertIn(USER, [user.name for user in
                             self.trove.users.list(created.id)])

    def test_unsealed_taskmanager_cast_is_refused(self) -> None:
        created = self.trove.instances.create(
            'unsealed-tm', '1', volume={'size': 1}, datastore='redis')
        self.addCleanup(self.deployment.delete_and_wait, created.id)
        self.wait_healthy(created.id)
        taskmanager = self.client(
            self.deployment.topics['taskmanager_queue'])
        for version in ('2.0', '1.1'):
            taskmanager.prepare(version=version).cast(
                {'is_admin': True}, 'delete_instance', instance_id=created.id)
        forged = envelope.seal(
            crypto.generate_key(), 'delete_instance',
            self.deployment.topics['taskmanager_queue'],
            {'instance_id': created.id}, ttl=60)
        taskmanager.cast({'is_admin': True}, 'delete_instance',
                         envelope=forged)
        time.sleep(3)
        self.assertEqual('ACTIVE',
                         self.trove.instances.get(created.id).status)
        log = self.wait_in_log(
            os.path.join(self.deployment.api.state, 'trove-taskmanager.log'),
            'refused RPC delete_instance: the seal does not verify')
        self.assertIn('refused RPC delete_instance: arguments outside the '
                      'envelope', log)
