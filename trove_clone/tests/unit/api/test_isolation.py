"""Tenant isolation: for every route that takes the id of a project's
resource, project B gets 404 or 403 for project A's resource, and the
resource is unchanged. New project-owned resources add rows here."""
import fixtures

from trove_clone.api import routes
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.tests.unit.api import base
from trove_clone.tests.unit.api import test_instances

A, B = 'project-a', 'project-b'


class TenantIsolationTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.send('put', '/mgmt/quotas/%s' % A,
                  {'quotas': {'instances': 7}}, admin=True, status=200)
        self.make_version(default=True)
        self.tasks = test_instances.RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks',
            lambda: self.tasks))
        self.instance_id = self.send('POST', '/instances', {'instance': {
            'name': 'a-db', 'flavorRef': '1', 'volume': {'size': 1},
            'datastore': {'type': 'mysql'}}}, project=A,
            status=200).json['instance']['id']
        db_instances.set_task(self.context, self.instance_id,
                              statuses.NONE, server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, self.instance_id,
                                      statuses.HEALTHY, 1.0)

    def state(self) -> dict:
        row = db_instances.get(self.context, self.instance_id)
        return {'quotas': db_api.quota_get_all(self.context, A),
                'instance': (row['name'], row['task_id'],
                             row['service_status'], row['volume_size'],
                             row['flavor_id'], row['deleted'])}

    def instance_routes(self) -> list:
        """Every member route under /instances/{instance_id}, with a
        body that would pass validation."""
        bodies = {
            ('PUT', '/instances/{instance_id}'): {'instance': {'name': 'x'}},
            ('PATCH', '/instances/{instance_id}'): {'instance': {
                'name': 'x'}},
            ('POST', '/instances/{instance_id}/action'): {'restart': {}},
            ('POST', '/instances/{instance_id}/databases'): {
                'databases': [{'name': 'x'}]},
            ('POST', '/instances/{instance_id}/users'): {
                'users': [{'name': 'x', 'password': 'p'}]},
            ('PUT', '/instances/{instance_id}/users'): {
                'users': [{'name': 'x', 'password': 'p'}]},
            ('PUT', '/instances/{instance_id}/users/{user}'): {
                'user': {'password': 'p'}},
            ('PUT', '/instances/{instance_id}/users/{user}/databases'): {
                'databases': [{'name': 'x'}]},
            ('POST', '/instances/{instance_id}/log'): {'name': 'general'},
            ('POST', '/instances/{instance_id}/modules'): {
                'modules': [{'id': '0c0ffee0-0000-4000-8000-00000000000d'}]},
        }
        found = []
        for route in routes.ROUTES:
            if not route.path.startswith('/instances/{instance_id}'):
                continue
            body = bodies.get((route.method, route.path))
            if route.method in ('POST', 'PUT', 'PATCH') and body is None \
                    and route.request_schema is not None and \
                    route.path != '/instances/{instance_id}/root':
                self.fail('no body for %s %s' % (route.method, route.path))
            found.append((route.method.lower(), route.path.format(
                instance_id='{a}', user='x', database='x',
                module_id='0c0ffee0-0000-4000-8000-00000000000d'), body))
        return found

    # (method, path template, body); {a} is project A's resource id.
    ROUTES = [
        ('get', '/mgmt/quotas/{a}', None),
        ('put', '/mgmt/quotas/{a}', {'quotas': {'instances': 100}}),
    ]

    def test_project_b_cannot_reach_project_a(self) -> None:
        before = self.state()
        checked = self.ROUTES + self.instance_routes()
        self.assertGreater(len(checked), 20)
        for method, template, body in checked:
            path = template.format(a=self.instance_id if 'instances' in
                                   template else A)
            if method == 'get':
                response = self.get(path, project=B, status='*')
            else:
                response = self.send(method, path, body, project=B,
                                     status='*')
            self.assertIn(response.status_int, (403, 404),
                          '%s %s' % (method, path))
            self.assertEqual(before, self.state(), '%s %s' % (method,
                                                              path))
        self.assertEqual(['create_instance'],
                         [call[0] for call in self.tasks.calls])
        # And project A still reaches its own.
        quotas = self.get('/mgmt/quotas/%s' % A, project=A).json['quotas']
        self.assertIn(7, [q['limit'] for q in quotas])

    def test_urls_of_another_tenant_are_refused(self) -> None:
        for path in ('/instances', '/datastores', '/flavors', '/limits',
                     '/mgmt/quotas/%s' % A):
            response = self.app.get('/v1.0/%s%s' % (A, path),
                                    headers=self.headers(B), status=403)
            self.assertError(response, 403, 'forbidden')
