"""Faults: a guest agent killed with SIGKILL, a taskmanager killed in the
middle of a create, an engine that cannot start. Each ends in a state a
user sees and can recover from, never in BUILD for ever."""
import json
import os
import signal
import time

from oslo_config import fixture as config_fixture
import redis
import testtools
from troveclient import exceptions as trove_exc

from trove_clone.common import config
from trove_clone.common import context as trove_context
from trove_clone.common import rpc
from trove_clone.conductor import rpcapi as conductor_rpcapi
from trove_clone.conf import CONF
from trove_clone.taskmanager import rpcapi as taskmanager_rpcapi
from trove_clone.tests.functional import fixtures as trove_fixtures
from trove_clone.tests.functional import instances as deployment

WAIT = 120


class InstanceFaultTest(deployment.DeploymentTestCase):

    address_pool = '127.77.244.0/28'
    datastores = ('redis',)

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()

    def wait_for(self, instance_id: str, wanted, timeout: float = WAIT):
        """The instance once ``wanted(instance)`` holds."""
        deadline = time.monotonic() + timeout
        while True:
            instance = self.trove.instances.get(instance_id)
            if wanted(instance):
                return instance
            if time.monotonic() > deadline:
                self.fail('Instance %s is %s/%s after %d s: %s' % (
                    instance_id, instance.status,
                    instance.operating_status, timeout,
                    getattr(instance, 'fault', None)))
            time.sleep(0.2)

    def create(self, name: str, **kwargs):
        instance = self.trove.instances.create(
            name, '1', volume={'size': 1}, datastore='redis', **kwargs)
        self.addCleanup(self.delete, instance.id)
        return instance

    def delete(self, instance_id: str) -> None:
        try:
            self.trove.instances.delete(instance_id)
        except trove_exc.ClientException:
            return
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                self.trove.instances.get(instance_id)
            except trove_exc.NotFound:
                return
            time.sleep(0.2)

    def server_record(self, instance_id: str) -> dict:
        admin = self.deployment.client(user='admin')
        server_id = admin.mgmt_instances.show(instance_id).server['id']
        path = os.path.join(self.deployment.state, 'local', 'servers',
                            server_id, 'server.json')
        with open(path) as record:
            return json.load(record)

    def test_killed_guest_agent(self) -> None:
        created = self.create('agent-kill',
                              users=[{'name': 'app', 'password': 'pw-1'}])
        instance = self.wait_for(created.id,
                                 lambda i: i.status == 'ACTIVE')
        client = redis.Redis(host=instance.ip[0], username='app',
                             password='pw-1', socket_timeout=5)
        client.set('kept', 'yes')
        pid = self.server_record(created.id)['pid']
        os.kill(pid, signal.SIGKILL)
        self.wait_for(created.id, lambda i: i.status == 'SHUTDOWN',
                      timeout=30)
        # The taskmanager restarts a dead agent once its heartbeat expired.
        self.wait_for(created.id, lambda i: i.operating_status == 'HEALTHY',
                      timeout=60)
        self.assertNotEqual(pid, self.server_record(created.id)['pid'])
        self.assertEqual(b'yes', client.get('kept'))

    def test_taskmanager_killed_mid_create(self) -> None:
        taskmanager = self.deployment.daemons['trove-taskmanager']
        created = self.create('tm-kill')
        time.sleep(0.3)
        taskmanager.kill()
        taskmanager.start()
        instance = self.wait_for(created.id,
                                 lambda i: i.status != 'BUILD', timeout=90)
        if instance.status == 'ERROR':
            self.assertIn('taskmanager', instance.fault['message'])
        else:
            self.assertEqual('ACTIVE', instance.status)
        # Whatever happened, the instance can be deleted cleanly, and no
        # server made for it is left (not even one it never recorded).
        self.delete(created.id)
        self.assertRaises(trove_exc.NotFound, self.trove.instances.get,
                          created.id)
        self.assertEqual([], self.servers_of(created.id))

    def servers_of(self, instance_id: str) -> list:
        servers = os.path.join(self.deployment.state, 'local', 'servers')
        found = []
        for name in os.listdir(servers):
            try:
                with open(os.path.join(servers, name,
                                       'server.json')) as record:
                    metadata = json.load(record).get('metadata') or {}
            except (FileNotFoundError, NotADirectoryError):
                continue
            if metadata.get('trove_instance_id') == instance_id:
                found.append(name)
        return found

    def test_engine_that_cannot_start(self) -> None:
        image_id = self.deployment.broken_image('redis', '7.0')
        self.deployment.api.manage('datastore_version_update', 'redis',
                                   'broken', 'redis', image_id, '', '1')
        created = self.trove.instances.create(
            'broken', '1', volume={'size': 1}, datastore='redis',
            datastore_version='broken')
        self.addCleanup(self.delete, created.id)
        instance = self.wait_for(created.id,
                                 lambda i: i.status != 'BUILD')
        self.assertEqual('ERROR', instance.status)
        self.assertIn('prepare', instance.fault['message'])
        self.assertIn('FATAL broken engine', instance.fault['details'])
        admin = self.deployment.client(user='admin')
        self.assertIsNone(admin.mgmt_instances.show(created.id).server_id)


class BrokerRestartTest(testtools.TestCase):
    """RabbitMQ restarts under a running deployment: every daemon and
    guest reconnects, and the next create succeeds."""

    def test_every_daemon_reconnects(self) -> None:
        rabbit = self.useFixture(trove_fixtures.PrivateRabbitMQ())
        stack = self.useFixture(deployment.Deployment(
            '127.77.245.0/28', datastores=('redis',),
            transport_url=rabbit.url))
        trove = stack.client()
        first = trove.instances.create('before', '1', volume={'size': 1})
        self.addCleanup(trove.instances.delete, first.id)
        self.wait_for(trove, first.id, 'ACTIVE')
        rabbit.stop()
        rabbit.start()
        restarted = time.time()
        self.wait_for_daemons(rabbit.url, stack.topics, stack.api.state)
        second = trove.instances.create('after', '1', volume={'size': 1})
        self.addCleanup(trove.instances.delete, second.id)
        self.wait_for(trove, second.id, 'ACTIVE')
        # The first instance's guest reports through the new broker too,
        # once its listener is back (a call before would be dropped).
        deployment.wait_for_guest(stack.api.database_url, first.id,
                                  restarted)
        trove.instances.restart(first.id)
        self.wait_for(trove, first.id, 'ACTIVE')

    def wait_for_daemons(self, url: str, topics: dict, state: str) -> None:
        """Every daemon answers through the restarted broker."""
        config.register_transport()
        CONF([], project='trove', default_config_files=[])
        conf = self.useFixture(config_fixture.Config(CONF))
        # The deployment's secret seals messages to the taskmanager.
        conf.config(transport_url=url, inst_rpc_key_file=os.path.join(
            state, 'instance-rpc.key'), **topics)
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        context = trove_context.admin_context()
        for api in (taskmanager_rpcapi.TaskManagerAPI(timeout=3),
                    conductor_rpcapi.ConductorAPI(timeout=3)):
            deadline = time.monotonic() + 90
            while True:
                try:
                    api.ping(context)
                    break
                except Exception:  # noqa: B902 - retried until deadline
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)

    def wait_for(self, trove, instance_id: str, status: str) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            instance = trove.instances.get(instance_id)
            if instance.status == status and \
                    instance.operating_status == 'HEALTHY':
                return
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            time.sleep(0.3)
        self.fail('%s is not %s after %d s' % (instance_id, status, WAIT))
