"""trovestack's RabbitMQ vhost and user for guests: guest and conductor
traffic works on it, the taskmanager's topic cannot be reached from it.
Uses a vhost and user of its own, deleted afterwards."""
import importlib.util
import os
import secrets
import shutil
import subprocess
import time
import types

import fixtures
from oslo_config import cfg
import oslo_messaging
import testtools

from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment

EXCHANGE = 'trove'


def rabbitmqctl_usable() -> bool:
    if not shutil.which('rabbitmqctl'):
        return False
    return subprocess.run(['rabbitmqctl', 'list_vhosts'],
                          capture_output=True, timeout=60).returncode == 0


def load_trovestack(state: str):
    spec = importlib.util.spec_from_file_location(
        'trovestack_vhost_test', os.path.join(base.ROOT, 'tools',
                                              'trovestack.py'))
    module = importlib.util.module_from_spec(spec)
    os.environ['TROVE_CLONE_STATE'] = state
    try:
        spec.loader.exec_module(module)
    finally:
        del os.environ['TROVE_CLONE_STATE']
    return module


class Echo:
    target = oslo_messaging.Target(version='2.0')

    def echo(self, context, value):
        return value


@testtools.skipUnless(rabbitmqctl_usable(), 'rabbitmqctl is not usable')
class GuestVhostTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        state = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        self.trovestack = load_trovestack(state)
        self.name = 'trove_guests_test_%s' % secrets.token_hex(4)
        self.addCleanup(self.drop)
        self.password_file = os.path.join(state, 'rabbit-guests')
        self.url = self.trovestack.ensure_guest_vhost(
            self.name, self.name, self.password_file)
        cfg.CONF([], project='guest-vhost-test', default_config_files=[])
        self.transport = oslo_messaging.get_rpc_transport(cfg.CONF,
                                                          url=self.url)
        self.addCleanup(self.transport.cleanup)

    def drop(self) -> None:
        """Delete the vhost and user (``self.name``)."""
        for args in (('delete_vhost', self.name),
                     ('delete_user', self.name)):
            subprocess.run(['rabbitmqctl', *args], capture_output=True,
                           timeout=60)

    def serve(self, topic: str) -> None:
        server = oslo_messaging.get_rpc_server(
            self.transport, oslo_messaging.Target(
                exchange=EXCHANGE, topic=topic, server='host-1'),
            [Echo()], executor='threading')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

    def client(self, topic: str):
        return oslo_messaging.get_rpc_client(
            self.transport, oslo_messaging.Target(
                exchange=EXCHANGE, topic=topic, version='2.0'), timeout=15,
            retry=1)

    def test_vhost_user_and_permissions(self) -> None:
        vhosts = subprocess.run(['rabbitmqctl', 'list_vhosts', '--quiet'],
                                capture_output=True, text=True,
                                timeout=60).stdout.split()
        self.assertIn(self.name, vhosts)
        self.assertEqual(0o600, os.stat(self.password_file).st_mode & 0o777)
        self.assertTrue(self.url.endswith('@127.0.0.1:5672/%s' % self.name))
        # A rerun keeps the password and the URL.
        self.assertEqual(self.url, self.trovestack.ensure_guest_vhost(
            self.name, self.name, self.password_file))
        for topic in ('guestagent-x.instance-1', 'trove-conductor-x'):
            self.serve(topic)
            self.assertEqual(7, self.client(topic).call({}, 'echo', value=7))
        # The taskmanager's queue cannot be declared or published to.
        self.assertRaises(Exception, self.serve, 'trove-taskmanager')
        self.assertRaises(Exception, self.client('trove-taskmanager').cast,
                          {}, 'echo', value=1)


@testtools.skipUnless(rabbitmqctl_usable(), 'rabbitmqctl is not usable')
class GuestTransportDeploymentTest(testtools.TestCase):
    """A deployment whose guests are on their own vhost: the guest gets
    that URL, its heartbeats reach the conductor there and the API's calls
    reach the guest."""

    def test_instance_on_the_guest_vhost(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        name = 'trove_guests_test_%s' % secrets.token_hex(4)
        self.addCleanup(GuestVhostTest.drop, types.SimpleNamespace(
            name=name))
        url = load_trovestack(state).ensure_guest_vhost(
            name, name, os.path.join(state, 'rabbit-guests'))
        stack = self.useFixture(deployment.Deployment(
            '127.77.212.8/29', extra_conf='guest_transport_url = %s' % url))
        trove = stack.client()
        created = trove.instances.create('on-vhost', '1',
                                         volume={'size': 1},
                                         datastore='redis')
        self.addCleanup(stack.delete_and_wait, created.id)
        deadline = time.monotonic() + 180
        while True:
            instance = trove.instances.get(created.id)
            if instance.status == 'ACTIVE' and \
                    instance.operating_status == 'HEALTHY':
                break
            self.assertNotEqual('ERROR', instance.status,
                                getattr(instance, 'fault', None))
            self.assertLess(time.monotonic(), deadline, instance.status)
            time.sleep(0.5)
        self.assertEqual([], trove.users.list(created.id))
        admin = stack.client(user='admin')
        server_id = admin.mgmt_instances.show(created.id).server['id']
        with open(os.path.join(stack.state, 'local', 'servers', server_id,
                               'root', 'etc', 'trove',
                               'trove-guestagent.conf')) as conf:
            self.assertIn('transport_url = %s\n' % url, conf.read())
