"""Hostile client input gets a 400 (or 413, 422) in Trove's envelope,
never a 500: bytes that are not UTF-8, control characters, deep nesting,
broken bodies, over-long identities, values no store holds, names with a
trailing newline, an engine's refusal, and links that follow a forged
Host header."""
import io
import json
from unittest import mock

import fixtures
from oslo_db import exception as db_exc
import oslo_messaging
import webob
import webtest

from trove_clone.api import app as api_app
from trove_clone.api.controllers import base as controller_base
from trove_clone.api import json_input
from trove_clone.api import openapi
from trove_clone.api.schemas import common as schema_common
from trove_clone.api.schemas import configurations as configuration_schemas
from trove_clone.api.schemas import datastores as datastore_schemas
from trove_clone.api.schemas import instances as instance_schemas
from trove_clone.api.schemas import modules as module_schemas
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.guestagent.datastores.postgresql import accounts as \
    postgresql_accounts
from trove_clone.guestagent.modules import manager as module_manager
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.services import accounts
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

BAD_UTF8 = ('%ff', '%c0%af', '%ed%a0%80', 'a%80b')
UNKNOWN = '00000000-1111-2222-3333-444444444444'


def _templates() -> list[tuple[str, str]]:
    """(method, path template) of every documented route."""
    return [(method.upper(), path)
            for path, operations in openapi.build()['paths'].items()
            for method in operations]


def _fill(template: str, project: str, value: str) -> str:
    path = template.replace('{tenant_id}', project)
    while '{' in path:
        start = path.index('{')
        path = path[:start] + value + path[path.index('}', start) + 1:]
    return path


class HostileInputTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(default=True)

    def request(self, method: str, path: str, body=None, admin=True,
                headers=None, status=None, **environ):
        """A request built by hand (webtest would refuse some of these)."""
        request = webob.Request.blank(path, method=method, **environ)
        request.headers.update(self.headers(admin=admin))
        request.headers.update(headers or {})
        if body is not None:
            request.body = body if isinstance(body, bytes) else \
                body.encode('utf-8')
            request.content_type = 'application/json'
        response = request.get_response(self.app.app)
        if status is not None:
            self.assertEqual(status, response.status_int,
                             '%s %s: %s' % (method, path, response.body))
        return response

    def assertBadRequest(self, response, contains: str = '') -> None:
        self.assertEqual(400, response.status_int, response.body)
        body = json.loads(response.body)
        self.assertEqual(['badRequest'], list(body))
        self.assertEqual(400, body['badRequest']['code'])
        self.assertIn(contains, body['badRequest']['message'])

    # --- the request line -------------------------------------------------

    def test_invalid_utf8_in_the_path_of_every_route(self) -> None:
        for method, template in _templates():
            for bad in BAD_UTF8:
                if '{' in template.replace('{tenant_id}', ''):
                    path = _fill(template, self.project, bad)
                else:
                    path = template.rstrip('/') + '/' + bad
                response = self.request(method, path, body=b'{}')
                self.assertBadRequest(response, 'not valid UTF-8')
        self.assertBadRequest(self.request('GET', '/v1.0/%ff/flavors'),
                              'UTF-8')

    def test_invalid_utf8_in_the_query_of_every_route(self) -> None:
        for method, template in _templates():
            path = _fill(template, self.project, UNKNOWN)
            for bad in BAD_UTF8:
                for query in ('limit=%s' % bad, 'marker=%s' % bad,
                              '%s=1' % bad, 'x=1&name=%s' % bad):
                    response = self.request(method, path + '?' + query,
                                            body=b'{}')
                    self.assertBadRequest(response, 'UTF-8')

    def test_huge_limits(self) -> None:
        self.request('GET', self.url('/instances?limit=%d' % 10 ** 30),
                     status=200)
        self.assertBadRequest(self.request(
            'GET', self.url('/instances?limit=%s' % ('9' * 5000))), 'limit')

    def test_control_characters_in_path_and_query(self) -> None:
        for path in ('/v1.0/project-a/datastores/a%00b',
                     '/v1.0/project-a/instances/%0a',
                     '/v1.0/project-a/flavors?marker=%00',
                     '/v1.0/project-a/flavors?x%00=1'):
            self.assertBadRequest(self.request('GET', path),
                                  'control character')

    # --- the body as bytes ------------------------------------------------

    def test_content_length_that_is_not_a_number(self) -> None:
        for value in ('abc', '-1', '1e3', '0x10', '１２'):
            response = self.request(
                'POST', self.url('/instances'), environ={
                    'CONTENT_LENGTH': value,
                    'CONTENT_TYPE': 'application/json',
                    'wsgi.input': io.BytesIO(b'{}')})
            self.assertBadRequest(response, 'Content-Length')

    def test_body_shorter_than_its_content_length(self) -> None:
        response = self.request(
            'POST', self.url('/instances'), environ={
                'CONTENT_LENGTH': '100', 'CONTENT_TYPE': 'application/json',
                'wsgi.input': io.BytesIO(b'{"instance": {}}')})
        self.assertBadRequest(response, 'fewer than its Content-Length')

    def test_content_length_over_the_limit_is_413(self) -> None:
        self.conf.config(max_request_body_size=10)
        self.app = webtest.TestApp(api_app.build_app())
        response = self.request(
            'POST', self.url('/instances'), environ={
                'CONTENT_LENGTH': '11', 'CONTENT_TYPE': 'application/json',
                'wsgi.input': io.BytesIO(b'{"a": "bcd"}')})
        self.assertEqual(413, response.status_int)

    def test_malformed_chunked_body(self) -> None:
        class BrokenChunks(io.RawIOBase):
            """What a server's chunked reader does on a bad chunk size."""

            def read(self, size=-1):
                raise ValueError('Bad chunked transfer size: zz')

        for method in ('POST', 'PUT', 'PATCH'):
            response = self.request(
                method, self.url('/configurations/%s' % UNKNOWN), environ={
                    'HTTP_TRANSFER_ENCODING': 'chunked',
                    'CONTENT_TYPE': 'application/json',
                    'wsgi.input': BrokenChunks()})
            self.assertBadRequest(response, 'chunked')

    def test_chunked_body_is_read_whole(self) -> None:
        body = json.dumps({'quotas': {'instances': 3}})
        response = self.request(
            'PUT', self.url('/mgmt/quotas/project-b'), environ={
                'HTTP_TRANSFER_ENCODING': 'chunked',
                'CONTENT_TYPE': 'application/json',
                'wsgi.input': io.BytesIO(body.encode())})
        self.assertEqual(200, response.status_int, response.body)
        self.assertEqual(3, db_api.quota_get_all(self.context,
                                                 'project-b')['instances'])

    # --- the body as JSON -------------------------------------------------

    def test_json_nested_5000_deep(self) -> None:
        for raw in ('[' * 5000 + ']' * 5000,
                    '{"instance": {"name": %s}}' % ('[' * 5000 + ']' * 5000),
                    '{"a":' * 5000 + '1' + '}' * 5000):
            for method, path in (('POST', '/instances'),
                                 ('POST', '/configurations'),
                                 ('PUT', '/mgmt/quotas/project-a')):
                self.assertBadRequest(
                    self.request(method, self.url(path), body=raw),
                    'deeper than 32')

    def test_depth_limit_is_exact(self) -> None:
        self.assertFalse(json_input.too_deep('[' * 32 + ']' * 32))
        self.assertTrue(json_input.too_deep('[' * 33 + ']' * 33))
        self.assertFalse(json_input.too_deep('"%s"' % ('[' * 100)))
        self.assertFalse(json_input.too_deep('[' * 40))  # parser's to say
        json_input.loads('[' * 32 + ']' * 32)

    def test_nul_and_lone_surrogates_name_the_field(self) -> None:
        cases = [
            ('{"instance": {"name": "a\\u0000b", "flavorRef": "1"}}',
             'instance/name'),
            ('{"instance": {"name": "a", "flavorRef": "1", "users": '
             '[{"name": "u", "password": "p\\u0000w"}]}}',
             'instance/users/0/password'),
            ('{"instance": {"name": "a\\ud800"}}', 'instance/name'),
            ('{"instance": {"n\\u0000": 1}}', 'instance'),
        ]
        for raw, field in cases:
            response = self.request('POST', self.url('/instances'),
                                    body=raw, admin=False)
            self.assertBadRequest(response, field)
        self.assertEqual([], db_api.instance_list(self.context, None, 10))

    def test_nul_in_a_user_password(self) -> None:
        instance_id = self.make_instance(self.version, tenant_id='project-a')
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 1.0)
        response = self.request(
            'POST', self.url('/instances/%s/users' % instance_id),
            body='{"users": [{"name": "u", "password": "a\\u0000"}]}',
            admin=False)
        self.assertBadRequest(response, 'users/0/password')

    def test_numbers_no_field_can_hold(self) -> None:
        for value, problem in (('NaN', 'NaN'), ('Infinity', 'Infinity'),
                               ('-Infinity', '-Infinity'),
                               ('1e400', 'too large'),
                               ('-1e400', 'too large'),
                               (str(2 ** 63), '64-bit'),
                               (str(-2 ** 63 - 1), '64-bit'),
                               ('9' * 5000, 'Malformed')):
            raw = ('{"configuration": {"name": "c", "datastore": {"type": '
                   '"mysql"}, "values": {"max_connections": %s}}}' % value)
            response = self.request('POST', self.url('/configurations'),
                                    body=raw, admin=False)
            self.assertBadRequest(response, problem)
            if problem != 'Malformed':
                self.assertIn('configuration/values/max_connections',
                              json.loads(response.body)['badRequest'][
                                  'message'])

    def test_duplicate_keys(self) -> None:
        raw = ('{"configuration": {"name": "c", "name": "d", "values": {}, '
               '"datastore": {"type": "mysql"}}}')
        self.assertBadRequest(
            self.request('POST', self.url('/configurations'), body=raw,
                         admin=False), '"name" appears twice')

    def test_body_not_utf8(self) -> None:
        response = self.request('POST', self.url('/instances'),
                                body=b'{"instance": {"name": "\xff"}}',
                                admin=False)
        self.assertBadRequest(response, 'UTF-8')

    # --- identities and widths --------------------------------------------

    def test_project_and_user_ids_wider_than_the_column(self) -> None:
        long_project = 'p' * 65
        response = self.app.get('/v1.0/%s/flavors' % long_project,
                                headers=self.headers(project=long_project),
                                status=400)
        self.assertError(response, 400, 'badRequest', 'project id')
        self.app.get('/v1.0/%s/flavors' % ('p' * 64),
                     headers=self.headers(project='p' * 64), status=200)
        response = self.app.get(self.url('/flavors'), headers=dict(
            self.headers(), **{'X-User-Id': 'u' * 256}), status=400)
        self.assertError(response, 400, 'badRequest', 'user id')
        response = self.app.get(self.url('/flavors'), headers=dict(
            self.headers(), **{'X-User-Id': 'u\x01'}), status=400)
        self.assertError(response, 400, 'badRequest', 'control character')

    def test_quota_of_a_project_id_wider_than_the_column(self) -> None:
        response = self.send('put', '/mgmt/quotas/%s' % ('p' * 65),
                             {'quotas': {'instances': 3}}, admin=True,
                             status=400)
        self.assertError(response, 400, 'badRequest', 'project id')
        self.assertEqual({}, db_api.quota_get_all(self.context, 'p' * 65))

    def test_names_longer_than_their_columns(self) -> None:
        response = self.send('POST', '/configurations', {'configuration': {
            'name': 'c' * 65, 'values': {}, 'datastore': {'type': 'mysql'}}},
            status=400)
        self.assertError(response, 400, 'badRequest', 'configuration/name')
        response = self.send('POST', '/instances', {'instance': {
            'name': 'i' * 256, 'flavorRef': '1', 'volume': {'size': 1}}},
            status=400)
        self.assertError(response, 400, 'badRequest', 'instance/name')

    def test_joined_packages_wider_than_the_column(self) -> None:
        before = db_api.datastore_version_list(self.context)
        response = self.send('POST', '/mgmt/datastore-versions', {'version': {
            'name': '8.0', 'datastore_name': 'mysql',
            'datastore_manager': 'mysql', 'active': True,
            'image': base.IMAGE_ID, 'packages': ['p' * 255] * 3}},
            admin=True, status=400)
        self.assertError(response, 400, 'badRequest', 'packages')
        response = self.send('PATCH', '/mgmt/datastore-versions/%s'
                             % self.version['id'],
                             {'packages': ['p' * 255] * 3}, admin=True,
                             status=400)
        self.assertError(response, 400, 'badRequest', 'packages')
        self.assertEqual(before, db_api.datastore_version_list(self.context))

    def test_a_database_refusal_is_400(self) -> None:
        refusal = db_exc.DBDataError(Exception('Data too long'))
        with mock.patch.object(db_api, 'flavor_list', side_effect=refusal):
            response = self.get('/flavors', status=400)
        self.assertError(response, 400, 'badRequest', 'too long')


class AnchoredNamesTest(base.ApiTestCase):
    """A trailing newline never slips past a pattern or a reserved name."""

    def test_account_rules(self) -> None:
        for manager, name in (('mysql', 'root\n'), ('mysql', 'mysql\n'),
                              ('mysql', 'app\n'), ('postgresql', 'root\n'),
                              ('postgresql', 'postgres\n'),
                              ('redis', 'default\n')):
            self.assertRaises(exception.InvalidName,
                              accounts.check_user_name, manager, name, None)
        for manager, name in (('mysql', 'mysql\n'), ('mysql', 'sys\n'),
                              ('postgresql', 'template1\n'),
                              ('postgresql', 'app\n')):
            self.assertRaises(exception.InvalidName,
                              accounts.check_database_name, manager, name)
        for host in ('%\n', 'host\n', '%\x00'):
            self.assertRaises(exception.InvalidName,
                              accounts.check_user_name, 'mysql', 'app', host)
        self.assertEqual(('app', '%'),
                         accounts.check_user_name('mysql', 'app', None))

    def test_guest_checks(self) -> None:
        for name in ('postgres\n', 'app\n', 'a\x00'):
            self.assertRaises(exception.InvalidName,
                              postgresql_accounts.check_name, 'user', name)
        self.assertRaises(exception.InvalidName,
                          postgresql_accounts.check_name, 'database', 'd\n')
        self.assertRaises(exception.BadRequest,
                          module_manager._check_payload,
                          {'id': 'abc\n', 'type': 'ping'})
        module_manager._check_payload({'id': 'abc', 'type': 'ping'})

    def test_schema_patterns(self) -> None:
        cases = [
            (instance_schemas.create, {'instance': {'name': 'db\n'}}),
            (instance_schemas.create, {'instance': {
                'name': 'db', 'volume': {'size': '1\n'}}}),
            (instance_schemas.create, {'instance': {
                'name': 'db', 'replica_of': UNKNOWN + '\n'}}),
            (configuration_schemas.create, {'configuration': {
                'name': 'c\n', 'values': {}}}),
            (module_schemas.create, {'module': {
                'name': 'm\n', 'module_type': 'ping', 'contents': 'x'}}),
            (datastore_schemas.parameter, {'configuration-parameter': {
                'name': 'max_connections\n', 'restart_required': 0,
                'data_type': 'integer'}}),
        ]
        for schema, body in cases:
            self.assertRaises(exception.ValidationError,
                              controller_base.validate, body, schema)
        controller_base.validate({'instance': {'name': 'db'}},
                                 instance_schemas.create)
        self.assertIn('(?!\\n)', schema_common.NAME_PATTERN)

    def test_trailing_newline_user_over_the_api(self) -> None:
        self.make_version(default=True)
        tasks = test_instances.RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: tasks))
        for users in ([{'name': 'root\n', 'password': 'x'}],
                      [{'name': 'app', 'password': 'x', 'host': '%\n'}]):
            response = self.send('POST', '/instances', {'instance': {
                'name': 'db', 'flavorRef': '1', 'volume': {'size': 1},
                'datastore': {'type': 'mysql'}, 'users': users}},
                status=400)
            self.assertError(response, 400, 'badRequest')
        self.assertEqual([], tasks.calls)


class GuestErrorsTest(base.ApiTestCase):
    """A guest's engine error crosses RPC as a Trove error, not a 500."""

    def guest(self, error: Exception) -> guest_rpcapi.GuestAPI:
        client = mock.Mock()
        client.prepare.return_value.call.side_effect = error
        with mock.patch.object(guest_rpcapi.rpc, 'get_client',
                               return_value=client):
            return guest_rpcapi.GuestAPI('inst-1')

    def test_mapping(self) -> None:
        cases = [
            ('EngineError', 'PostgreSQL failed: role "x" already exists',
             exception.GuestEngineError, 422),
            ('TemplateError', 'bad template', exception.GuestEngineError,
             422),
            ('UpgradeRefused', 'too old', exception.GuestRequestRefused,
             400),
            ('KeyError', "'name'", exception.GuestError, 500),
        ]
        for exc_type, message, expected, code in cases:
            guest = self.guest(oslo_messaging.RemoteError(
                exc_type, message, 'Traceback ...'))
            error = self.assertRaises(expected, guest.list_users, None)
            self.assertEqual(code, error.code)
            self.assertIn(message, error.message)
            self.assertIn('inst-1', error.message)
            self.assertNotIn('Traceback', error.message)

    def test_engine_error_over_the_api_is_422(self) -> None:
        version = self.make_version(default=True)
        instance_id = self.make_instance(version, tenant_id='project-a')
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 1.0)
        client = mock.Mock()
        client.prepare.return_value.call.side_effect = \
            oslo_messaging.RemoteError(
                'EngineError', 'MariaDB failed: Operation CREATE USER '
                'failed', 'Traceback ...')
        self.useFixture(fixtures.MockPatch(
            'trove_clone.common.rpc.get_client', return_value=client))
        response = self.send('POST', '/instances/%s/users' % instance_id,
                             {'users': [{'name': 'app', 'password': 'pw'}]},
                             status=422)
        self.assertError(response, 422, 'unprocessableEntity',
                         'Operation CREATE USER failed')


class LinksTest(base.ApiTestCase):
    """Links follow public_endpoint or a listed Host, never a forged one."""

    def hrefs(self, host: str) -> list[str]:
        headers = dict(self.headers(), Host=host)
        flavors = self.app.get(self.url('/flavors'), headers=headers).json
        versions = self.app.get('/', headers={'Host': host}).json
        return ([link['href'] for flavor in flavors['flavors']
                 for link in flavor['links']] +
                [link['href'] for version in versions['versions']
                 for link in version['links']])

    def test_forged_host_is_ignored(self) -> None:
        self.conf.config(bind_host='192.0.2.10', bind_port=8779)
        hrefs = self.hrefs('evil.example:666')
        self.assertTrue(hrefs)
        for href in hrefs:
            self.assertTrue(href.startswith('http://192.0.2.10:8779/'), href)

    def test_wildcard_bind_uses_the_server_name(self) -> None:
        self.conf.config(bind_host='0.0.0.0', bind_port=8779)
        for href in self.hrefs('evil.example'):
            self.assertNotIn('evil', href)
            self.assertTrue(href.startswith('http://localhost:8779/'), href)

    def test_listed_host_is_used(self) -> None:
        self.conf.config(public_hosts=['db.example.com', '10.0.0.5:8779'],
                         bind_host='192.0.2.10')
        for href in self.hrefs('db.example.com'):
            self.assertTrue(href.startswith('http://db.example.com/'), href)
        for href in self.hrefs('10.0.0.5:8779'):
            self.assertTrue(href.startswith('http://10.0.0.5:8779/'), href)
        for href in self.hrefs('db.example.com:666'):
            self.assertTrue(href.startswith('http://192.0.2.10:'), href)

    def test_public_endpoint_wins(self) -> None:
        self.conf.config(public_endpoint='https://db.example.com:8779/',
                         public_hosts=['evil.example'])
        for href in self.hrefs('evil.example'):
            self.assertTrue(href.startswith('https://db.example.com:8779/'),
                            href)
