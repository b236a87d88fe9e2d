"""trovestack's RabbitMQ vhost and user for guests: guest and conductor
traffic works on it, the taskmanager's topic cannot be reached from it.
Uses a vhost and user of its own, deleted afterwards."""
import importlib.util
import os
import secrets
import shutil
import subprocess

import fixtures
from oslo_config import cfg
import oslo_messaging
import testtools

from trove_clone.tests.functional import base

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
