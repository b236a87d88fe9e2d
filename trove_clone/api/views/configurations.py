"""Views of configuration groups (Trove's shapes)."""
from trove_clone.api.views import common


def summary(group: dict) -> dict:
    version = group['datastore_version']
    return {'id': group['id'], 'name': group['name'],
            'description': group['description'],
            'created': common.timestamp(group['created']),
            'updated': common.timestamp(group['updated']),
            'datastore_version_id': group['datastore_version_id'],
            'datastore_name': version['datastore_name'],
            'datastore_version_name': version['name'],
            'datastore_version_number': version['version']}


def detail(group: dict) -> dict:
    data = summary(group)
    data.update(values=group['values'],
                instance_count=group['instance_count'])
    return data
