"""Views of instances, their users and databases (Trove's shapes)."""
import json
import socket

from trove_clone.api.controllers import base
from trove_clone.api.views import common
from trove_clone.conf import CONF


def instance(row: dict, version: dict | None,
             is_admin: bool = False) -> dict:
    """InstanceView: the fields of an instance in a list (with its
    ``tenant_id`` for an administrator, as Trove's)."""
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
    if is_admin:
        data['tenant_id'] = row['tenant_id']
    if row['volume_size'] is not None:
        data['volume'] = {'size': row['volume_size']}
    addresses = json.loads(row.get('addresses') or '[]')
    if row.get('hostname'):
        data['hostname'] = row['hostname']
    elif addresses:
        data['ip'] = [address['address'] for address in addresses]
        data['addresses'] = [dict(address, network=address.get(
            'network', 'local')) for address in addresses]
    if row.get('access'):
        data['access'] = json.loads(row['access'])
    else:
        # Trove: without a recorded access, whether a public address is
        # shown (nothing without addresses).
        data['access'] = {}
        if addresses:
            data['access']['is_public'] = any(
                address.get('type') == 'public' for address in addresses)
    if row.get('locality'):
        data['locality'] = row['locality']
    if row.get('slave_of_id'):
        data['replica_of'] = {'id': row['slave_of_id'], 'links': base.links(
            'instances', row['slave_of_id'])}
    if row.get('replicas'):
        data['replicas'] = [{'id': replica_id, 'links': base.links(
            'instances', replica_id)} for replica_id in row['replicas']]
    return data


def detail(row: dict, volume_stats: dict | None = None,
           is_admin: bool = False) -> dict:
    """InstanceDetailView: show, create and the detail list."""
    data = instance(row, row.get('datastore_version'))
    data['service_status_updated'] = common.timestamp(
        row.get('service_status_updated'))
    if volume_stats and 'volume' in data:
        data['volume']['used'] = volume_stats['used']
        if volume_stats.get('total'):
            data['volume']['used_percent'] = round(
                100.0 * volume_stats['used'] / volume_stats['total'], 1)
    if row.get('configuration'):
        group = row['configuration']
        data['configuration'] = {
            'id': group['id'], 'name': group['name'],
            'links': base.links('configurations', group['id'])}
    if row.get('replication'):
        # Ours (doc/api-differences.md): a replica's lag, from the
        # replication status of its guest's last heartbeat.
        data['replication'] = row['replication']
    if row.get('backup_schedule'):
        # Extension: scheduled backups.
        schedule = json.loads(row['backup_schedule'])
        next_run = row.get('backup_next_run')
        data['backup_schedule'] = dict(
            schedule, next_run=common.timestamp(next_run))
    if row.get('restorable_until') and row.get('restorable_from'):
        # Extension: the point-in-time recovery window.
        data['restorable_from'] = common.timestamp(row['restorable_from'])
        data['restorable_until'] = common.timestamp(
            row['restorable_until'])
    fault = row.get('fault')
    if fault:
        data['fault'] = {'message': fault['message'],
                         'created': common.timestamp(fault['created']),
                         'details': fault['details']}
    if is_admin:
        data.update(tenant_id=row['tenant_id'], server_id=row['server_id'],
                    volume_id=row['volume_id'],
                    encrypted_rpc_messaging=bool(row.get('encrypted_key')))
    return data


def mgmt_instance(row: dict) -> dict:
    """An item of the mgmt list (Trove's MgmtInstanceView): the detail
    view of an administrator (``tenant_id``, ``server_id``, ``volume_id``)
    with the service status, deletion and task description."""
    data = detail(row, is_admin=True)
    data.update(
        service_status=row.get('service_status'),
        deleted=bool(row.get('deleted')),
        deleted_at=common.timestamp(row.get('deleted_at')),
        task_description=row.get('task_description'))
    return data


def mgmt_detail(row: dict, server: dict | None,
                volume: dict | None) -> dict:
    """The mgmt show view: detail plus server, volume and history."""
    data = detail(row, is_admin=True)
    data.update(
        deleted=row['deleted'], deleted_at=common.timestamp(
            row['deleted_at']),
        task_description=row['task_description'],
        service_status=row.get('service_status'),
        root_enabled=common.timestamp(
            (row.get('root_history') or {}).get('created')),
        root_enabled_by=(row.get('root_history') or {}).get('user'),
        guest_status={'state_description': row.get('service_status')})
    if server is not None:
        data['server'] = {
            'id': server['id'], 'name': server['name'],
            'status': server['status'], 'tenant_id': row['tenant_id'],
            'host': server.get('host') or socket.gethostname(),
            'deleted': False, 'deleted_at': None, 'local_id': server['id'],
            'addresses': server['addresses']}
    if volume is not None:
        data['volume'] = dict(data.get('volume') or {}, id=volume['id'],
                              status=volume.get('status'),
                              attachments=volume.get('attachments', []),
                              created_at=volume.get('created'),
                              total=volume.get('size'))
    return data


def database(item: dict) -> dict:
    return {'name': item['name']}


def user(item: dict) -> dict:
    return {'name': item['name'],
            'host': item.get('host') or '%',
            'databases': [{'name': db['name']}
                          for db in item.get('databases') or []]}
