"""The public datastore routes."""
from trove_clone.db import api as db_api
from trove_clone.tests.unit.api import base


class DatastoreRoutesTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.active = self.make_version(name='5.7.29', default=True)
        self.hidden = self.make_version(name='5.7.30', active=False)
        self.make_version(datastore='redis', name='7.0', manager='redis',
                          active=False)

    def test_member_sees_active_versions_only(self) -> None:
        body = self.get('/datastores').json
        self.assertEqual(['mysql'], [ds['name'] for ds in body['datastores']])
        ds = body['datastores'][0]
        self.assertEqual([self.active['id']],
                         [v['id'] for v in ds['versions']])
        self.assertEqual(self.active['id'], ds['default_version'])
        self.assertNotIn('image', ds['versions'][0])
        self.assertEqual('self', ds['links'][0]['rel'])
        self.assertIn('/v1.0/project-a/datastores/%s' % ds['id'],
                      ds['links'][0]['href'])

    def test_admin_sees_everything_with_admin_fields(self) -> None:
        body = self.get('/datastores', admin=True).json
        names = sorted(ds['name'] for ds in body['datastores'])
        self.assertEqual(['mysql', 'redis'], names)
        mysql = [ds for ds in body['datastores'] if ds['name'] == 'mysql'][0]
        self.assertEqual(2, len(mysql['versions']))
        version = mysql['versions'][0]
        self.assertEqual(base.IMAGE_ID, version['image'])
        self.assertIn('active', version)

    def test_show_by_name_and_id(self) -> None:
        by_name = self.get('/datastores/mysql').json['datastore']
        by_id = self.get('/datastores/%s' % by_name['id']).json['datastore']
        self.assertEqual(by_name, by_id)

    def test_show_datastore_without_active_version_hidden(self) -> None:
        response = self.get('/datastores/redis', status=404)
        self.assertError(response, 404, 'itemNotFound', 'redis')
        self.get('/datastores/redis', admin=True)

    def test_version_list_and_show(self) -> None:
        versions = self.get('/datastores/mysql/versions').json['versions']
        self.assertEqual(['5.7.29'], [v['name'] for v in versions])
        self.assertEqual('5.7.29', versions[0]['version'])
        by_name = self.get('/datastores/mysql/versions/5.7.29').json
        by_id = self.get('/datastores/mysql/versions/%s'
                         % self.active['id']).json
        by_uuid = self.get('/datastores/versions/%s'
                           % self.active['id']).json
        self.assertEqual(by_name, by_id)
        self.assertEqual(by_name, by_uuid)
        self.assertEqual(self.active['datastore_id'],
                         by_name['version']['datastore'])

    def test_inactive_version_hidden_from_members(self) -> None:
        self.get('/datastores/mysql/versions/5.7.30', status=404)
        self.get('/datastores/versions/%s' % self.hidden['id'], status=404)
        self.get('/datastores/mysql/versions/5.7.30', admin=True)

    def test_unknown_version_and_datastore(self) -> None:
        self.assertError(self.get('/datastores/mysql/versions/9.9',
                                  status=404), 404, 'itemNotFound', '9.9')
        self.assertError(self.get('/datastores/nosuch/versions',
                                  status=404), 404, 'itemNotFound', 'nosuch')
        self.assertError(self.get('/datastores/versions/%s' % base.IMAGE_ID,
                                  status=404), 404, 'itemNotFound')

    def test_same_name_different_numbers_needs_disambiguation(self) -> None:
        self.make_version(name='5.7', version_number='5.7.29')
        self.make_version(name='5.7', version_number='5.7.30')
        response = self.get('/datastores/mysql/versions/5.7', status=400)
        self.assertError(response, 400, 'badRequest', '5.7.29, 5.7.30')
        versions = self.get('/datastores/mysql/versions').json['versions']
        self.assertEqual(3, len(versions))

    def test_write_methods_are_refused(self) -> None:
        for method in ('post', 'put', 'delete'):
            response = self.send(method, '/datastores/mysql/versions', {},
                                 status=405)
            self.assertError(response, 405, 'badMethod')
        self.assertEqual(3, len(db_api.datastore_version_list(self.context)))

    def test_delete_datastore_admin_only_and_empty_only(self) -> None:
        response = self.send('delete', '/datastores/redis', status=403)
        self.assertError(response, 403, 'forbidden', 'datastore:delete')
        response = self.send('delete', '/datastores/redis', admin=True,
                             status=400)
        self.assertError(response, 400, 'badRequest', 'has versions')
        self.assertEqual(2, len(db_api.datastore_list(self.context)))


class ParameterRoutesTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version(name='5.7.29')
        db_api.config_parameters_replace(self.context, self.version['id'], [
            {'name': 'max_binlog_cache_size', 'restart_required': False,
             'data_type': 'integer', 'min_size': '4096',
             'max_size': '18446744073709551615'},
            {'name': 'innodb_buffer_pool_size', 'restart_required': True,
             'data_type': 'integer', 'min_size': '0',
             'max_size': '68719476736'},
            {'name': 'sql_mode', 'restart_required': False,
             'data_type': 'string', 'min_size': None, 'max_size': None},
        ])

    def test_list_by_datastore_and_by_version(self) -> None:
        by_ds = self.get('/datastores/mysql/versions/5.7.29/parameters').json
        by_id = self.get('/datastores/versions/%s/parameters'
                         % self.version['id']).json
        self.assertEqual(by_ds, by_id)
        params = {p['name']: p for p in by_ds['configuration-parameters']}
        self.assertEqual(18446744073709551615,
                         params['max_binlog_cache_size']['max'])
        self.assertEqual(0, params['innodb_buffer_pool_size']['min'])
        self.assertTrue(params['innodb_buffer_pool_size']['restart_required'])
        self.assertNotIn('max', params['sql_mode'])

    def test_show_parameter(self) -> None:
        param = self.get('/datastores/mysql/versions/5.7.29/parameters/'
                         'sql_mode').json
        self.assertEqual('string', param['type'])
        same = self.get('/datastores/versions/%s/parameters/sql_mode'
                        % self.version['id']).json
        self.assertEqual(param, same)

    def test_unknown_parameter(self) -> None:
        response = self.get('/datastores/mysql/versions/5.7.29/parameters/'
                            'nosuch', status=404)
        self.assertError(response, 404, 'itemNotFound', 'nosuch')


class FlavorRoutesTest(base.ApiTestCase):

    def test_list_and_show(self) -> None:
        flavors = self.get('/flavors').json['flavors']
        self.assertIn('m1.small', [f['name'] for f in flavors])
        flavor = self.get('/flavors/2').json['flavor']
        self.assertEqual({'id': 2, 'str_id': '2', 'name': 'm1.small',
                          'ram': 1024, 'vcpus': 1, 'disk': 5,
                          'ephemeral': 0},
                         {k: v for k, v in flavor.items() if k != 'links'})

    def test_unknown_flavor(self) -> None:
        self.assertError(self.get('/flavors/999', status=404), 404,
                         'itemNotFound', '999')

    def test_flavors_of_a_version_follow_associations(self) -> None:
        version = self.make_version()
        path = '/datastores/mysql/versions/%s/flavors' % version['id']
        self.assertEqual(len(self.get('/flavors').json['flavors']),
                         len(self.get(path).json['flavors']))
        db_api.version_metadata_add(self.context, version['id'], 'flavor',
                                    ['2', '3'])
        self.assertEqual(['2', '3'], [f['str_id'] for f in
                                      self.get(path).json['flavors']])


class LimitsTest(base.ApiTestCase):

    def test_limits_show_quota_and_rates(self) -> None:
        limits = self.get('/limits').json['limits']
        self.assertEqual('ABSOLUTE', limits[0]['verb'])
        self.assertEqual(10, limits[0]['max_instances'])
        verbs = [limit['verb'] for limit in limits[1:]]
        self.assertEqual(['POST', 'PUT', 'DELETE', 'GET', 'POST'], verbs)

    def test_rate_limit_answers_413(self) -> None:
        self.conf.config(http_get_rate=3)
        for _ in range(3):
            self.get('/flavors')
        response = self.get('/flavors', status=413)
        self.assertError(response, 413, 'overLimit', 'rate-limited')
        self.assertIn('Retry-After', response.headers)
        self.get('/flavors', project='project-b')


class CachedListingTest(base.ApiTestCase):

    def test_rendered_listing_is_per_project_and_role(self) -> None:
        self.conf.config(datastore_cache_ttl=3600)
        self.make_version(name='5.7.29')
        self.make_version(name='hidden', active=False)
        as_a = self.get('/datastores').json
        as_b = self.get('/datastores', project='project-b').json
        as_admin = self.get('/datastores', admin=True).json
        self.assertIn('/v1.0/project-a/', as_a['datastores'][0]['links'][0][
            'href'])
        self.assertIn('/v1.0/project-b/', as_b['datastores'][0]['links'][0][
            'href'])
        self.assertEqual(1, len(as_a['datastores'][0]['versions']))
        self.assertEqual(2, len(as_admin['datastores'][0]['versions']))
        self.assertEqual(as_a, self.get('/datastores').json)
        self.make_version(name='8.0')
        names = [v['name'] for v in
                 self.get('/datastores').json['datastores'][0]['versions']]
        self.assertEqual(['5.7.29', '8.0'], names)
