"""Views of backups and backup strategies (Trove's shapes)."""
from trove_clone.api.views import common


def backup(row: dict) -> dict:
    """A backup; ``row`` as services.backups.get gives it. A FAILED or
    DELETE_FAILED backup also shows ``fail_reason`` (not in Trove)."""
    view = {
        'id': row['id'], 'name': row['name'],
        'description': row['description'],
        'locationRef': row['location'],
        'instance_id': row['instance_id'],
        'created': common.timestamp(row['created']),
        'updated': common.timestamp(row['updated']),
        'size': row['size'], 'status': row['state'],
        'parent_id': row['parent_id'],
        'project_id': row['tenant_id'],
    }
    version = row.get('datastore_version')
    if version:
        view['datastore'] = {'type': version['datastore_name'],
                             'version': version['name'],
                             'version_id': version['id']}
    # Extension: restore drills (services/backup_drills.py).
    view['verified_at'] = common.timestamp(row.get('verified_at'))
    if row.get('verify_instance_id'):
        view['verifying'] = True
    if row.get('verify_fault'):
        view['verify_fault'] = row['verify_fault']
    if row.get('fail_reason') and row['state'] in ('FAILED',
                                                   'DELETE_FAILED'):
        view['fail_reason'] = row['fail_reason']
    return view


def strategy(row: dict) -> dict:
    return {'project_id': row['tenant_id'],
            'instance_id': row['instance_id'] or None,
            'backend': row['backend'],
            'swift_container': row['swift_container']}
