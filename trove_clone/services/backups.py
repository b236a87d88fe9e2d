"""Business rules of backups: create (full or incremental), list, show,
delete (with the incremental backups that depend on it), backup
strategies, and what the guest gets to take or restore one.

The work is cast to the taskmanager through the ``tasks`` object the
caller passes in, as in services/instances.py.
"""
import importlib
from typing import Protocol

from oslo_log import log as logging
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import deployment_secrets
from trove_clone.services import pitr
from trove_clone.services import quotas

LOG = logging.getLogger(__name__)
FULL = 'full'
INCREMENTAL = 'incremental'
#: Managers whose engine takes full backups only: an incremental request
#: is refused here, before anything is recorded.
FULL_ONLY_MANAGERS = ('redis',)
SWIFT_DRIVER = 'trove_clone.drivers.backup_storage.swift'


class Tasks(Protocol):
    """What this module casts to the taskmanager."""

    def create_backup(self, context, backup_id: str,
                      instance_id: str) -> None: ...

    def delete_backup(self, context, backup_id: str) -> None: ...


def instance_id_of(reference: str) -> str:
    """An instance reference as an id: an href's last segment, or it."""
    return str(reference).rstrip('/').rsplit('/', 1)[-1]


# --- storage -----------------------------------------------------------------

def backup_storage_options(context, container: str | None = None,
                           driver: str | None = None) -> dict:
    """The options the guest (or the taskmanager, to delete) builds a
    backup storage driver from (``drivers.backup_storage.load``).

    :param container: not part of the options: backup_info gives it
        beside them
    :param driver: the storage a backup was written to (its
        storage_driver); default: the configured storage_strategy
    """
    if (driver or CONF.storage_strategy) == 'swift':
        # Loaded when used: only deployments storing in Swift need the
        # driver (and swiftclient) on the control host.
        swift = importlib.import_module(SWIFT_DRIVER)
        options = dict(swift.options_from_conf(context))
        options['driver'] = 'swift'
        return options
    return {'driver': 'local',
            'root': secrets.beside_config(CONF.backup_local_dir,
                                          'backups')}


def container_for(context, project_id: str, instance_id: str,
                  requested: str | None) -> str:
    """Where a backup goes: the request's container, else the instance's
    backup strategy's, else the project's, else backup_swift_container."""
    if requested:
        return requested
    strategy = db_backups.strategy_for(context, project_id, instance_id)
    if strategy and strategy['swift_container']:
        return strategy['swift_container']
    return CONF.backup_swift_container


def _reference(row: dict) -> dict:
    """What the guest needs of a stored backup."""
    return {'id': row['id'], 'location': row['location'],
            'checksum': row['checksum'], 'metadata': row['metadata']}


def backup_info(context, backup: dict, instance: dict,
                container: str) -> dict:
    """The guest's create_backup request (see the contract in
    doc/backups.md): the backup, its parent, storage and key."""
    version = db_api.datastore_version_get(context,
                                           backup['datastore_version_id'])
    parent = None
    if backup['parent_id']:
        parent = _reference(db_backups.get(context, backup['parent_id'],
                                           deleted=True))
    return {'id': backup['id'], 'instance_id': instance['id'],
            'name': backup['name'], 'datastore': version['manager'],
            'datastore_version': version['name'],
            'incremental': parent is not None, 'parent': parent,
            'storage': backup_storage_options(context, container),
            'container': container,
            'encryption_key': deployment_secrets.backup_key(create=True),
            'pitr': pitr.shipping(version, instance['id'], container,
                                  full=parent is None)}


def chain(context, backup_id: str) -> list[dict]:
    """The backup and its ancestors, the full backup first.

    :raises: BackupNotFound for a missing ancestor; BackupNotCompleteError
        for one that is not COMPLETED
    """
    found: list[dict] = []
    current: str | None = backup_id
    while current is not None:
        row = db_backups.get(context, current)
        if row['state'] != db_backups.COMPLETED:
            raise exception.BackupNotCompleteError(backup_id=row['id'],
                                                   state=row['state'])
        if any(seen['id'] == row['id'] for seen in found):
            break
        found.append(row)
        current = row['parent_id']
    return list(reversed(found))


def restore_info(context, backup_id: str) -> dict:
    """The guest's prepare(backup_info=...) of a restore: the chain (full
    first), storage and key."""
    rows = chain(context, backup_id)
    version = db_api.datastore_version_get(
        context, rows[-1]['datastore_version_id'])
    return {'id': backup_id, 'datastore': version['manager'],
            'datastore_version': version['name'],
            'chain': [_reference(row) for row in rows],
            'storage': backup_storage_options(
                context, driver=rows[-1]['storage_driver']),
            'encryption_key': deployment_secrets.backup_key()}


# --- create ------------------------------------------------------------------

def _parent(context, spec: dict, instance: dict) -> dict | None:
    """The parent of the requested backup: ``parent_id`` (a COMPLETED
    backup of the same instance), or with ``incremental`` the instance's
    last COMPLETED backup (none: a full backup)."""
    if spec.get('parent_id'):
        try:
            parent = db_backups.get(context, spec['parent_id'],
                                    instance['tenant_id'])
        except exception.BackupNotFound:
            raise exception.BadRequest(
                'parent_id %s: no such backup.' % spec['parent_id'])
        if parent['instance_id'] != instance['id']:
            raise exception.BadRequest(
                'parent_id %s is a backup of instance %s, not of %s: an '
                'incremental backup continues a backup of the same '
                'instance.' % (parent['id'], parent['instance_id'],
                               instance['id']))
        if parent['state'] != db_backups.COMPLETED:
            raise exception.BadRequest(
                'parent_id %s is %s: only a COMPLETED backup can be the '
                'parent of an incremental one.' % (parent['id'],
                                                   parent['state']))
        return parent
    if spec.get('incremental'):
        return db_backups.last_completed(context, instance['id'])
    return None


def create(context, spec: dict, tasks: Tasks) -> dict:
    """Check a backup request, record the backup (NEW) with the instance
    in BACKING_UP and one backup counted, and cast it; returns the row.

    :raises: InstanceNotFound (404); BadRequest (400) for a parent of
        another instance or not COMPLETED, or an incremental backup of an
        engine that has none; UnprocessableEntity (422) when the instance
        is not ACTIVE or busy (another action or backup);
        QuotaExceeded (413); MessagingUnavailable (503) when the broker
        does not take the cast (nothing stays recorded)
    """
    if spec.get('restore_from'):
        # As Trove, the version must exist (404); importing the backup of
        # another region is not built yet (501).
        db_api.datastore_version_get(
            context, spec['restore_from']['local_datastore_version_id'])
        raise exception.NotImplementedYet(
            operation='creating a backup from restore_from (a backup of '
            'another region)')
    if spec.get('storage_driver') == 'cinder':
        # Trove's tempest test_cinder_backup asks for it: say so plainly.
        raise exception.NotImplementedYet(
            operation='storage_driver cinder (a backup kept as a Cinder '
            'volume snapshot; backups go to the %s storage here: leave '
            'storage_driver out)' % CONF.storage_strategy)
    instance_id = instance_id_of(spec['instance'])
    instance = db_instances.get(context, instance_id, context.project_id)
    version = db_api.datastore_version_get(context,
                                           instance['datastore_version_id'])
    wants_incremental = bool(spec.get('incremental') or
                             spec.get('parent_id'))
    if wants_incremental and version['manager'] in FULL_ONLY_MANAGERS:
        raise exception.BadRequest(
            'Incremental backups are not supported for the %s datastore: '
            'leave out incremental and parent_id to take a full backup.'
            % version['datastore_name'])
    parent = _parent(context, spec, instance)
    container = container_for(context, instance['tenant_id'], instance_id,
                              spec.get('swift_container'))
    values = {
        'id': uuidutils.generate_uuid(), 'name': spec['name'],
        'description': spec.get('description'),
        'tenant_id': context.project_id, 'instance_id': instance_id,
        'parent_id': parent['id'] if parent else None,
        'datastore_version_id': version['id'],
        'backup_type': INCREMENTAL if parent else FULL,
        'storage_driver': CONF.storage_strategy,
        # Where the taskmanager sends it; the guest's report replaces it
        # with the object's location.
        'location': None,
        'metadata': {'container': container},
    }
    backup = db_backups.create(context, values,
                               quotas.limits(context, context.project_id))
    try:
        tasks.create_backup(context, backup['id'], instance_id)
    except Exception as error:  # noqa: B902 - given back, then raised
        LOG.warning('Backup %s of %s not started, given back: %s',
                    backup['id'], instance_id, error)
        db_instances.end_action(context, instance_id, statuses.BACKING_UP,
                                statuses.task(instance['task_id']))
        db_backups.set_state(context, backup['id'], db_backups.FAILED,
                             expected=(db_backups.NEW,),
                             fail_reason='The taskmanager could not be '
                             'reached.')
        db_backups.mark_deleted(context, backup['id'])
        raise
    return get(context, backup['id'], context.project_id)


# --- the guest's reports -----------------------------------------------------

#: The states a guest may report, and what each report must carry.
_REPORTED = {db_backups.BUILDING: (), db_backups.SAVING: (),
             db_backups.COMPLETED: ('location', 'checksum'),
             db_backups.FAILED: ()}


def report_values(payload: dict) -> dict:
    """The columns a guest's report (conductor update_backup) sets.

    :raises: ValueError naming what is wrong with the report (it is then
        dropped: a guest cannot write other columns or states)
    """
    state = payload.get('state')
    if state not in _REPORTED:
        raise ValueError('state %r cannot be reported' % (state,))
    values: dict = {'state': state}
    for key in _REPORTED[state]:
        if not isinstance(payload.get(key), str) or not payload[key]:
            raise ValueError('a %s report needs %s' % (state, key))
    for key, limit in (('location', 1024), ('checksum', 64)):
        if key in payload and payload[key] is not None:
            if not isinstance(payload[key], str) or \
                    len(payload[key]) > limit:
                raise ValueError('%s must be text of at most %d '
                                 'characters' % (key, limit))
            values[key] = payload[key]
    if payload.get('size') is not None:
        size = payload['size']
        if isinstance(size, bool) or not isinstance(size, (int, float)) \
                or size < 0:
            raise ValueError('size must be a number of GB')
        values['size'] = float(size)
    if payload.get('metadata') is not None:
        if not isinstance(payload['metadata'], dict):
            raise ValueError('metadata must be an object')
        values['metadata'] = payload['metadata']
    if state == db_backups.FAILED:
        reason = payload.get('reason')
        values['fail_reason'] = str(reason)[:1000] if reason else \
            'The guest reported the backup failed without a reason.'
    return values


# --- read --------------------------------------------------------------------

def get(context, backup_id: str, project_id: str | None) -> dict:
    """A backup with its ``datastore_version`` (None when gone).

    :param project_id: the owner the caller must be (None: any, admin)
    :raises: BackupNotFound (404)
    """
    return _with_version(context, db_backups.get(context, backup_id,
                                                 project_id), {})


def _with_version(context, row: dict, cache: dict) -> dict:
    version_id = row['datastore_version_id']
    if version_id and version_id not in cache:
        try:
            cache[version_id] = db_api.datastore_version_get(context,
                                                             version_id)
        except exception.DatastoreVersionNotFound:
            cache[version_id] = None
    row['datastore_version'] = cache.get(version_id)
    return row


def page_size(requested: int | None) -> int:
    if requested is None:
        return CONF.backups_page_size
    return min(requested, CONF.backups_page_size)


def list_page(context, project_id: str | None, limit: int | None,
              marker: str | None, instance_id: str | None = None,
              datastore: str | None = None
              ) -> tuple[list[dict], str | None]:
    """One page of backups, newest first, and the next page's marker.

    :param project_id: None: every project's (an administrator)
    :param datastore: a datastore's name or id (404 when unknown)
    """
    datastore_id = None
    if datastore:
        datastore_id = db_api.datastore_get(context, datastore)['id']
    size = page_size(limit)
    rows = db_backups.list_page(context, project_id, size + 1, marker,
                                instance_id, datastore_id)
    next_marker = None
    if len(rows) > size:
        rows, next_marker = rows[:size], rows[size - 1]['id']
    cache: dict = {}
    return [_with_version(context, row, cache) for row in rows], next_marker


# --- delete ------------------------------------------------------------------

def descendants(context, backup_id: str) -> list[dict]:
    """The incremental backups that depend on ``backup_id``, deepest
    first."""
    found: list[dict] = []
    pending = [backup_id]
    while pending:
        current = pending.pop()
        for child in db_backups.children(context, current):
            if child['id'] not in [row['id'] for row in found]:
                found.append(child)
                pending.append(child['id'])
    return list(reversed(found))


def delete(context, backup: dict, tasks: Tasks) -> None:
    """Delete a backup and, as Trove does, every incremental backup that
    depends on it (they could not be restored without it).

    :raises: UnprocessableEntity (422) when it or one of them is still
        running (nothing is deleted then)
    """
    doomed = descendants(context, backup['id']) + [backup]
    for row in doomed:
        if row['state'] in db_backups.RUNNING:
            raise exception.UnprocessableEntity(
                'Backup %s cannot be deleted because it is running.'
                % row['id'] if row['id'] == backup['id'] else
                'Backup %s cannot be deleted because its incremental '
                'backup %s is running.' % (backup['id'], row['id']))
    tasks.delete_backup(context, backup['id'])


# --- strategies --------------------------------------------------------------

def strategy_create(context, instance_id: str | None,
                    container: str) -> dict:
    """Name the container backups of the project (no ``instance_id``) or
    of one of its instances go to.

    :raises: InstanceNotFound (404) for an instance of another project
    """
    if instance_id:
        db_instances.get(context, instance_id, context.project_id)
    return db_backups.strategy_set(context, context.project_id,
                                   instance_id or '', container,
                                   CONF.storage_strategy)


def strategy_project(context, requested: str | None) -> str:
    """The project a strategy request is about: the caller's, or for an
    administrator the ``project_id`` asked for."""
    if requested and requested != context.project_id:
        if not context.is_admin:
            raise exception.Forbidden(
                'Only an administrator may see or change the backup '
                'strategies of project %s.' % requested)
        return requested
    return context.project_id


def strategy_list(context, project_id: str,
                  instance_id: str | None) -> list[dict]:
    return db_backups.strategy_list(context, project_id, instance_id)


def strategy_delete(context, project_id: str,
                    instance_id: str | None) -> None:
    db_backups.strategy_delete(context, project_id, instance_id or '')
