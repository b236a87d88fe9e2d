"""services.guest_logs: what the guest gets, what a member sees, and the
requests refused before the guest is asked; the API's service catalog."""
from unittest import mock

from trove_clone.api import middleware
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.services import guest_logs
from trove_clone.tests.unit import base

LOGS = [{'name': 'general', 'type': 'USER'},
        {'name': 'error', 'type': 'SYS'}]


class LogGuest:
    def __init__(self) -> None:
        self.calls: list = []

    def guest_log_list(self, context, request):
        self.calls.append(('list', request))
        return [dict(log) for log in LOGS]

    def guest_log_action(self, context, request, log_name, **flags):
        self.calls.append(('action', request, log_name, flags))
        return {'name': log_name}


class GuestLogsServiceTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.guest = LogGuest()
        self.member = trove_context.TroveContext(
            user_id='u', project_id='p', is_admin=False, auth_token='tok')
        self.admin = trove_context.TroveContext(
            user_id='a', project_id='p', is_admin=True, auth_token='tok')

    def test_a_member_does_not_see_sys_logs(self) -> None:
        self.assertEqual(['general'], [log['name'] for log in
                                       guest_logs.list_logs(self.member,
                                                            self.guest)])
        self.assertEqual(['general', 'error'], [
            log['name'] for log in guest_logs.list_logs(self.admin,
                                                        self.guest)])
        requests = [call[1] for call in self.guest.calls]
        self.assertEqual([False, True], [r['admin'] for r in requests])
        self.assertEqual({'storage': None, 'container': 'database_logs',
                          'limit': 1000000, 'expiry': 2592000,
                          'long_query_ms': 3000, 'admin': False},
                         requests[0])

    def test_refused_before_the_guest(self) -> None:
        error = self.assertRaises(
            exception.BadRequest, guest_logs.act, self.member, self.guest,
            {'name': 'general', 'enable': 1, 'disable': True})
        self.assertIn('enable or disable', error.message)
        for action in ('publish', 'discard'):
            error = self.assertRaises(
                exception.LogsNotAvailable, guest_logs.act, self.member,
                self.guest, {'name': 'general', action: 1})
            self.assertEqual(501, error.code)
        self.assertEqual([], self.guest.calls)

    def test_actions_reach_the_guest_with_swift_storage(self) -> None:
        self.conf.config(storage_strategy='swift', guest_log_limit=5000)
        with mock.patch.object(
                guest_logs.backup_service, 'backup_storage_options',
                return_value={'driver': 'swift', 'token': 'tok'}):
            shown = guest_logs.act(self.member, self.guest,
                                   {'name': 'general', 'publish': 1,
                                    'enable': 0})
        self.assertEqual({'name': 'general'}, shown)
        _, request, name, flags = self.guest.calls[0]
        self.assertEqual(('general', {'enable': False, 'disable': False,
                                      'publish': True, 'discard': False}),
                         (name, flags))
        self.assertEqual(({'driver': 'swift', 'token': 'tok'}, 5000),
                         (request['storage'], request['limit']))


class ServiceCatalogTest(base.TestCase):

    def test_only_a_json_list_with_keystone(self) -> None:
        catalog = '[{"type": "object-store", "endpoints": []}, 3]'
        environ = {'HTTP_X_SERVICE_CATALOG': catalog}
        self.conf.config(auth_strategy='keystone')
        self.assertEqual([{'type': 'object-store', 'endpoints': []}],
                         middleware.service_catalog(environ))
        for bad in ('{"a": 1}', 'not json', ''):
            self.assertEqual([], middleware.service_catalog(
                {'HTTP_X_SERVICE_CATALOG': bad}))
        self.conf.config(auth_strategy='noauth')
        self.assertEqual([], middleware.service_catalog(environ))
