"""RPC clients and servers agree, over oslo.messaging's fake driver."""
import inspect

import oslo_messaging

from trove_clone.common import config
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
        server = rpc.get_server('trove-taskmanager',
                                [taskmanager_manager.Manager()], 'host-1')
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
