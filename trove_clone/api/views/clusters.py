"""Views of clusters (Trove's ClusterView shapes)."""
import json

from trove_clone.api.controllers import base
from trove_clone.api.views import common


def _ips(member: dict) -> list[str]:
    return [address['address'] for address in
            json.loads(member.get('addresses') or '[]')]


def member(row: dict) -> dict:
    """One member in a cluster's ``instances``."""
    data = {
        'id': row['id'], 'name': row['name'],
        'type': row.get('type') or 'member',
        'links': base.links('instances', row['id']),
        'status': row.get('status', 'BUILD'),
        'flavor': {'id': row['flavor_id'],
                   'links': base.links('flavors', row['flavor_id'])},
    }
    if row.get('volume_size') is not None:
        data['volume'] = {'size': row['volume_size']}
    ips = _ips(row)
    if ips:
        data['ip'] = ips
    if row.get('shard_id'):
        data['shard_id'] = row['shard_id']
    return data


def cluster(row: dict) -> dict:
    """A cluster: task, datastore, members and the ``ip`` list of its
    endpoints (every member's address)."""
    version = row['datastore_version']
    task = row['task']
    data = {
        'id': row['id'], 'name': row['name'],
        'task': {'id': task.code, 'name': task.name,
                 'description': task.description},
        'created': common.timestamp(row['created']),
        'updated': common.timestamp(row['updated']),
        'links': base.links('clusters', row['id']),
        'datastore': {'type': version['datastore_name'],
                      'version': version['name']},
        'instances': [member(one) for one in row['members']],
    }
    ips = [ip for one in row['members'] for ip in _ips(one)]
    if ips:
        data['ip'] = ips
    for key in ('locality', 'extended_properties'):
        if row['properties'].get(key):
            data[key] = row['properties'][key]
    if row.get('cluster_state'):
        # Ours: the engine's own word on the cluster (Redis
        # cluster_state, Galera wsrep_cluster_status).
        data['cluster_state'] = row['cluster_state']
    return data
