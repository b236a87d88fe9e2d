"""RPC clients and servers agree, over oslo.messaging's fake driver."""
import inspect
import logging
import time
from unittest import mock

import fixtures
import oslo_messaging

from trove_clone.common import config
from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.conductor import manager as conductor_manager
from trove_clone.conductor import rpcapi as conductor_rpcapi
from trove_clone.guestagent import manager as guest_manager
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.taskmanager import manager as taskmanager_manager
from trove_clone.taskmanager import rpcapi as taskmanager_rpcapi
from trove_clone.tests.unit import base

PAIRS = [
    (taskmanager_rpcapi.TaskManagerAPI, taskmanager_manager.Manager,
     taskmanager_rpcapi),
    (conductor_rpcapi.ConductorAPI, conductor_manager.Manager,
     conductor_rpcapi),
    (guest_rpcapi.GuestAPI, guest_manager.Manager, guest_rpcapi),
]


def public_methods(cls) -> set:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith('_')}


class RpcTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        self.conf.config(transport_url='fake:/')
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)

    def test_clients_and_managers_agree(self) -> None:
        for client, manager, module in PAIRS:
            self.assertEqual(public_methods(client) - {'__init__'},
                             public_methods(manager) - {'__init__'},
                             client.__name__)
            self.assertEqual(module.RPC_API_VERSION, manager.target.version)

    def test_caps(self) -> None:
        self.assertIsNone(rpc.resolve_cap('latest', {}))
        self.assertIsNone(rpc.resolve_cap(None, {}))
        self.assertEqual('1.0', rpc.resolve_cap('2026.2', {'2026.2': '1.0'}))
        self.assertEqual('1.3', rpc.resolve_cap('1.3', {}))
        self.conf.config(taskmanager='1.0', group='upgrade_levels')
        api = taskmanager_rpcapi.TaskManagerAPI()
        self.assertTrue(api.client.can_send_version('1.0'))
        self.assertFalse(api.client.can_send_version('1.1'))

    def test_round_trip_over_the_fake_driver(self) -> None:
        server = rpc.get_server('trove-taskmanager', [
            taskmanager_manager.endpoint(taskmanager_manager.Manager())],
            'host-1')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        answer = taskmanager_rpcapi.TaskManagerAPI(timeout=5).ping(
            self.context)
        self.assertEqual('trove-taskmanager', answer['service'])

    def test_guest_topic_and_context_serializer(self) -> None:
        self.assertEqual('guestagent.abc', guest_rpcapi.topic('abc'))
        serializer = rpc.ContextSerializer()
        data = serializer.serialize_context(self.context)
        restored = serializer.deserialize_context(data)
        self.assertEqual(self.context.user_id, restored.user_id)
        self.assertTrue(restored.is_admin)
        self.assertEqual(data, serializer.serialize_context(data))
        self.assertIsInstance(rpc.get_transport(),
                              oslo_messaging.Transport)


class FakeGuest(guest_manager.Manager):
    """A guest manager that records what it was told to do."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(instance_id)
        self.done: list = []

    def stop_db(self, context) -> None:
        self.done.append(('stop_db', context.user_id))

    def create_databases(self, context, databases: list) -> None:
        self.done.append(('create_databases', databases))


class SealedGuestRpcTest(base.TestCase):
    """A guest with a key serves sealed envelopes only (RPC 2.0)."""

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        self.conf.config(transport_url='fake:/')
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.key = crypto.generate_key()
        self.conf.config(instance_rpc_encr_key=self.key)
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.WARNING))
        self.agent = FakeGuest('instance-1')
        endpoint = guest_manager.endpoint(self.agent)
        self.assertIsInstance(endpoint, rpc.SealedEndpoint)
        server = rpc.get_server(guest_rpcapi.topic('instance-1'), [endpoint],
                                'instance-1', key=self.key)
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

    def raw_client(self, version: str = '2.0', key: str | None = None):
        """A client that sends whatever it is given, as anyone on the
        broker could."""
        return rpc.get_client(guest_rpcapi.topic('instance-1'), version,
                              server='instance-1', timeout=5,
                              key=key).prepare(version=version)

    def test_sealed_calls_work(self) -> None:
        api = guest_rpcapi.GuestAPI('instance-1', timeout=5, key=self.key)
        self.assertEqual('instance-1', api.ping(self.context)['instance_id'])
        self.assertEqual(guest_rpcapi.RPC_API_VERSION,
                         api.get_version(self.context))
        api.stop_db(self.context)
        api.create_databases(self.context, [{'name': 'db1'}])
        self.assertEqual([('stop_db', self.context.user_id),
                          ('create_databases', [{'name': 'db1'}])],
                         self.agent.done)
        self.assertEqual('', self.logger.output)

    def test_unsealed_call_refused_and_logged(self) -> None:
        for method in ('stop_db', 'get_filesystem_stats', 'disable_root'):
            error = self.assertRaises(exception.RPCRefused,
                                      self.raw_client().call, {}, method)
            self.assertIn('no envelope', str(error))
            self.assertIn('trove-guestagent refused RPC %s: no envelope'
                          % method, self.logger.output)
        self.assertRaises(exception.RPCRefused, self.raw_client().call, {},
                          'create_databases', databases=[{'name': 'x'}])
        self.assertIn('arguments outside the envelope', self.logger.output)
        self.assertEqual([], self.agent.done)
        self.assertNotIn(self.key, self.logger.output)

    def test_unsealed_cast_not_run(self) -> None:
        self.raw_client().cast({}, 'stop_db')
        deadline = time.monotonic() + 10
        while 'refused RPC stop_db' not in self.logger.output:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        self.assertEqual([], self.agent.done)

    def test_other_instance_and_replay_refused(self) -> None:
        other = guest_rpcapi.GuestAPI('instance-1', timeout=5,
                                      key=crypto.generate_key())
        self.assertRaises(exception.Forbidden, other.stop_db, self.context)
        self.assertIn('does not verify', self.logger.output)
        sealed = envelope.seal(self.key, 'stop_db', 'instance-2', {}, {})
        self.assertRaises(exception.RPCRefused, self.raw_client(
            key=self.key).call, {}, 'stop_db', envelope=sealed)
        self.assertIn("sealed for target 'instance-2'", self.logger.output)
        sealed = envelope.seal(self.key, 'stop_db', 'instance-1', {},
                               self.context.to_dict())
        client = self.raw_client(key=self.key)
        client.call({}, 'stop_db', envelope=sealed)
        self.assertRaises(exception.RPCRefused, client.call, {}, 'stop_db',
                          envelope=sealed)
        self.assertIn('replayed', self.logger.output)
        self.assertEqual(1, len(self.agent.done))

    def test_1x_messages_not_served(self) -> None:
        self.assertRaises(oslo_messaging.UnsupportedVersion,
                          self.raw_client('1.1').call, {}, 'stop_db')
        self.assertEqual([], self.agent.done)

    def test_cap_below_2_speaks_1x(self) -> None:
        self.conf.config(guestagent='1.5', group='upgrade_levels')
        api = guest_rpcapi.GuestAPI('instance-1', timeout=5, key=self.key)
        client, kwargs = api._prepared(self.context, 'stop_db', '1.1', 5,
                                       {})
        self.assertEqual(({}, '1.1'), (kwargs, client.target.version))
        self.conf.config(guestagent='latest', group='upgrade_levels')
        api = guest_rpcapi.GuestAPI('instance-1', timeout=5, key=self.key)
        client, kwargs = api._prepared(self.context, 'stop_db', '1.1', 5,
                                       {})
        self.assertEqual('2.0', client.target.version)
        self.assertEqual({'envelope'}, set(kwargs))

    def test_private_methods_not_served(self) -> None:
        endpoint = guest_manager.endpoint(self.agent)
        self.assertRaises(AttributeError, getattr, endpoint, '_report')
        self.assertRaises(AttributeError, getattr, endpoint, 'status')
        self.assertFalse(hasattr(endpoint, 'no_such_method'))


class SealedTaskmanagerRpcTest(base.TestCase):
    """API -> taskmanager casts are sealed with the deployment's key."""

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        self.conf.config(transport_url='fake:/')
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.logger = self.useFixture(fixtures.FakeLogger(
            level=logging.WARNING))
        self.manager = taskmanager_manager.Manager()
        server = rpc.get_server('trove-taskmanager', [
            taskmanager_manager.endpoint(self.manager)], 'host-1')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)

    def test_sealed_cast_runs_and_unsealed_is_refused(self) -> None:
        # The manager saves the cast as a flow: jobs.submit(factory,
        # instance id, store).
        with mock.patch.object(taskmanager_manager.jobs,
                               'submit') as delete:
            taskmanager_rpcapi.TaskManagerAPI(timeout=5).delete_instance(
                self.context, 'instance-1')
            deadline = time.monotonic() + 10
            while not delete.called:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
            self.assertEqual('instance-1', delete.call_args[0][1])
            self.assertEqual(self.context.user_id,
                             delete.call_args[0][2]['context']['user'])
            raw = rpc.get_client('trove-taskmanager', '2.0', timeout=5)
            raw.cast({'is_admin': True}, 'delete_instance',
                     instance_id='instance-2')
            forged = envelope.seal(crypto.generate_key(), 'delete_instance',
                                   'trove-taskmanager',
                                   {'instance_id': 'instance-3'}, {})
            self.assertRaises(exception.RPCRefused, raw.call, {},
                              'delete_instance', envelope=forged)
            while 'refused RPC delete_instance: arguments outside' not in \
                    self.logger.output:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.05)
            self.assertIn('does not verify', self.logger.output)
            self.assertEqual(1, delete.call_count)
