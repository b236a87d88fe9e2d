"""Per route: an unknown id, a malformed body and a wrong type get the
right code and a message naming the problem, and change nothing."""
from trove_clone.db import api as db_api
from trove_clone.tests.unit.api import base

UNKNOWN = '00000000-1111-2222-3333-444444444444'


class BadInputTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(default=True)
        db_api.config_parameters_replace(self.context, self.version['id'], [
            {'name': 'max_connections', 'restart_required': False,
             'data_type': 'integer', 'min_size': '1', 'max_size': '100'}])
        self.vid = self.version['id']

    def dump(self) -> tuple:
        return (db_api.datastore_list(self.context),
                db_api.datastore_version_list(self.context),
                db_api.config_parameter_list(self.context, self.vid),
                db_api.quota_get_all(self.context, 'project-a'))

    def test_unknown_ids(self) -> None:
        paths = [
            '/datastores/%s' % UNKNOWN,
            '/datastores/%s/versions' % UNKNOWN,
            '/datastores/mysql/versions/%s' % UNKNOWN,
            '/datastores/mysql/versions/%s/flavors' % UNKNOWN,
            '/datastores/mysql/versions/%s/volume-types' % UNKNOWN,
            '/datastores/mysql/versions/%s/parameters' % UNKNOWN,
            '/datastores/mysql/versions/5.7.29/parameters/nosuch',
            '/datastores/versions/%s' % UNKNOWN,
            '/datastores/versions/%s/parameters' % UNKNOWN,
            '/datastores/versions/%s/parameters/max_connections' % UNKNOWN,
            '/flavors/%s' % UNKNOWN,
            '/mgmt/datastore-versions/%s' % UNKNOWN,
            '/mgmt/datastores/versions/%s/parameters' % UNKNOWN,
            '/mgmt/datastores/versions/%s/parameters/nosuch' % self.vid,
        ]
        for path in paths:
            response = self.get(path, admin=True, status=404)
            self.assertError(response, 404, 'itemNotFound')
            self.assertNotEqual('The resource could not be found.',
                                response.json['itemNotFound']['message'],
                                path)

    def test_unknown_ids_on_writes(self) -> None:
        before = self.dump()
        for method, path, body in [
                ('patch', '/mgmt/datastore-versions/%s' % UNKNOWN,
                 {'active': True}),
                ('delete', '/mgmt/datastore-versions/%s' % UNKNOWN, None),
                ('put', '/mgmt/datastores/versions/%s/parameters/nosuch'
                 % self.vid, {'configuration-parameter': {
                     'name': 'nosuch', 'restart_required': 0,
                     'data_type': 'string'}}),
                ('delete', '/mgmt/datastores/versions/%s/parameters/nosuch'
                 % self.vid, None),
                ('delete', '/datastores/%s' % UNKNOWN, None)]:
            response = self.send(method, path, body, admin=True, status=404)
            self.assertError(response, 404, 'itemNotFound')
        self.assertEqual(before, self.dump())

    def test_malformed_bodies(self) -> None:
        before = self.dump()
        for method, path in [
                ('post', '/mgmt/datastore-versions'),
                ('patch', '/mgmt/datastore-versions/%s' % self.vid),
                ('post', '/mgmt/datastores/versions/%s/parameters'
                 % self.vid),
                ('put', '/mgmt/datastores/versions/%s/parameters/'
                 'max_connections' % self.vid),
                ('put', '/mgmt/quotas/project-a')]:
            for raw in ('{"unterminated": ', 'not json', '', '[]', '"x"'):
                response = self.send(method, path, admin=True, raw=raw,
                                     status=400)
                self.assertError(response, 400, 'badRequest')
        self.assertEqual(before, self.dump())

    def test_wrong_types_name_the_field(self) -> None:
        before = self.dump()
        param = {'name': 'max_connections', 'restart_required': 0,
                 'data_type': 'integer'}
        cases = [
            ('post', '/mgmt/datastore-versions',
             {'version': {'name': 'x', 'datastore_name': 'mysql',
                          'datastore_manager': 'mysql', 'active': 'true',
                          'image': base.IMAGE_ID}}, 'version/active'),
            ('post', '/mgmt/datastore-versions',
             {'version': {'name': 7, 'datastore_name': 'mysql',
                          'datastore_manager': 'mysql', 'active': True,
                          'image': base.IMAGE_ID}}, 'version/name'),
            ('post', '/mgmt/datastore-versions',
             {'version': {'name': 'x', 'datastore_name': 'mysql',
                          'datastore_manager': 'mysql', 'active': True,
                          'image_tags': 'trove,mysql'}},
             'version/image_tags'),
            ('patch', '/mgmt/datastore-versions/%s' % self.vid,
             {'packages': 'a,b'}, 'packages'),
            ('patch', '/mgmt/datastore-versions/%s' % self.vid,
             {'default': 1}, 'default'),
            ('post', '/mgmt/datastores/versions/%s/parameters' % self.vid,
             {'configuration-parameter': dict(param, restart_required='no')},
             'restart_required'),
            ('put', '/mgmt/datastores/versions/%s/parameters/'
             'max_connections' % self.vid,
             {'configuration-parameter': dict(param, min_size=[1])},
             'min_size'),
            ('put', '/mgmt/quotas/project-a',
             {'quotas': {'instances': '5'}}, 'quotas/instances'),
        ]
        for method, path, body, field in cases:
            response = self.send(method, path, body, admin=True, status=400)
            self.assertError(response, 400, 'badRequest', field)
        self.assertEqual(before, self.dump())
