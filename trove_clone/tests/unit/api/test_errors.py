"""Every error leaves in Trove's envelope with the right code."""
import fixtures
import webtest

from trove_clone.api import middleware
from trove_clone.tests.unit.api import base


class ErrorEnvelopeTest(base.ApiTestCase):

    def test_version_discovery_needs_no_credentials(self) -> None:
        body = self.app.get('/').json
        self.assertEqual('v1.0', body['versions'][0]['id'])
        self.assertEqual('CURRENT', body['versions'][0]['status'])

    def test_v1_needs_credentials(self) -> None:
        response = self.app.get('/v1.0/', status=401)
        self.assertError(response, 401, 'unauthorized')
        body = self.app.get('/v1.0/', headers=self.headers()).json
        self.assertEqual('v1.0', body['version']['id'])

    def test_missing_identity_is_401_not_500(self) -> None:
        for headers in ({}, {'X-User-Id': 'u'}, {'X-Auth-Token': 'abc'}):
            response = self.app.get(self.url('/datastores'), headers=headers,
                                    status=401)
            self.assertError(response, 401, 'unauthorized')

    def test_token_user_project_form(self) -> None:
        self.app.get(self.url('/flavors'),
                     headers={'X-Auth-Token': 'someone:project-a'})
        response = self.app.get(self.url('/mgmt/datastore-versions'),
                                headers={'X-Auth-Token': 'admin:project-a'})
        self.assertEqual({'versions': [], 'links': []}, response.json)

    def test_other_tenant_in_url_is_403(self) -> None:
        response = self.app.get('/v1.0/project-b/flavors',
                                headers=self.headers(admin=True),
                                status=403)
        self.assertError(response, 403, 'forbidden', 'project-a')

    def test_unknown_routes_are_404(self) -> None:
        for path in ('/nosuch', '/datastores/mysql/nosuch/x/y',
                     '/flavors/1/extra'):
            self.assertError(self.get(path, status=404), 404,
                             'itemNotFound')
        self.assertError(self.app.get('/v2.0/x', status=404,
                                      headers=self.headers()),
                         404, 'itemNotFound')

    def test_wrong_methods_are_405(self) -> None:
        for method, path in [('post', '/flavors'), ('delete', '/limits'),
                             ('put', '/datastores'),
                             ('post', '/instances/detail')]:
            response = self.send(method, path, {}, status=405)
            self.assertError(response, 405, 'badMethod', method.upper())
        response = self.app.post('/', status=405)
        self.assertError(response, 405, 'badMethod')

    def test_bodies_must_be_json(self) -> None:
        path = self.url('/mgmt/datastore-versions')
        headers = dict(self.headers(admin=True),
                       **{'Content-Type': 'text/plain'})
        response = self.app.post(path, params='x', headers=headers,
                                 status=415)
        self.assertError(response, 415, 'badMediaType', 'text/plain')
        response = self.send('post', '/mgmt/datastore-versions', None,
                             admin=True, status=400)
        self.assertError(response, 400, 'badRequest', 'empty')
        response = self.send('post', '/mgmt/datastore-versions', admin=True,
                             raw='[1, 2', status=400)
        self.assertError(response, 400, 'badRequest', 'Malformed')
        response = self.send('post', '/mgmt/datastore-versions', [1],
                             admin=True, status=400)
        self.assertError(response, 400, 'badRequest', 'Validation error')

    def test_bad_pagination_parameters(self) -> None:
        for query in ('limit=abc', 'limit=0'):
            response = self.app.get(self.url('/instances?' + query),
                                    headers=self.headers(), status=400)
            self.assertError(response, 400, 'badRequest', 'limit')
        response = self.app.get(self.url('/instances?marker=nosuch'),
                                headers=self.headers(), status=404)
        self.assertError(response, 404, 'itemNotFound', 'nosuch')

    def test_request_id_header(self) -> None:
        response = self.get('/flavors')
        self.assertTrue(response.headers['x-openstack-request-id']
                        .startswith('req-'))

    def test_server_bug_is_500_without_internals(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.services.quotas.limits',
            lambda *args: 1 / 0))
        response = self.get('/limits', status=500)
        self.assertError(response, 500, 'instanceFault', 'erred')
        self.assertNotIn('division', response.text)

    def test_json_accept_headers(self) -> None:
        # python-troveclient sends Accept: application/json (regression:
        # pecan answered 406 to it).
        for accept in ('application/json', '*/*',
                       'application/vnd.openstack.trove+json'):
            response = self.app.get(self.url('/flavors'), headers=dict(
                self.headers(), Accept=accept))
            self.assertEqual(200, response.status_int, accept)
        response = self.app.get(self.url('/flavors'), status=406,
                                headers=dict(self.headers(),
                                             Accept='application/xml'))
        self.assertError(response, 406, 'notAcceptable')

    def test_foreign_json_errors_are_rewrapped(self) -> None:
        # keystonemiddleware's 401 body (regression: passed through).
        def keystone_like(environ, start_response):
            start_response('401 Unauthorized', [
                ('Content-Type', 'application/json'),
                ('WWW-Authenticate', 'Keystone uri="http://k/v3"')])
            return [b'{"error": {"code": 401, "title": "Unauthorized", '
                    b'"message": "The request you have made requires '
                    b'authentication."}}']

        app = webtest.TestApp(middleware.FaultWrapper(keystone_like))
        response = app.get('/v1.0/p/flavors', status=401)
        self.assertError(response, 401, 'unauthorized', 'authentication')
        self.assertIn('Keystone', response.headers['WWW-Authenticate'])

    def test_form_content_types_never_reach_a_parser(self) -> None:
        # Found by the schemathesis run: multipart/form-data without a
        # boundary made webob raise, and the API answered 500.
        version = self.make_version()
        headers = dict(self.headers(admin=True),
                       **{'Content-Type': 'multipart/form-data'})
        response = self.app.post(self.url('/mgmt/datastore-versions'),
                                 params='x', headers=headers, status=415)
        self.assertError(response, 415, 'badMediaType')
        response = self.app.delete(
            self.url('/mgmt/datastore-versions/%s' % version['id']),
            headers=headers, status=202)
        self.app.get(self.url('/flavors'), headers=dict(
            self.headers(), **{'Content-Type': 'application/x-www-form-'
                                               'urlencoded'}))
