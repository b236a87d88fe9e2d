"""Tenant isolation: for every route that takes the id of a project's
resource, project B gets 404 or 403 for project A's resource, and the
resource is unchanged. New project-owned resources add rows here."""
from trove_clone.db import api as db_api
from trove_clone.tests.unit.api import base

A, B = 'project-a', 'project-b'


class TenantIsolationTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.send('put', '/mgmt/quotas/%s' % A,
                  {'quotas': {'instances': 7}}, admin=True, status=200)

    def state(self) -> dict:
        return db_api.quota_get_all(self.context, A)

    # (method, path template, body); {a} is project A's resource id.
    ROUTES = [
        ('get', '/mgmt/quotas/{a}', None),
        ('put', '/mgmt/quotas/{a}', {'quotas': {'instances': 100}}),
    ]

    def test_project_b_cannot_reach_project_a(self) -> None:
        before = self.state()
        for method, template, body in self.ROUTES:
            path = template.format(a=A)
            if method == 'get':
                response = self.get(path, project=B, status='*')
            else:
                response = self.send(method, path, body, project=B,
                                     status='*')
            self.assertIn(response.status_int, (403, 404),
                          '%s %s' % (method, path))
            self.assertEqual(before, self.state())
        # And project A still reaches its own.
        quotas = self.get('/mgmt/quotas/%s' % A, project=A).json['quotas']
        self.assertIn(7, [q['limit'] for q in quotas])

    def test_urls_of_another_tenant_are_refused(self) -> None:
        for path in ('/instances', '/datastores', '/flavors', '/limits',
                     '/mgmt/quotas/%s' % A):
            response = self.app.get('/v1.0/%s%s' % (A, path),
                                    headers=self.headers(B), status=403)
            self.assertError(response, 403, 'forbidden')
