"""The logs capability: statuses, publish in Trove's layout, discard,
rotation, SYS logs and bad requests, on a fake store."""
import json
import os
from unittest import mock

import fixtures
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import logs


class FakeStore:
    """A container in memory: name → (bytes, headers)."""

    def __init__(self, container: str = 'database_logs') -> None:
        self.container = container
        self.objects: dict = {}
        self.made = False

    def ensure_container(self) -> None:
        self.made = True

    def get(self, name: str):
        found = self.objects.get(name)
        return found[0] if found else None

    def put(self, name: str, data: bytes, headers: dict) -> None:
        self.objects[name] = (data, dict(headers))

    def names(self, prefix: str) -> list:
        return sorted(name for name in self.objects
                      if name.startswith(prefix))

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)


class FakeEngine:
    def __init__(self, root: str) -> None:
        self.agent_dir = os.path.join(root, 'agent')
        self.data_dir = os.path.join(root, 'data')
        os.makedirs(self.data_dir)
        self.process = mock.Mock(pid=100)


class EngineLogs(logs.GuestLogs):
    """One USER log switched live (or not), one SYS log."""

    live = True

    def __init__(self, engine) -> None:
        super().__init__(engine)
        self.switched: list = []

    def specs(self) -> list:
        return [logs.LogSpec('slow', logs.USER,
                             os.path.join(self.engine.data_dir, 'slow.log')),
                logs.LogSpec('error', logs.SYS,
                             os.path.join(self.engine.data_dir, 'err.log'))]

    def switch(self, enabled, request) -> bool:
        self.switched.append(sorted(enabled))
        return self.live


class GuestLogsTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.root = self.useFixture(fixtures.TempDir()).path
        self.engine = FakeEngine(self.root)
        self.logs = EngineLogs(self.engine)
        self.store = FakeStore()
        self.useFixture(fixtures.MockPatchObject(
            logs, 'store_for', side_effect=lambda request: (
                self.store if request.get('storage') else None)))
        self.request = {'storage': {'driver': 'swift'},
                        'container': 'database_logs', 'limit': 40,
                        'expiry': 600, 'instance_id': 'inst-1',
                        'datastore': 'mysql', 'admin': False}

    def write(self, name: str, text: str, mode: str = 'a') -> None:
        with open(os.path.join(self.engine.data_dir, name), mode) as log:
            log.write(text)

    def shown(self, name: str) -> dict:
        return {log['name']: log for log in self.logs.list(self.request)}[name]

    def test_a_user_log_from_disabled_to_published(self) -> None:
        self.assertEqual({'name': 'slow', 'type': 'USER',
                          'status': 'Disabled', 'published': 0,
                          'pending': 0, 'container': 'None',
                          'prefix': 'None',
                          'metafile': 'inst-1/mysql-slow_metafile'},
                         self.shown('slow'))
        shown = self.logs.action(self.request, 'slow', enable=True)
        self.assertEqual('Enabled', shown['status'])
        self.assertEqual([['slow']], self.logs.switched)
        self.write('slow.log', 'first line\nsecond\n')
        self.assertEqual('Ready', self.shown('slow')['status'])
        self.assertEqual(18, self.shown('slow')['pending'])

        shown = self.logs.action(self.request, 'slow', publish=True)
        self.assertEqual(('Published', 18, 0, 'database_logs',
                          'inst-1/mysql-slow/'),
                         (shown['status'], shown['published'],
                          shown['pending'], shown['container'],
                          shown['prefix']))
        parts = self.store.names('inst-1/mysql-slow/')
        self.assertEqual(1, len(parts))
        self.assertRegex(parts[0], r'^inst-1/mysql-slow/log-\d{4}-\d\d-\d\d'
                                   r'T\d\d:\d\d:\d\d\.\d{6}$')
        data, headers = self.store.objects[parts[0]]
        self.assertEqual(b'first line\nsecond\n', data)
        self.assertEqual({'X-Delete-After': '600',
                          'X-Object-Meta-Lines': '2'}, headers)
        meta = json.loads(self.store.get('inst-1/mysql-slow_metafile'))
        self.assertEqual(('slow', 'USER', 18),
                         (meta['log_name'], meta['log_type'],
                          meta['log_size']))

        # More lines: Partial; a line without its end waits.
        self.write('slow.log', 'third\nfour')
        self.assertEqual('Partial', self.shown('slow')['status'])
        self.logs.action(self.request, 'slow', publish=True)
        parts = self.store.names('inst-1/mysql-slow/')
        self.assertEqual(2, len(parts))
        self.assertEqual(b'third\n', self.store.objects[parts[1]][0])
        self.assertEqual(24, self.shown('slow')['published'])

    def test_publish_cuts_at_the_limit_and_enables(self) -> None:
        self.write('slow.log', ''.join('line %02d\n' % n for n in range(10)))
        shown = self.logs.action(self.request, 'slow', publish=True)
        self.assertEqual([['slow']], self.logs.switched)
        self.assertEqual('Published', shown['status'])
        parts = self.store.names('inst-1/mysql-slow/')
        # 8-byte lines, at most 40 bytes an object: 5 lines each.
        self.assertEqual([b'line 00\nline 01\nline 02\nline 03\nline 04\n',
                          b'line 05\nline 06\nline 07\nline 08\nline 09\n'],
                         [self.store.objects[name][0] for name in parts])
        self.assertEqual(sorted(parts), parts)

    def test_rotation_and_discard(self) -> None:
        self.write('slow.log', 'old line\n')
        self.logs.action(self.request, 'slow', publish=True)
        self.write('slow.log', 'new\n', mode='w')
        self.assertEqual(('Rotated', 4), (self.shown('slow')['status'],
                                          self.shown('slow')['pending']))
        self.logs.action(self.request, 'slow', publish=True)
        parts = self.store.names('inst-1/mysql-slow/')
        self.assertEqual([b'new\n'], [self.store.objects[name][0]
                                      for name in parts])
        shown = self.logs.action(self.request, 'slow', discard=True)
        self.assertEqual({}, self.store.objects)
        self.assertEqual(('Ready', 0, 'None'), (
            shown['status'], shown['published'], shown['container']))

    def test_sys_logs(self) -> None:
        self.assertEqual('Unavailable', self.shown('error')['status'])
        self.write('err.log', 'boom\n')
        for flags in ({'enable': True}, {'disable': True}):
            error = self.assertRaises(exception.BadRequest, self.logs.action,
                                      dict(self.request, admin=True),
                                      'error', **flags)
            self.assertIn('SYSTEM log', error.message)
        for flags in ({}, {'publish': True}, {'discard': True}):
            self.assertRaises(exception.LogAccessForbidden, self.logs.action,
                              self.request, 'error', **flags)
        self.assertEqual({}, self.store.objects)
        shown = self.logs.action(dict(self.request, admin=True), 'error',
                                 publish=True)
        self.assertEqual(('Published', 5), (shown['status'],
                                            shown['published']))
        self.assertEqual([], self.logs.switched)

    def test_bad_requests(self) -> None:
        self.assertRaises(exception.GuestLogNotFound, self.logs.action,
                          self.request, 'nope')
        self.assertRaises(exception.BadRequest, self.logs.action,
                          self.request, 'slow', enable=True, disable=True)
        error = self.assertRaises(
            exception.LogsNotAvailable, self.logs.action,
            dict(self.request, storage=None), 'slow', publish=True)
        self.assertEqual(501, error.code)
        self.assertEqual([], self.logs.switched)
        # Without a store, the list still works.
        self.assertEqual(['slow', 'error'], [
            log['name'] for log in self.logs.list(
                dict(self.request, storage=None))])

    def test_restart_required_until_the_engine_restarts(self) -> None:
        self.logs.live = False
        shown = self.logs.action(self.request, 'slow', enable=True)
        self.assertEqual('Restart Required', shown['status'])
        # The agent's record survives the agent.
        self.assertEqual('Restart Required',
                         EngineLogs(self.engine).list(self.request)[0][
                             'status'])
        self.engine.process = mock.Mock(pid=101)
        self.assertEqual('Enabled', self.shown('slow')['status'])
        # Disabling again is not asked twice.
        self.logs.action(self.request, 'slow', enable=True)
        self.assertEqual([['slow']], self.logs.switched)


class HelpersTest(testtools.TestCase):

    def test_components(self) -> None:
        self.assertEqual([(b'ab\n', 1), (b'cdefg', 1), (b'h\n', 1)],
                         list(logs.components(b'ab\ncdefgh\n', 5)))
        self.assertEqual([], list(logs.components(b'', 5)))

    def test_store_for(self) -> None:
        self.assertIsNone(logs.store_for({'storage': None}))
        self.assertIsNone(logs.store_for({'storage': {'driver': 'local'}}))
        store = logs.store_for({'storage': {
            'driver': 'swift', 'token': 't',
            'storage_url': 'http://127.0.0.1:1/v1/AUTH_p'},
            'container': 'c'})
        self.assertEqual('c', store.container)
