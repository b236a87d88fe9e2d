"""API responses of Nova and Cinder (2.57 / v3) as a real cloud answers,
for the openstack backend's tests."""
from keystoneauth1 import fixture as ks_fixture

AUTH_URL = 'http://keystone.test/v3'
NOVA = 'http://nova.test/v2.1'
CINDER = 'http://cinder.test/v3/project-1'
PROJECT = 'project-1'
SERVER_ID = '2f6c9a35-7d1c-4d34-a8a4-3e6c6a0b1f01'
VOLUME_ID = '7a1d8b5e-6f0a-4f6c-9e1b-1c2d3e4f5a60'
IMAGE_ID = '5a5e0d1c-7f1b-4bd2-9f0e-1c2d3e4f5a6b'


def token() -> tuple[dict, str]:
    body = ks_fixture.V3Token(project_id=PROJECT, project_name='service',
                              user_name='trove')
    service = body.add_service('compute')
    service.add_standard_endpoints(public=NOVA, region='RegionOne')
    service = body.add_service('volumev3')
    service.add_standard_endpoints(public=CINDER, region='RegionOne')
    service = body.add_service('image')
    service.add_standard_endpoints(public='http://glance.test',
                                   region='RegionOne')
    return body, 'token-1'


SERVER = {
    'id': SERVER_ID, 'name': 'db-1', 'status': 'ACTIVE',
    'created': '2026-11-22T10:00:00Z', 'updated': '2026-11-22T10:00:30Z',
    'tenant_id': PROJECT, 'user_id': 'trove', 'metadata': {
        'trove_instance': 'true'},
    'image': {'id': IMAGE_ID, 'links': []},
    'flavor': {'id': '2', 'links': []},
    'addresses': {'private': [
        {'addr': '10.0.0.5', 'version': 4, 'OS-EXT-IPS:type': 'fixed',
         'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'},
        {'addr': 'fd00::5', 'version': 6, 'OS-EXT-IPS:type': 'fixed',
         'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'},
        {'addr': '172.24.4.10', 'version': 4,
         'OS-EXT-IPS:type': 'floating',
         'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01'}]},
    'os-extended-volumes:volumes_attached': [
        {'id': VOLUME_ID, 'delete_on_termination': False}],
    'links': [], 'OS-EXT-STS:task_state': None,
    'OS-EXT-STS:vm_state': 'active', 'config_drive': 'True',
}

NOT_FOUND = {'itemNotFound': {'code': 404,
                              'message': 'Instance could not be found.'}}

FLAVORS = [
    {'id': '1', 'name': 'm1.tiny', 'ram': 512, 'vcpus': 1, 'disk': 1,
     'OS-FLV-EXT-DATA:ephemeral': 0, 'links': [], 'swap': '',
     'rxtx_factor': 1.0, 'os-flavor-access:is_public': True},
    {'id': '2', 'name': 'm1.small', 'ram': 2048, 'vcpus': 1, 'disk': 20,
     'OS-FLV-EXT-DATA:ephemeral': 0, 'links': [], 'swap': '',
     'rxtx_factor': 1.0, 'os-flavor-access:is_public': True},
]

VOLUME = {
    'id': VOLUME_ID, 'name': 'db-1-data', 'size': 5, 'status': 'in-use',
    'attachments': [{'server_id': SERVER_ID, 'device': '/dev/vdb',
                     'attachment_id': 'a-1', 'volume_id': VOLUME_ID,
                     'id': VOLUME_ID, 'host_name': None}],
    'availability_zone': 'nova', 'bootable': 'false',
    'created_at': '2026-11-22T10:00:00.000000', 'volume_type': 'lvmdriver-1',
    'links': [], 'metadata': {}, 'multiattach': False, 'encrypted': False,
}
