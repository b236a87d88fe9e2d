"""Base class of the API tests: the whole WSGI app under WebTest."""
import json

from oslo_utils import uuidutils
import webtest

from trove_clone.api import app as api_app
from trove_clone.db import instances as db_instances
from trove_clone.services import datastores as datastore_service
from trove_clone.tests.unit import base

IMAGE_ID = '8d3a1ab4-3cb8-4f2c-9a7e-0e1e5a1f3a10'
OTHER_IMAGE_ID = '0c43cd7a-1b4c-4d80-9e31-7e0c3a0d6a22'


class ApiTestCase(base.TestCase):

    project = 'project-a'

    def setUp(self) -> None:
        super().setUp()
        self.app = webtest.TestApp(api_app.build_app())
        self.images.add(IMAGE_ID, tags=['trove', 'mysql'])

    def headers(self, project: str | None = None, admin: bool = False,
                user: str = 'user-1') -> dict:
        return {'X-User-Id': user, 'X-Project-Id': project or self.project,
                'X-Roles': 'admin,member' if admin else 'member'}

    def url(self, path: str, project: str | None = None) -> str:
        return '/v1.0/%s%s' % (project or self.project, path)

    def get(self, path: str, status: int = 200, admin: bool = False,
            project: str | None = None):
        return self.app.get(self.url(path, project),
                            headers=self.headers(project, admin),
                            status=status)

    def send(self, method: str, path: str, body=None, status: int = 202,
             admin: bool = False, project: str | None = None, raw=None):
        call = getattr(self.app, method.lower())
        headers = self.headers(project, admin)
        if raw is not None:
            headers['Content-Type'] = 'application/json'
            return call(self.url(path, project), params=raw,
                        headers=headers, status=status)
        headers['Content-Type'] = 'application/json'
        params = json.dumps(body) if body is not None else ''
        return call(self.url(path, project), params=params,
                    headers=headers, status=status)

    def assertError(self, response, code: int, name: str,
                    contains: str = '') -> None:
        self.assertEqual(code, response.status_int)
        body = response.json
        self.assertEqual([name], list(body))
        self.assertEqual(code, body[name]['code'])
        self.assertIn(contains, body[name]['message'])

    def make_version(self, datastore: str = 'mysql', name: str = '5.7.29',
                     active: bool = True, default: bool = False,
                     version_number: str | None = None,
                     manager: str = 'mysql', image_id: str = IMAGE_ID
                     ) -> dict:
        version, _created = datastore_service.upsert_version(
            self.context, datastore, name, manager, image_id, '', active,
            version_number=version_number, create_datastore=True,
            make_default=default or None)
        return version

    def make_instance(self, version: dict, **values) -> str:
        """A recorded instance (task BUILDING, service NEW) of ``version``;
        ``values`` override its columns. Returns its id."""
        row = {'id': uuidutils.generate_uuid(), 'name': 'i',
               'tenant_id': 'p', 'flavor_id': '1',
               'datastore_version_id': version['id']}
        row.update(values)
        db_instances.create(self.context, row, {}, {})
        return row['id']
