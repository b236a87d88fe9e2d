"""Modules on the guest: contents decoding, the ping driver (the sql
driver is in drivers/test_sql.py), apply order, results kept on the
volume, removal, the manager's prepare applying modules before it says
healthy, and the RPC calls end to end over oslo.messaging's fake
driver."""
import base64
import collections
import itertools
import json
import os
import stat
import time
import uuid

import fixtures

from trove_clone.common import config
from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.datastores import loader as engine_loader
from trove_clone.guestagent import manager as guest_manager
from trove_clone.guestagent.modules import base
from trove_clone.guestagent.modules.drivers import ping
from trove_clone.guestagent.modules.drivers import sql
from trove_clone.guestagent.modules import loader
from trove_clone.guestagent.modules import manager as module_manager
from trove_clone.guestagent import rpcapi
from trove_clone.tests.unit import base as test_base
from trove_clone.tests.unit.guestagent import test_manager

#: The directive of an administrator's module that needs the superuser.
SUPERUSER = '-- trove: run_as_superuser\n'
#: The payload of an administrator's module.
ADMIN = {'is_admin': True}
SQL_CONTENTS = (SUPERUSER + '-- apply\nCREATE DATABASE audit;\n'
                'CREATE TABLE audit.t\n  (v int);\n'
                '-- remove\nDROP DATABASE audit;\n')


def payload(name: str = 'ping-module', module_type: str = 'ping',
            contents: str = 'message=Module.V1\n', **fields) -> dict:
    """A module payload as the control plane sends it."""
    module = {'id': str(uuid.uuid4()), 'name': name, 'type': module_type,
              'contents': contents, 'md5': 'md5-of-' + name,
              'datastore': 'all', 'datastore_version': 'all',
              'tenant': 'all', 'auto_apply': False, 'visible': True,
              'is_admin': False, 'live_update': False,
              'priority_apply': False, 'apply_order': 5,
              'created': '2026-01-01 00:00:00.00',
              'updated': '2026-01-01 00:00:00.00'}
    module.update(fields)
    return module


class FakeEngine(lifecycle_base.Lifecycle):
    """A lifecycle whose engine is always up."""

    def __init__(self) -> None:
        super().__init__('/nonexistent', '127.0.0.1', '/nonexistent', {},
                         512)

    def prepare(self) -> None:
        pass

    def start(self) -> None:
        pass

    def is_healthy(self) -> bool:
        return True


class RecordingDriver(base.ModuleDriver):
    """Records what it is asked to do; fails as its contents say."""

    description = 'Records calls.'

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []
        self.agent_status: list[str] = []
        self.agent = None

    def _record(self, action: str, module: dict, data: bytes):
        self.calls.append((action, module['name'], data))
        if self.agent is not None:
            self.agent_status.append(self.agent.status)
        if data == b'raise':
            raise RuntimeError('driver exploded')
        if data == b'refuse':
            raise exception.BadRequest('the engine says no')
        if data == b'fail ' + action.encode():
            return base.ERROR, '%s refused' % action
        return 'OK', '%s done' % action

    def apply(self, payload, data, engine):
        return self._record('apply', payload, data)

    def remove(self, payload, data, engine):
        return self._record('remove', payload, data)


class ModulesTestCase(test_base.TestCase):
    """A volume in a temporary directory, the shipped drivers plus a
    ``record`` one, and a clock that ticks once per timestamp."""

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.conf.config(guest_volume=self.volume)
        self.recorder = RecordingDriver()
        drivers = dict(loader._drivers(), record=self.recorder)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.modules.loader._drivers',
            lambda: drivers))
        ticks = itertools.count()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.modules.manager.timestamp',
            lambda: '2026-05-01 10:00:%02d.00' % next(ticks)))
        self.modules = module_manager.ModuleManager()
        self.engine = FakeEngine()


class ContentsTest(test_base.TestCase):

    def test_base64_is_decoded_strictly_else_taken_as_text(self) -> None:
        text = 'message=Module.V1\n'
        encoded = base64.b64encode(text.encode()).decode()
        self.assertEqual(text.encode(),
                         module_manager.decode_contents(encoded))
        self.assertEqual(text.encode(), module_manager.decode_contents(text))
        self.assertEqual('é;'.encode(), module_manager.decode_contents('é;'))
        self.assertEqual(b'', module_manager.decode_contents(None))
        # Line breaks are not base64: the text as given.
        self.assertEqual(b'YWJj\nZGVm',
                         module_manager.decode_contents('YWJj\nZGVm'))

    def test_timestamp_format(self) -> None:
        moment = module_manager.datetime.datetime(2017, 6, 2, 17, 23, 40,
                                                  504321)
        self.assertEqual('2017-06-02 17:23:40.50',
                         module_manager.timestamp(moment))
        self.assertRegex(module_manager.timestamp(),
                         r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d$')

    def test_shipped_drivers_are_entry_points(self) -> None:
        self.assertEqual(['ping', 'sql'],
                         [name for name in loader.names()
                          if name in ('ping', 'sql')])
        self.assertIsInstance(loader.driver('PING'), ping.PingDriver)
        self.assertIsInstance(loader.driver('sql'), sql.SqlDriver)
        self.assertIsNone(loader.driver('nosuch'))
        self.assertTrue(loader.driver('sql').description)

    def test_a_broken_driver_is_logged_and_left_out(self) -> None:
        log = self.useFixture(fixtures.FakeLogger())
        entry_point = collections.namedtuple('EntryPoint', 'name')('broken')
        loader._load_failed(None, entry_point, ImportError('no module x'))
        self.assertIn('broken cannot be loaded: no module x', log.output)
        loader.reset()
        self.assertIn('ping', loader.names())


class ApplyTest(ModulesTestCase):

    def test_ping_ok_from_plain_and_base64_contents(self) -> None:
        plain = payload('plain')
        encoded = payload('encoded', contents=base64.b64encode(
            b'# ping\nmessage=Module.V2\n').decode())
        results = self.modules.apply([plain, encoded], self.engine)
        self.assertEqual([('OK', 'Module.V1'), ('OK', 'Module.V2')],
                         [(r['status'], r['message']) for r in results])
        self.assertEqual({
            'id': plain['id'], 'name': 'plain', 'type': 'ping',
            'datastore': 'all', 'datastore_version': 'all', 'tenant': 'all',
            'md5': 'md5-of-plain', 'auto_apply': False, 'visible': True,
            'is_admin': False, 'status': 'OK', 'message': 'Module.V1',
            'created': '2026-05-01 10:00:00.00',
            'updated': '2026-05-01 10:00:00.00', 'removed': None},
            results[0])

    def test_ping_without_message_is_an_error(self) -> None:
        [result] = self.modules.apply([payload(contents='hello\n')],
                                      self.engine)
        self.assertEqual('ERROR', result['status'])
        self.assertIn('message=<text>', result['message'])

    def test_order_priority_first_then_apply_order(self) -> None:
        modules = [
            payload('late', 'record', apply_order=9),
            payload('early', 'record', apply_order=0),
            payload('priority-late', 'record', apply_order=7,
                    priority_apply=True),
            payload('middle-a', 'record'),
            payload('priority-early', 'record', apply_order=1,
                    priority_apply=True),
            payload('middle-b', 'record', apply_order=None),
        ]
        order = ['priority-early', 'priority-late', 'early', 'middle-a',
                 'middle-b', 'late']
        results = self.modules.apply(modules, self.engine)
        self.assertEqual(order, [result['name'] for result in results])
        self.assertEqual(order, [call[1] for call in self.recorder.calls])

    def test_unknown_type_and_failing_driver_do_not_stop_the_others(
            self) -> None:
        results = self.modules.apply([
            payload('unknown', 'nosuch', apply_order=1),
            payload('raises', 'record', contents='raise', apply_order=2),
            payload('refuses', 'record', contents='fail apply',
                    apply_order=3),
            payload('fine', apply_order=4),
            payload('trove-error', 'record', contents='refuse',
                    apply_order=5)], self.engine)
        unknown, raises, refuses, fine, trove_error = results
        self.assertEqual('ERROR', unknown['status'])
        self.assertIn("'nosuch'", unknown['message'])
        self.assertIn('ping, record, sql', unknown['message'])
        self.assertEqual(('ERROR', 'RuntimeError: driver exploded'),
                         (raises['status'], raises['message']))
        self.assertEqual(('ERROR', 'apply refused'),
                         (refuses['status'], refuses['message']))
        self.assertEqual('OK', fine['status'])
        self.assertEqual(('ERROR', 'the engine says no'),
                         (trove_error['status'], trove_error['message']))
        self.assertEqual(['fine', 'raises', 'refuses', 'trove-error',
                          'unknown'],
                         [r['name'] for r in self.modules.results()])

    def test_invalid_payloads(self) -> None:
        [result] = self.modules.apply([payload(id='../escape')],
                                      self.engine)
        self.assertEqual('ERROR', result['status'])
        self.assertIn('valid id', result['message'])
        self.assertEqual([], self.modules.results())
        self.assertEqual([], os.listdir(self.volume))
        self.assertRaises(exception.BadRequest, self.modules.apply,
                          ['not a dict'], self.engine)

    def test_results_persist_created_kept_updated_changes(self) -> None:
        module = payload('kept', 'record', md5='v1')
        [first] = self.modules.apply([module], self.engine)
        path = os.path.join(self.volume, 'modules', 'record', module['id'],
                            'result.json')
        with open(path) as source:
            self.assertEqual('v1', json.load(source)['md5'])
        self.assertEqual(0o700, stat.S_IMODE(os.stat(os.path.join(
            self.volume, 'modules')).st_mode))
        # A restarted agent finds the result on the volume.
        again = module_manager.ModuleManager()
        [second] = again.apply([module], self.engine)
        self.assertEqual(first['created'], second['created'])
        self.assertNotEqual(first['updated'], second['updated'])
        [third] = again.apply([dict(module, md5='v2')], self.engine)
        self.assertEqual(first['created'], third['created'])
        self.assertEqual([third], module_manager.ModuleManager().results())
        self.assertEqual('v2', third['md5'])

    def test_include_contents(self) -> None:
        encoded = base64.b64encode(b'message=hi').decode()
        self.modules.apply([payload(contents=encoded)], self.engine)
        [plain] = self.modules.results()
        self.assertNotIn('contents', plain)
        [full] = self.modules.results(include_contents=True)
        self.assertEqual(encoded, full.pop('contents'))
        self.assertEqual(plain, full)

    def test_results_sorted_by_name(self) -> None:
        self.modules.apply([payload('b', apply_order=0), payload('c'),
                            payload('a', apply_order=9)], self.engine)
        self.assertEqual(['a', 'b', 'c'],
                         [r['name'] for r in self.modules.results()])

    def test_unreadable_result_is_skipped(self) -> None:
        directory = os.path.join(self.volume, 'modules', 'ping', 'broken')
        os.makedirs(directory)
        with open(os.path.join(directory, 'result.json'), 'w') as target:
            target.write('{not json')
        self.assertEqual([], self.modules.results())


class RemoveTest(ModulesTestCase):

    def test_remove_runs_the_driver_and_stops_listing(self) -> None:
        module = payload('gone', 'record', contents='first')
        kept = payload('kept')
        self.modules.apply([module, kept], self.engine)
        # The control plane may send newer contents: the ones applied are
        # the ones undone.
        self.modules.remove(dict(module, contents='newer'), self.engine)
        self.assertEqual(('remove', 'gone', b'first'),
                         self.recorder.calls[-1])
        self.assertEqual(['kept'],
                         [r['name'] for r in self.modules.results()])
        with open(os.path.join(self.volume, 'modules', 'record',
                               module['id'], 'result.json')) as source:
            stored = json.load(source)
        self.assertEqual('remove done', stored['message'])
        self.assertTrue(stored['removed'])
        self.assertRaises(exception.NotFound, self.modules.remove, module,
                          self.engine)

    def test_reapply_after_remove_starts_a_new_created(self) -> None:
        module = payload('back')
        [first] = self.modules.apply([module], self.engine)
        self.modules.remove(module, self.engine)
        [again] = self.modules.apply([module], self.engine)
        self.assertNotEqual(first['created'], again['created'])
        self.assertIsNone(again['removed'])
        self.assertEqual([again], self.modules.results())

    def test_remove_never_applied(self) -> None:
        error = self.assertRaises(exception.NotFound, self.modules.remove,
                                  payload(id='never'), self.engine)
        self.assertIn('never', error.message)
        self.assertEqual(404, error.code)
        self.assertRaises(exception.NotFound, self.modules.remove,
                          payload(id='../x'), self.engine)
        self.assertRaises(exception.NotFound, self.modules.remove, None,
                          self.engine)

    def test_failed_remove_keeps_the_module_with_an_error(self) -> None:
        module = payload('stuck', 'record', contents='fail remove')
        self.modules.apply([module], self.engine)
        error = self.assertRaises(exception.UnprocessableEntity,
                                  self.modules.remove, module, self.engine)
        self.assertIn('remove refused', error.message)
        [result] = self.modules.results()
        self.assertEqual('ERROR', result['status'])
        self.assertIn('remove refused', result['message'])
        # Asked again, the module goes: it was reported once.
        self.modules.remove(module, self.engine)
        self.assertEqual([], self.modules.results())

    def test_module_that_failed_to_apply_is_removed_anyway(self) -> None:
        module = payload('unknown', 'nosuch')
        self.modules.apply([module], self.engine)
        self.modules.remove(module, self.engine)
        self.assertEqual([], self.modules.results())


class PrepareTest(ModulesTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.agent = guest_manager.Manager('instance-1')
        self.conductor = test_manager.RecordingConductor()
        self.agent._conductor = self.conductor
        self.recorder.agent = self.agent
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.loader.lifecycle',
            lambda manager: self.engine))

    def wait_for_status(self, status: str) -> None:
        deadline = time.monotonic() + 10
        while self.agent.status != status:
            self.assertLess(time.monotonic(), deadline, self.agent.status)
            time.sleep(0.01)

    def test_modules_applied_before_healthy(self) -> None:
        self.agent.prepare(self.context, 'mysql', modules=[
            payload('second', 'record', apply_order=2),
            payload('first', 'record', contents='raise', apply_order=1)])
        self.wait_for_status('healthy')
        self.assertEqual(['first', 'second'],
                         [call[1] for call in self.recorder.calls])
        self.assertEqual(['building', 'building'],
                         self.recorder.agent_status)
        self.assertEqual(['building', 'healthy'],
                         [beat['service_status']
                          for beat in self.conductor.beats])
        results = {r['name']: r for r in self.agent.module_list(None)}
        self.assertEqual('ERROR', results['first']['status'])
        self.assertEqual('OK', results['second']['status'])

    def test_modules_that_cannot_be_kept_do_not_fail_prepare(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.modules.manager.ModuleManager._write',
            lambda manager, result: os.mkdir('/nonexistent/x')))
        self.agent.prepare(self.context, 'mysql', modules=[payload()])
        self.wait_for_status('healthy')
        self.assertIsNone(self.agent.error)

    def test_module_calls_need_an_engine(self) -> None:
        self.assertEqual([], self.agent.module_list(None))
        self.assertRaises(exception.UnprocessableEntity,
                          self.agent.module_apply, None, [payload()])
        self.assertRaises(exception.UnprocessableEntity,
                          self.agent.module_remove, None, payload())


class RpcTest(ModulesTestCase):
    """The client's calls reach the manager and come back as results or
    as the common exceptions."""

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        self.conf.config(transport_url='fake:/')
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)
        self.agent = guest_manager.Manager('instance-1')
        self.agent.engine, self.agent.manager_name = self.engine, 'mysql'
        server = rpc.get_server(rpcapi.topic('instance-1'), [self.agent],
                                'instance-1')
        server.start()
        self.addCleanup(server.wait)
        self.addCleanup(server.stop)
        self.api = rpcapi.GuestAPI('instance-1', timeout=5)

    def test_apply_list_remove(self) -> None:
        self.assertEqual('2.3', rpcapi.RPC_API_VERSION)
        module = payload()
        [result] = self.api.module_apply(self.context, [module])
        self.assertEqual(('OK', 'Module.V1'),
                         (result['status'], result['message']))
        self.assertEqual([result], self.api.module_list(self.context))
        [full] = self.api.module_list(self.context, include_contents=True)
        self.assertEqual(module['contents'], full['contents'])
        self.api.module_remove(self.context, module)
        self.assertEqual([], self.api.module_list(self.context))
        self.assertRaises(exception.NotFound, self.api.module_remove,
                          self.context, module)
        self.assertEqual(os.path.join(self.volume, 'modules'),
                         self.agent._modules.root)
        self.assertEqual(self.volume, engine_loader.volume_dir())
