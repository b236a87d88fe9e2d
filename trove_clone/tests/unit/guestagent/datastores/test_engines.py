"""Engines found through the entry point namespace: the shipped ones, and
a fake engine package registered there by the test, which implements only
the lifecycle and gets Trove's not-supported error (501) for every other
capability, from the agent, over RPC, from the services and from the sql
module type."""
import importlib.metadata
import json
import os
import time

import fixtures
from stevedore import _cache as stevedore_cache
from stevedore import extension

from trove_clone.common import config
from trove_clone.common import context as trove_context
from trove_clone.common import engines
from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.datastores import templating
from trove_clone.guestagent import manager as guest_manager
from trove_clone.guestagent.modules.drivers import sql
from trove_clone.guestagent import rpcapi
from trove_clone.services import accounts
from trove_clone.tests.unit import base
from trove_clone.tests.unit.guestagent.datastores.fake_engine import \
    lifecycle as fake_lifecycle
from trove_clone.tests.unit.guestagent import test_manager

FAKE_PACKAGE = 'trove_clone.tests.unit.guestagent.datastores.fake_engine'


class FakeEnginePackage(fixtures.Fixture):
    """Registers ``fake_engine`` in the engines' entry point namespace
    (an ``importlib.metadata`` entry point, as an installed package's
    ``setup.cfg`` would declare it), beside the installed ones."""

    def _setUp(self) -> None:
        entry = importlib.metadata.EntryPoint(
            name='fake_engine', value=FAKE_PACKAGE + '.descriptor:ENGINE',
            group=engines.NAMESPACE)
        installed = stevedore_cache.get_group_all

        def group_all(group, path=None):
            found = list(installed(group, path=path))
            return found + [entry] if group == engines.NAMESPACE else found
        self.useFixture(fixtures.MonkeyPatch(
            'stevedore._cache.get_group_all', group_all))
        self._forget()
        self.addCleanup(self._forget)

    @staticmethod
    def _forget() -> None:
        extension.ExtensionManager.ENTRY_POINT_CACHE.pop(engines.NAMESPACE,
                                                         None)
        engines.reset()


class ShippedEnginesTest(base.TestCase):

    def test_one_entry_point_per_engine_package(self) -> None:
        found = engines.descriptors()
        self.assertEqual(['mariadb', 'postgresql', 'redis'], sorted(found))
        self.assertEqual({'mysql': 'mariadb', 'mariadb': 'mariadb',
                          'postgresql': 'postgresql', 'redis': 'redis'},
                         {manager: descriptor.name for manager, descriptor
                          in engines.managers().items()})
        for name, descriptor in found.items():
            # Every engine has every capability but cluster (Redis's and
            # Galera's) and point-in-time recovery (Redis has no logs to
            # replay).
            expected = set(engines.CAPABILITIES) - {'cluster'} - (
                {'pitr'} if name == 'redis' else set())
            self.assertEqual(set(), expected - set(descriptor.capabilities),
                             name)
            if name == 'redis':
                self.assertNotIn('pitr', descriptor.capabilities)
            for capability in descriptor.capabilities:
                implementation = loader.implementation(descriptor,
                                                       capability)
                self.assertTrue(implementation.__module__.startswith(
                    'trove_clone.guestagent.datastores.%s.' % name))
        self.assertEqual((3306, 5432, 6379), tuple(
            found[name].port for name in ('mariadb', 'postgresql', 'redis')))
        for manager, descriptor in engines.managers().items():
            self.assertEqual(descriptor.port, loader.capability_class(
                manager, 'lifecycle').port)

    def test_descriptor_of_an_engine(self) -> None:
        lifecycle = loader.capability_class('mysql', 'lifecycle')(
            '/root', '127.0.0.1', '/v/data', {}, 512)
        self.assertIs(engines.descriptors()['mariadb'],
                      loader.descriptor_of(lifecycle))
        self.assertIsNone(loader.descriptor_of(object()))

    def test_unknown_manager(self) -> None:
        error = self.assertRaises(exception.DatastoreOperationNotSupported,
                                  loader.lifecycle, 'cassandra')
        self.assertEqual(501, error.code)
        self.assertEqual('The prepare operation is not supported for the '
                         'cassandra datastore.', error.message)

    def test_descriptors_are_checked(self) -> None:
        lifecycle = {'lifecycle': 'a.b:C'}
        self.assertRaises(ValueError, engines.Descriptor, 'x', ('x',), 1,
                          ('1',), {}, 'x')
        self.assertRaises(ValueError, engines.Descriptor, 'x', ('x',), 1,
                          ('1',), dict(lifecycle, sharding='a.b:D'), 'x')
        self.assertRaises(ValueError, engines.Descriptor, 'x', ('x',), 1,
                          ('1',), dict(lifecycle, accounts='a.b:D'), 'x')
        self.assertRaises(ValueError, engines.Descriptor, 'x', (), 1,
                          ('1',), lifecycle, 'x')

    def test_a_broken_entry_point_is_left_out(self) -> None:
        entries = [
            importlib.metadata.EntryPoint(
                name='broken', value='trove_clone.no_such_module:ENGINE',
                group=engines.NAMESPACE),
            importlib.metadata.EntryPoint(
                name='misnamed', value=FAKE_PACKAGE + '.descriptor:ENGINE',
                group=engines.NAMESPACE)]
        installed = stevedore_cache.get_group_all
        self.useFixture(fixtures.MonkeyPatch(
            'stevedore._cache.get_group_all',
            lambda group, path=None: list(installed(group, path=path)) +
            entries))
        FakeEnginePackage._forget()
        self.addCleanup(FakeEnginePackage._forget)
        log = self.useFixture(fixtures.FakeLogger())
        self.assertEqual(['mariadb', 'postgresql', 'redis'],
                         sorted(engines.descriptors()))
        self.assertIn('broken', log.output)
        self.assertIn('misnamed', log.output)


class FakeEngineTest(base.TestCase):
    """The fake engine package, through the real loading path."""

    def setUp(self) -> None:
        super().setUp()
        self.useFixture(FakeEnginePackage())
        root = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(root, 'manifest.json'), 'w') as manifest:
            json.dump({'engine': 'fake', 'engine_version': '1.0',
                       'programs': {}}, manifest)
        self.volume = os.path.join(root, 'volume')
        os.makedirs(self.volume)
        self.conf.config(guest_root=root, guest_volume=self.volume)
        self.context = trove_context.admin_context()
        self.agent = guest_manager.Manager('instance-1')
        self.agent._conductor = test_manager.RecordingConductor()

    def prepare(self, **kwargs) -> None:
        self.agent.prepare(self.context, 'fakedb', **kwargs)
        deadline = time.monotonic() + 10
        while self.agent.status == 'building':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.01)

    def assertNotSupported(self, operation: str, call, *args) -> None:
        error = self.assertRaises(exception.DatastoreOperationNotSupported,
                                  call, *args)
        self.assertEqual(501, error.code)
        self.assertEqual('The %s operation is not supported for the fakedb '
                         'datastore.' % operation, error.message)

    def test_found_beside_the_shipped_engines(self) -> None:
        self.assertEqual(['fake_engine', 'mariadb', 'postgresql', 'redis'],
                         sorted(engines.descriptors()))
        self.assertIs(fake_lifecycle.FakeLifecycle,
                      loader.capability_class('fakedb', 'lifecycle'))
        self.assertEqual('fake_engine/config.template',
                         templating.template_name('fakedb'))

    def test_lifecycle_works_the_rest_is_not_supported(self) -> None:
        self.prepare()
        self.assertEqual('healthy', self.agent.status)
        self.assertIsInstance(self.agent.engine, fake_lifecycle.FakeLifecycle)
        self.agent.restart(self.context)
        self.agent.stop_db(self.context)
        self.assertEqual({'status': 'shutdown', 'error': None},
                         self.agent.get_status(self.context))
        self.agent.start_db(self.context)
        for operation, call, args in (
                ('users and databases', self.agent.list_users, ()),
                ('users and databases', self.agent.list_databases, ()),
                ('users and databases', self.agent.enable_root, ()),
                ('users and databases', self.agent.is_root_enabled, ()),
                ('configuration groups', self.agent.update_overrides,
                 ({'a': 1}, ['a'])),
                ('configuration groups', self.agent.get_configuration, ()),
                ('upgrade', self.agent.pre_upgrade, ({'version': '2.0'},))):
            self.assertNotSupported(operation, call, self.context, *args)
        # Nothing was touched: the engine still runs, no upgrade pending.
        self.assertEqual('healthy', self.agent.status)
        self.assertFalse(os.path.exists(
            os.path.join(self.volume, 'trove-overrides.json')))
        with open(os.path.join(self.volume, 'trove-guest.json')) as state:
            self.assertFalse(json.load(state)['upgrade_pending'])

    def test_prepare_with_users_fails_clearly(self) -> None:
        self.prepare(users=[{'name': 'app', 'password': 'pw'}])
        self.assertEqual('failed to spawn', self.agent.status)
        self.assertEqual('The users and databases operation is not '
                         'supported for the fakedb datastore.',
                         self.agent.error)

    def test_services_refuse_accounts(self) -> None:
        self.assertNotSupported('users and databases',
                                accounts.check_user_name, 'fakedb', 'app',
                                None)
        self.assertNotSupported('users and databases',
                                accounts.check_databases, 'fakedb',
                                [{'name': 'db'}])

    def test_sql_module_is_an_error_result(self) -> None:
        self.prepare()
        status, message = sql.SqlDriver().apply({}, b'SELECT 1;',
                                                self.agent.engine)
        self.assertEqual('ERROR', status)
        self.assertEqual('The sql module type cannot run statements on this '
                         'datastore (FakeLifecycle).', message)

    def test_not_supported_crosses_rpc(self) -> None:
        config.register_transport()
        self.conf.config(transport_url='fake:/')
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.prepare()
        server = rpc.get_server(rpcapi.topic('instance-1'), [self.agent],
                                'instance-1')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        api = rpcapi.GuestAPI('instance-1', timeout=5)
        error = self.assertRaises(exception.DatastoreOperationNotSupported,
                                  api.list_users, self.context)
        self.assertEqual(501, error.code)
        self.assertIn('users and databases', error.message)
