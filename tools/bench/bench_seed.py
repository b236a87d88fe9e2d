"""Rows the API benchmarks read, written straight into the control DB.

Shared by ``api.py`` (a trove-api of its own) and ``request_cost.py``
(the WSGI application in-process): the same catalogue and the same
projects, so that both measure the same routes on the same data.
Nothing here goes through the image service or the taskmanager.
"""
from oslo_utils import uuidutils

from trove_clone.common import context
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances

#: A project with no instance and one with INSTANCES of them and
#: CONFIGURATIONS configuration groups.
EMPTY_PROJECT = 'bench-empty'
PROJECT = 'bench-project'
INSTANCES = 100
CONFIGURATIONS = 100
PARAMETERS = 120
DATASTORE = 'mysql'
VERSION = '5.7.29'


def headers(project: str) -> dict:
    """noauth identity headers of a member of ``project``."""
    return {'X-User-Id': 'bench', 'X-Project-Id': project,
            'X-Roles': 'member', 'Accept': 'application/json'}


def seed(admin=None) -> dict:
    """Write the benchmark's rows; returns the ids the routes need:
    ``version_id`` and ``instance_id``."""
    admin = admin or context.admin_context()
    version_ids = {}
    for name, versions in ((DATASTORE, (VERSION, '8.0')),
                           ('postgresql', ('15', '16')),
                           ('redis', ('6.2', '7.0'))):
        ds = db_api.datastore_create_or_update(admin, name)
        for version in versions:
            row = db_api.datastore_version_create(admin, {
                'datastore_id': ds['id'], 'name': version,
                'version': version, 'manager': name,
                'image_tags': 'trove,%s' % name, 'active': True})
            version_ids[(name, version)] = row['id']
        db_api.datastore_set_default_version(
            admin, ds['id'], version_ids[(name, versions[-1])])
    version_id = version_ids[(DATASTORE, VERSION)]
    db_api.config_parameters_replace(admin, version_id, [
        {'name': 'bench_parameter_%03d' % number,
         'restart_required': bool(number % 2),
         'data_type': ('integer', 'string', 'boolean')[number % 3],
         'max_size': '65535' if number % 3 == 0 else None,
         'min_size': '0' if number % 3 == 0 else None}
        for number in range(PARAMETERS)])
    instance_ids = []
    for number in range(INSTANCES):
        instance_id = uuidutils.generate_uuid()
        db_instances.create(admin, {
            'id': instance_id, 'name': 'bench-%03d' % number,
            'tenant_id': PROJECT, 'flavor_id': '1', 'volume_size': 1,
            'datastore_version_id': version_id}, {}, {})
        instance_ids.append(instance_id)
    for number in range(CONFIGURATIONS):
        db_configurations.create(admin, {
            'name': 'bench-group-%03d' % number, 'description': 'bench',
            'tenant_id': PROJECT, 'datastore_version_id': version_id},
            {'max_connections': 100 + number})
    return {'version_id': version_id, 'instance_id': instance_ids[0]}


def routes(ids: dict) -> list[tuple[str, str, str]]:
    """(name, path, project) of every benchmarked GET route."""
    datastore = '/v1.0/%s/datastores/' % PROJECT + DATASTORE
    return [
        ('versions-doc', '/', PROJECT),
        ('datastores', '/v1.0/%s/datastores' % PROJECT, PROJECT),
        ('ds-versions', datastore + '/versions', PROJECT),
        ('parameters', '%s/versions/%s/parameters' % (datastore, VERSION),
         PROJECT),
        ('instances-0', '/v1.0/%s/instances' % EMPTY_PROJECT, EMPTY_PROJECT),
        ('instances-100', '/v1.0/%s/instances' % PROJECT, PROJECT),
        ('instance-show', '/v1.0/%s/instances/%s' % (PROJECT,
                                                     ids['instance_id']),
         PROJECT),
        ('configurations', '/v1.0/%s/configurations' % PROJECT, PROJECT),
    ]
