"""The mgmt routes: datastore versions, parameters, quotas, instances."""
from trove_clone.db import api as db_api
from trove_clone.tests.unit.api import base

CREATE = {'version': {'name': '5.7.29', 'datastore_name': 'mysql',
                      'datastore_manager': 'mysql', 'image': '',
                      'image_tags': ['trove', 'mysql'], 'packages': [],
                      'active': True, 'default': True,
                      'version': '5.7.29'}}


class MgmtDatastoreVersionsTest(base.ApiTestCase):

    def dump(self) -> list:
        return (db_api.datastore_list(self.context),
                db_api.datastore_version_list(self.context))

    def test_create_makes_datastore_and_default(self) -> None:
        response = self.send('post', '/mgmt/datastore-versions', CREATE,
                             admin=True)
        self.assertEqual(b'', response.body)
        versions = self.get('/mgmt/datastore-versions',
                            admin=True).json['versions']
        self.assertEqual(1, len(versions))
        version = versions[0]
        self.assertEqual(['trove', 'mysql'], version['image_tags'])
        self.assertEqual('', version['image'])
        self.assertEqual([''], version['packages'])
        self.assertTrue(version['default'])
        self.assertEqual('mysql', version['datastore_name'])
        ds = self.get('/datastores/mysql').json['datastore']
        self.assertEqual(version['id'], ds['default_version'])
        shown = self.get('/mgmt/datastore-versions/%s' % version['id'],
                         admin=True).json['version']
        self.assertEqual(version, shown)

    def test_create_duplicate_refused(self) -> None:
        self.send('post', '/mgmt/datastore-versions', CREATE, admin=True)
        before = self.dump()
        response = self.send('post', '/mgmt/datastore-versions', CREATE,
                             admin=True, status=400)
        self.assertError(response, 400, 'badRequest', 'already exists')
        self.assertEqual(before, self.dump())

    def test_same_name_other_number_and_same_number_other_name(self) -> None:
        self.send('post', '/mgmt/datastore-versions', CREATE, admin=True)
        other_number = {'version': dict(CREATE['version'], version='5.7.30',
                                        default=False)}
        other_name = {'version': dict(CREATE['version'], name='mysql-5.7',
                                      default=False)}
        self.send('post', '/mgmt/datastore-versions', other_number,
                  admin=True)
        self.send('post', '/mgmt/datastore-versions', other_name,
                  admin=True)
        versions = self.get('/mgmt/datastore-versions',
                            admin=True).json['versions']
        self.assertEqual([('5.7.29', '5.7.29'), ('5.7.29', '5.7.30'),
                          ('mysql-5.7', '5.7.29')],
                         sorted((v['name'], v['version']) for v in versions))

    def test_create_bad_input_changes_nothing(self) -> None:
        cases = [
            ({'version': dict(CREATE['version'], image='',
                              image_tags=['nosuch'])}, 404, 'itemNotFound',
             'nosuch'),
            ({'version': dict(CREATE['version'], image_tags=[])}, 400,
             'badRequest', 'image id or image tags'),
            ({'version': dict(CREATE['version'], active='yes')}, 400,
             'badRequest', 'version/active'),
            ({'version': dict(CREATE['version'], bogus=1)}, 400,
             'badRequest', 'bogus'),
            ({'version': {k: v for k, v in CREATE['version'].items()
                          if k != 'name'}}, 400, 'badRequest', "'name'"),
            ({'version': dict(CREATE['version'], active=False)}, 400,
             'badRequest', 'not active'),
            ({'version': dict(CREATE['version'],
                              image=base.OTHER_IMAGE_ID)}, 404,
             'itemNotFound', base.OTHER_IMAGE_ID),
        ]
        for body, code, name, text in cases:
            response = self.send('post', '/mgmt/datastore-versions', body,
                                 admin=True, status=code)
            self.assertError(response, code, name, text)
            self.assertEqual(([], []), self.dump())

    def test_malformed_json(self) -> None:
        response = self.send('post', '/mgmt/datastore-versions', admin=True,
                             raw='{"version": ', status=400)
        self.assertError(response, 400, 'badRequest', 'Malformed')

    def test_patch_disable_and_switch_to_tags(self) -> None:
        version = self.make_version(default=True)
        self.send('patch', '/mgmt/datastore-versions/%s' % version['id'],
                  {'active': False}, admin=True)
        shown = db_api.datastore_version_get(self.context, version['id'])
        self.assertFalse(shown['active'])
        # Trove: a disabled default stays the default.
        self.assertTrue(shown['default'])
        self.assertEqual([], self.get('/datastores/mysql/versions',
                                      status=404).json.get('versions', []))
        self.send('patch', '/mgmt/datastore-versions/%s' % version['id'],
                  {'image_tags': ['trove', 'mysql']}, admin=True)
        shown = db_api.datastore_version_get(self.context, version['id'])
        self.assertIsNone(shown['image_id'])
        self.assertEqual('trove,mysql', shown['image_tags'])

    def test_patch_bad_input(self) -> None:
        version = self.make_version()
        path = '/mgmt/datastore-versions/%s' % version['id']
        before = self.dump()
        self.assertError(self.send('patch', path, {'active': 'no'},
                                   admin=True, status=400), 400,
                         'badRequest', 'active')
        self.assertError(self.send('patch', path, {},
                                   admin=True, status=400), 400,
                         'badRequest')
        self.assertError(self.send('patch', path, {'image_tags': ['x']},
                                   admin=True, status=404), 404,
                         'itemNotFound', 'x')
        self.assertError(self.send(
            'patch', '/mgmt/datastore-versions/%s' % base.IMAGE_ID,
            {'active': True}, admin=True, status=404), 404, 'itemNotFound')
        self.assertEqual(before, self.dump())

    def test_delete(self) -> None:
        version = self.make_version(default=True)
        self.send('delete', '/mgmt/datastore-versions/%s' % version['id'],
                  admin=True)
        self.assertEqual([], db_api.datastore_version_list(self.context))
        self.assertIsNone(db_api.datastore_get(
            self.context, 'mysql')['default_version_id'])
        self.send('delete', '/mgmt/datastore-versions/%s' % version['id'],
                  admin=True, status=404)

    def test_members_are_refused(self) -> None:
        version = self.make_version()
        for method, path in [
                ('get', '/mgmt/datastore-versions'),
                ('post', '/mgmt/datastore-versions'),
                ('get', '/mgmt/datastore-versions/%s' % version['id']),
                ('patch', '/mgmt/datastore-versions/%s' % version['id']),
                ('delete', '/mgmt/datastore-versions/%s' % version['id']),
                ('get', '/mgmt/instances')]:
            response = self.send(method, path, CREATE, status=403)
            self.assertError(response, 403, 'forbidden', 'administrators')
        self.assertEqual(1, len(db_api.datastore_version_list(self.context)))

    def test_pagination(self) -> None:
        for number in range(5):
            self.make_version(name='v%d' % number)
        page = self.app.get(self.url('/mgmt/datastore-versions?limit=2'),
                            headers=self.headers(admin=True)).json
        self.assertEqual(2, len(page['versions']))
        self.assertEqual('next', page['links'][0]['rel'])
        self.assertIn('marker=%s' % page['versions'][1]['id'],
                      page['links'][0]['href'])


class MgmtParametersTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version()
        self.path = ('/mgmt/datastores/versions/%s/parameters'
                     % self.version['id'])

    def body(self, **values) -> dict:
        param = {'name': 'max_connections', 'restart_required': 0,
                 'data_type': 'integer', 'min_size': 1, 'max_size': 100000}
        param.update(values)
        return {'configuration-parameter': param}

    def test_crud(self) -> None:
        created = self.send('post', self.path, self.body(), admin=True,
                            status=200).json
        self.assertEqual(100000, created['max_size'])
        self.assertFalse(created['restart_required'])
        self.assertEqual([created], self.get(
            self.path, admin=True).json['configuration-parameters'])
        updated = self.send('put', self.path + '/max_connections',
                            self.body(restart_required=1, max_size=500),
                            admin=True, status=200).json
        self.assertTrue(updated['restart_required'])
        self.assertEqual(500, updated['max_size'])
        self.send('delete', self.path + '/max_connections', admin=True,
                  status=204)
        self.get(self.path + '/max_connections', admin=True, status=404)

    def test_bad_input(self) -> None:
        self.send('post', self.path, self.body(), admin=True, status=200)
        before = db_api.config_parameter_list(self.context,
                                              self.version['id'])
        self.assertError(self.send('post', self.path, self.body(),
                                   admin=True, status=400), 400,
                         'badRequest', 'already exists')
        self.assertError(self.send('post', self.path,
                                   self.body(data_type='int'), admin=True,
                                   status=400), 400, 'badRequest',
                         'data_type')
        self.assertError(self.send('post', self.path,
                                   self.body(max_size='big'), admin=True,
                                   status=400), 400, 'badRequest',
                         'max_size')
        self.assertError(self.send(
            'post', '/mgmt/datastores/versions/%s/parameters'
            % base.IMAGE_ID, self.body(name='x'), admin=True, status=404),
            404, 'itemNotFound')
        self.assertEqual(before, db_api.config_parameter_list(
            self.context, self.version['id']))


class MgmtQuotasTest(base.ApiTestCase):

    def test_show_defaults_and_update(self) -> None:
        quotas = self.get('/mgmt/quotas/project-a').json['quotas']
        self.assertEqual({'instances': 10, 'ram': -1, 'volumes': 40,
                          'backups': 50},
                         {q['resource']: q['limit'] for q in quotas})
        response = self.send('put', '/mgmt/quotas/project-b',
                             {'quotas': {'instances': 3}}, admin=True,
                             status=200)
        self.assertEqual({'quotas': {'instances': 3}}, response.json)
        quotas = self.get('/mgmt/quotas/project-b', admin=True).json
        self.assertIn({'resource': 'instances', 'in_use': 0, 'reserved': 0,
                       'limit': 3}, quotas['quotas'])
        limits = self.get('/limits', project='project-b').json['limits']
        self.assertEqual(3, limits[0]['max_instances'])

    def test_member_may_not_update_or_read_others(self) -> None:
        self.send('put', '/mgmt/quotas/project-a',
                  {'quotas': {'instances': 100}}, status=403)
        self.get('/mgmt/quotas/project-b', status=403)
        self.assertEqual({}, db_api.quota_get_all(self.context, 'project-a'))

    def test_bad_input(self) -> None:
        for body in ({'quotas': {'cores': 3}}, {'quotas': {'ram': -2}},
                     {'quotas': {'ram': 'lots'}}, {'quota': {}}):
            response = self.send('put', '/mgmt/quotas/project-a', body,
                                 admin=True, status=400)
            self.assertError(response, 400, 'badRequest', 'quota')
        self.assertEqual({}, db_api.quota_get_all(self.context, 'project-a'))
