"""Views of instances."""
from trove_clone.api.controllers import base
from trove_clone.api.views import common
from trove_clone.conf import CONF


def instance(row: dict, version: dict | None) -> dict:
    """InstanceView: the fields of an instance in a list."""
    data = {
        'id': row['id'],
        'name': row['name'],
        'status': row.get('status', 'BUILD'),
        'operating_status': row.get('operating_status', ''),
        'links': base.links('instances', row['id']),
        'flavor': {'id': row['flavor_id'],
                   'links': base.links('flavors', row['flavor_id'])},
        'region': row['region_id'] or CONF.region,
        'created': common.timestamp(row['created']),
        'updated': common.timestamp(row['updated']),
    }
    if version is not None:
        data['datastore'] = {'type': version['datastore_name'],
                             'version': version['name'],
                             'version_number': version['version']}
    if row['volume_size'] is not None:
        data['volume'] = {'size': row['volume_size']}
    return data
