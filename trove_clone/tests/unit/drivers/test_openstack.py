"""The openstack backend against recorded Nova and Cinder responses."""
import copy

from keystoneauth1 import session as ks_session
from requests_mock.contrib import fixture as requests_fixture
import yaml

from trove_clone.common import exception
from trove_clone.drivers.compute import openstack as nova_driver
from trove_clone.drivers.flavor import openstack as flavor_driver
from trove_clone.drivers import openstack_auth
from trove_clone.drivers.volume import openstack as cinder_driver
from trove_clone.tests.unit import base
from trove_clone.tests.unit.drivers import contracts
from trove_clone.tests.unit.drivers import fake_cloud
from trove_clone.tests.unit.drivers import recorded as rec


class OpenStackBackendTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(auth_url=rec.AUTH_URL, password='secret',
                         group='service_credentials')
        openstack_auth.session.cache_clear()
        self.addCleanup(openstack_auth.session.cache_clear)
        self.http = self.useFixture(requests_fixture.Fixture())
        body, token = rec.token()
        self.http.post(rec.AUTH_URL + '/auth/tokens', json=body,
                       headers={'X-Subject-Token': token})
        self.http.get(rec.NOVA + '/servers/%s' % rec.SERVER_ID,
                      json={'server': rec.SERVER})
        self.http.get(rec.NOVA + '/servers/nosuch', status_code=404,
                      json=rec.NOT_FOUND)

    def test_session_from_service_credentials(self) -> None:
        self.assertIsInstance(openstack_auth.session(), ks_session.Session)
        self.conf.config(password=None, group='service_credentials')
        openstack_auth.session.cache_clear()
        self.assertRaises(exception.TroveError, openstack_auth.session)

    def test_server_create_show_and_delete(self) -> None:
        self.http.post(rec.NOVA + '/servers', status_code=202, json={
            'server': {'id': rec.SERVER_ID, 'links': [],
                       'adminPass': 'x', 'security_groups': []}})
        self.http.delete(rec.NOVA + '/servers/%s' % rec.SERVER_ID,
                         status_code=204)
        driver = nova_driver.NovaComputeDriver()
        server = driver.create('db-1', rec.IMAGE_ID, '2', rec.VOLUME_ID,
                               {'/etc/trove/conf.d/guest_info.conf':
                                '[DEFAULT]\nguest_id = 1\n'})
        sent = self.http.request_history[1].json()['server']
        self.assertEqual(rec.IMAGE_ID, sent['imageRef'])
        self.assertTrue(sent['config_drive'])
        self.assertEqual('auto', sent['networks'])
        volumes = [mapping for mapping in sent['block_device_mapping_v2']
                   if mapping['source_type'] == 'volume']
        self.assertEqual([rec.VOLUME_ID], [m['uuid'] for m in volumes])
        self.assertFalse(volumes[0]['delete_on_termination'])
        self.assertEqual({'trove_instance': 'true'}, sent['metadata'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertEqual([{'address': '10.0.0.5', 'network': 'private',
                           'type': 'private'},
                          {'address': '172.24.4.10', 'network': 'private',
                           'type': 'public'}], server['addresses'])
        self.assertEqual(rec.VOLUME_ID, server['volume_id'])
        driver.delete(rec.SERVER_ID)
        self.assertEqual('DELETE', self.http.last_request.method)
        self.assertRaises(exception.ServerNotFound, driver.get, 'nosuch')

    def test_user_data_writes_the_guest_files(self) -> None:
        document = nova_driver.cloud_config({'/etc/trove/a.conf': 'x=1\n'})
        self.assertTrue(document.startswith('#cloud-config\n'))
        files = yaml.safe_load(document)['write_files']
        self.assertEqual([{'path': '/etc/trove/a.conf', 'content': 'x=1\n',
                           'permissions': '0600'}], files)

    def test_resize_confirms(self) -> None:
        verify = dict(copy.deepcopy(rec.SERVER), status='VERIFY_RESIZE')
        self.http.get(rec.NOVA + '/servers/%s' % rec.SERVER_ID, [
            {'json': {'server': rec.SERVER}},
            {'json': {'server': verify}},
            {'json': {'server': rec.SERVER}},
            {'json': {'server': rec.SERVER}}])
        self.http.post(rec.NOVA + '/servers/%s/action' % rec.SERVER_ID,
                       status_code=202, text='')
        server = nova_driver.NovaComputeDriver().resize(rec.SERVER_ID, '2')
        actions = [list(request.json()) for request in
                   self.http.request_history if request.method == 'POST'
                   and request.url.endswith('/action')]
        self.assertEqual([['resize'], ['confirmResize']], actions)
        self.assertEqual('ACTIVE', server['status'])

    def test_flavors(self) -> None:
        self.http.get(rec.NOVA + '/flavors/detail',
                      json={'flavors': rec.FLAVORS})
        self.http.get(rec.NOVA + '/flavors/2', json={'flavor':
                                                     rec.FLAVORS[1]})
        self.http.get(rec.NOVA + '/flavors/9', status_code=404,
                      json={'itemNotFound': {'code': 404,
                                             'message': 'Flavor 9 could '
                                                        'not be found.'}})
        driver = flavor_driver.NovaFlavorDriver()
        self.assertEqual(['m1.tiny', 'm1.small'],
                         [flavor['name'] for flavor in driver.list()])
        self.assertEqual(2048, driver.get('2')['ram'])
        self.assertRaises(exception.FlavorNotFound, driver.get, '9')

    def test_volumes(self) -> None:
        volume_url = rec.CINDER + '/volumes/%s' % rec.VOLUME_ID
        self.http.get(volume_url, json={'volume': rec.VOLUME})
        self.http.post(rec.CINDER + '/volumes', status_code=202,
                       json={'volume': dict(rec.VOLUME, status='creating',
                                            attachments=[])})
        self.http.post(volume_url + '/action', status_code=202, text='')
        self.http.get(rec.CINDER + '/volumes/nosuch', status_code=404,
                      json={'itemNotFound': {'code': 404,
                                             'message': 'not found'}})
        driver = cinder_driver.CinderVolumeDriver()
        created = driver.create(5, 'db-1-data')
        self.assertEqual('creating', created['status'])
        volume = driver.get(rec.VOLUME_ID)
        self.assertEqual(rec.SERVER_ID, volume['attached_to'])
        self.assertEqual('/dev/vdb', volume['mountpoint'])
        driver.extend(rec.VOLUME_ID, 10)
        actions = [request.json() for request in self.http.request_history
                   if request.url.endswith('/action')]
        self.assertEqual([{'os-extend': {'new_size': 10}}], actions)
        self.assertRaises(exception.BadRequest, driver.extend,
                          rec.VOLUME_ID, 5)
        self.assertRaises(exception.BadRequest, driver.create, 0, 'x')
        self.assertRaises(exception.VolumeNotFound, driver.get, 'nosuch')
        self.assertEqual(5 * 1024 ** 3, driver.usage(rec.VOLUME_ID)['total'])


class _FakeCloudTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(auth_url=rec.AUTH_URL, password='secret',
                         group='service_credentials')
        openstack_auth.session.cache_clear()
        self.addCleanup(openstack_auth.session.cache_clear)
        http = self.useFixture(requests_fixture.Fixture())
        body, token = rec.token()
        http.post(rec.AUTH_URL + '/auth/tokens', json=body,
                  headers={'X-Subject-Token': token})
        self.nova = fake_cloud.FakeNova(http)
        self.cinder = fake_cloud.FakeCinder(http)


class NovaComputeContractTest(contracts.ComputeContract, _FakeCloudTest):

    image_ids = (rec.IMAGE_ID, '9b2f1d3c-0000-4000-8000-000000000001')
    flavor_ids = ('1', '2')

    def setUp(self) -> None:
        super().setUp()
        self.compute = nova_driver.NovaComputeDriver()


class CinderVolumeContractTest(contracts.VolumeApiContract, _FakeCloudTest):

    def setUp(self) -> None:
        super().setUp()
        self.volumes = cinder_driver.CinderVolumeDriver()
