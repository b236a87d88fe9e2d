"""Business rules of instances: create, show, rename, actions, delete.

The API calls these; the work behind them is cast to the taskmanager
through the ``tasks`` object the caller passes in (the taskmanager's RPC
client), so that this layer stays below the services that talk RPC.
"""
import json
from typing import Any, Callable, Protocol

from oslo_log import log as logging
from oslo_utils import uuidutils

from trove_clone.common import crypto
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.db import listings
from trove_clone.db import models
from trove_clone.db import modules as db_modules
from trove_clone import drivers
from trove_clone.services import access_rules
from trove_clone.services import accounts
from trove_clone.services import backups as backup_service
from trove_clone.services import configurations
from trove_clone.services import datastores
from trove_clone.services import flavors
from trove_clone.services import modules as module_service
from trove_clone.services import pitr
from trove_clone.services import quotas
from trove_clone.services import replication

LOG = logging.getLogger(__name__)
#: Statuses in which the guest is asked for the volume's use on show.
_STATS_STATUSES = ('ACTIVE', 'HEALTHY')


class Tasks(Protocol):
    """What this module casts to the taskmanager."""

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None: ...

    def delete_instance(self, context, instance_id: str) -> None: ...

    def restart(self, context, instance_id: str) -> None: ...

    def reboot(self, context, instance_id: str) -> None: ...

    def resize_volume(self, context, instance_id: str,
                      new_size: int) -> None: ...

    def resize_flavor(self, context, instance_id: str, old_flavor: str,
                      new_flavor: str) -> None: ...

    def rebuild(self, context, instance_id: str, image_id: str) -> None: ...

    def upgrade(self, context, instance_id: str,
                datastore_version_id: str) -> None: ...

    def update_access(self, context, instance_id: str, old_access: dict,
                      new_access: dict) -> None: ...


class StatsGuest(Protocol):
    """The guest call of an instance's show."""

    def get_filesystem_stats(self, context) -> dict: ...


class StopGuest(Protocol):
    """The guest call of an administrator's stop."""

    def stop_db(self, context) -> None: ...


def page_size(requested: int | None) -> int:
    """The page size: the request's limit capped by instances_page_size."""
    if requested is None:
        return CONF.instances_page_size
    return min(requested, CONF.instances_page_size)


def list_page(context, project_id: str | None, limit: int | None,
              marker: str | None, include_clustered: bool = False
              ) -> tuple[list[dict], str | None]:
    """One page of instances (with derived statuses and their
    ``datastore_version``) and the marker of the next page (or None)."""
    size = page_size(limit)
    rows = listings.instances_page(context, project_id, size + 1, marker,
                                   include_clustered)
    next_marker = None
    if len(rows) > size:
        rows, next_marker = rows[:size], rows[size - 1]['id']
    for row in rows:
        derive_status(row)
    replication.add_list_fields(context, rows)
    return rows, next_marker


# --- status ------------------------------------------------------------------

def derive_status(row: dict) -> dict:
    """Add ``status`` and ``operating_status`` to an instance row; a
    heartbeat older than agent_heartbeat_expiry counts as SHUTDOWN."""
    service = statuses.service_status(row.get('service_status') or '')
    if row['task_id'] == statuses.NONE.code and \
            service is not statuses.RESTART_REQUIRED_STATUS and \
            service not in (statuses.NEW, statuses.BUILD) and \
            row.get('service_status_updated') is not None and \
            db_instances.heartbeat_age(row) > CONF.agent_heartbeat_expiry:
        service = statuses.SHUTDOWN
    row['status'] = statuses.api_status(row['task_id'],
                                        row.get('server_status'), service)
    row['operating_status'] = statuses.operating_status(
        row['task_id'], row.get('server_status'), service)
    return row


def get(context, instance_id: str, project_id: str | None) -> dict:
    """An instance as the API shows it (statuses derived, version and
    fault attached).

    :param project_id: the owner the caller must be (None: any, admin)
    """
    row = db_instances.get(context, instance_id, project_id)
    row['datastore_version'] = db_api.datastore_version_get(
        context, row['datastore_version_id'])
    row['configuration'] = None
    if row['configuration_id']:
        try:
            group = configurations.get(context, row['configuration_id'],
                                       None)
            row['configuration'] = {'id': group['id'],
                                    'name': group['name']}
        except exception.ConfigurationNotFound:
            pass
    replication.add_view_fields(context, row)
    row['restorable_from'], row['restorable_until'] = (
        pitr.window(context, row) if row.get('restorable_until')
        else (None, None))
    return derive_status(row)


def wants_volume_stats(row: dict) -> bool:
    """Whether show should ask the guest for the volume's use: only when
    the guest is up and heard from lately (a silent guest would make the
    caller wait for the call's timeout)."""
    return bool(row['volume_id']) and \
        row['status'] in _STATS_STATUSES and \
        db_instances.heartbeat_age(row) <= 2 * CONF.agent_heartbeat_time + 5


def volume_stats(context, row: dict,
                 guest: Callable[[], 'StatsGuest']) -> dict | None:
    """The volume's use (``total``, ``used``, ``free`` in GB) as the guest
    reports it for show, or None when it is not asked (see
    wants_volume_stats) or cannot say.

    :param guest: makes the guest's client (called only when asked)
    """
    if not wants_volume_stats(row):
        return None
    try:
        return guest().get_filesystem_stats(context)
    except exception.TroveError as error:
        LOG.warning('No volume use for %s: %s', row['id'], error.message)
        return None


def instance_key(row: dict) -> str | None:
    """The instance's RPC key, or None when messaging is not sealed."""
    if not row.get('encrypted_key'):
        return None
    return secrets.unwrap_instance_key(row['encrypted_key'])


# --- create ------------------------------------------------------------------

def resolve_version(context, datastore: dict) -> dict:
    """The active version a request's ``datastore`` names, falling back to
    default_datastore and the datastore's default version."""
    name = datastore.get('type') or CONF.default_datastore
    if not name:
        raise exception.DatastoreDefaultVersionNotFound(datastore='(none)')
    found = datastores.version_or_default(context, name,
                                          datastore.get('version'),
                                          datastore.get('version_number'))
    if not found['active']:
        raise exception.DatastoreVersionInactive(version=found['name'])
    return found


def flavor_id_of(reference: Any) -> str:
    """A flavorRef as an id: an href's last path segment, or the value."""
    text = str(reference).rstrip('/')
    return text.rsplit('/', 1)[-1]


def resolve_flavor(context, reference: Any, version: dict) -> dict:
    """The flavor, which must be allowed for the version."""
    if reference is None or str(reference).strip() == '':
        raise exception.BadRequest('A flavor is required: give flavorRef '
                                   '(or replica_of, to take the flavor of '
                                   'a primary).')
    flavor = flavors.get(flavor_id_of(reference))
    allowed = datastores.list_associations(context, version['id'],
                                           datastores.FLAVOR_KEY)
    if allowed and flavor['id'] not in allowed:
        raise exception.BadRequest(
            'Flavor %s is not supported for datastore %s version %s.'
            % (flavor['id'], version['datastore_name'], version['name']))
    return flavor


def check_volume(volume: dict | None) -> tuple[int | None, str | None]:
    """(size, type) of the requested volume.

    :raises: BadRequest when a size is needed and missing;
        VolumeSizeTooLarge (413) over max_accepted_volume_size
    """
    if not CONF.trove_volume_support:
        if volume:
            raise exception.BadRequest('Volumes are not supported here: '
                                       'leave "volume" out.')
        return None, None
    if not volume or volume.get('size') in (None, ''):
        raise exception.BadRequest('Volume size was not specified: give '
                                   'volume.size in GB.')
    try:
        size = int(volume['size'])
    except (TypeError, ValueError):
        raise exception.BadRequest('volume.size must be a whole number of '
                                   'GB, not %r.' % volume['size'])
    if size < 1:
        raise exception.BadRequest('volume.size must be at least 1 GB.')
    if size > CONF.max_accepted_volume_size:
        raise exception.VolumeSizeTooLarge(
            size=size, maximum=CONF.max_accepted_volume_size)
    return size, volume.get('type')


#: Request keys refused beside ``replica_of``, and what each is called
#: in the refusal (a flavor, volume and datastore may be given: Trove's
#: tempest plugin gives them; see _placement).
_FROM_PRIMARY = (('locality', 'locality'),)


def replica_primary(context, spec: dict) -> dict | None:
    """The primary a create request names in ``replica_of`` (as get()
    returns it), or None for a request that creates no replica.

    As in Trove, a replica takes its flavor, volume and datastore version
    from its primary, so the request gives none of them.

    :raises: BadRequest for a flavor, datastore, volume or locality beside
        ``replica_of``, users or databases for a replica, or
        ``replica_count`` above 1 without ``replica_of``; InstanceNotFound
        (404) for a primary the caller cannot see; Forbidden (403) for a
        primary that is itself a replica
    """
    primary_id = spec.get('replica_of')
    if not primary_id:
        count = spec.get('replica_count') or 1
        if count > 1:
            raise exception.BadRequest(
                'replica_count is only valid with replica_of: cannot '
                'create %d instances.' % count)
        return None
    for key, what in _FROM_PRIMARY:
        if spec.get(key):
            raise exception.BadRequest(
                'Cannot specify %s when creating replicas: a replica takes '
                'it from its primary %s.' % (what, primary_id))
    if spec.get('users') or spec.get('databases'):
        raise exception.BadRequest(
            'Cannot create a replica with users or databases: a replica '
            'has those of its primary %s.' % primary_id)
    primary = get(context, primary_id,
                  None if context.is_admin else context.project_id)
    if primary['slave_of_id']:
        raise exception.Forbidden(
            'Cannot create a replica of a replica %s.' % primary_id)
    return primary


def _placement(context, spec: dict, primary: dict | None
               ) -> tuple[dict, dict, int | None, str | None]:
    """(version, flavor, volume size, volume type) of a new instance: the
    request's, or its primary's for a replica."""
    if primary is not None:
        return replica_placement(context, spec, primary)
    version = resolve_version(context, spec.get('datastore') or {})
    flavor = resolve_flavor(context, spec.get('flavorRef'), version)
    size, volume_type = check_volume(spec.get('volume'))
    return version, flavor, size, volume_type


def replica_placement(context, spec: dict, primary: dict
                      ) -> tuple[dict, dict, int | None, str | None]:
    """A replica's version, flavor and volume: its primary's, or a flavor
    and volume the request gives (as Trove's: the volume no smaller than
    the primary's, 403 otherwise); a datastore given must be the
    primary's version (400 otherwise)."""
    version = primary['datastore_version']
    if spec.get('datastore'):
        asked = resolve_version(context, spec['datastore'])
        if asked['id'] != version['id']:
            raise exception.BadRequest(
                'A replica runs the datastore version of its primary %s '
                '(%s %s), not %s %s.' % (
                    primary['id'], version['datastore_name'],
                    version['name'], asked['datastore_name'],
                    asked['name']))
    flavor = flavors.get(primary['flavor_id'])
    if spec.get('flavorRef') not in (None, ''):
        flavor = resolve_flavor(context, spec['flavorRef'], version)
    size, volume_type = primary['volume_size'], primary['volume_type']
    if spec.get('volume'):
        size, volume_type = check_volume(spec['volume'])
        volume_type = volume_type or primary['volume_type']
        if size is not None and size < (primary['volume_size'] or 0):
            raise exception.Forbidden(
                'Replica volume size should not be smaller than the '
                "primary's: replica volume size %d GB, primary volume "
                'size %d GB.' % (size, primary['volume_size']))
    return version, flavor, size, volume_type


def check_restore(context, restore_point: dict, version: dict,
                  size: int | None, flavor: dict) -> str:
    """The backup a create request restores (``restorePoint.backupRef``),
    after Trove's checks: it (and its chain) is COMPLETED, of the same
    datastore, and fits the new volume (or the flavor's disk).

    :raises: BackupNotFound (404); BackupNotCompleteError (409);
        BadRequest (400) for another datastore's backup; BackupTooLarge
        (403)
    """
    backup_id = backup_service.instance_id_of(restore_point['backupRef'])
    backup = backup_service.get(context, backup_id, context.project_id)
    backup_service.chain(context, backup_id)
    theirs = backup['datastore_version']
    if theirs is None or theirs['datastore_id'] != version['datastore_id']:
        raise exception.BadRequest(
            'The datastore from which backup %s was taken, %s, does not '
            'match the destination datastore of %s.' % (
                backup_id, theirs['datastore_name'] if theirs else '(gone)',
                version['datastore_name']))
    room = size if size else flavor.get('disk')
    if room and (backup['size'] or 0) > room:
        raise exception.BackupTooLarge(backup_size=backup['size'],
                                       disk_size=room)
    return backup_id


def create(context, spec: dict, tasks: Tasks) -> dict:
    """Check a create request, count its quota, record the instance and
    cast its creation; returns the instance as get() does.

    Nothing is recorded when a check fails. When the broker does not
    take the cast, nothing stays recorded either (the instance and its
    quota use are removed) and MessagingUnavailable (503) is raised; when
    the cast fails otherwise the instance is left in ERROR with a fault
    saying so.
    """
    primary = replica_primary(context, spec)
    version, flavor, size, volume_type = _placement(context, spec, primary)
    manager = version['manager']
    names = [spec['name']]
    if primary is not None:
        replication.check_primary(primary)
        names = replication.replica_names(spec['name'],
                                          spec.get('replica_count') or 1)
    backup_id = None
    if spec.get('restorePoint'):
        backup_id = check_restore(context, spec['restorePoint'], version,
                                  size, flavor)
        restore_time = spec['restorePoint'].get('restore_time')
        if restore_time is not None:
            backup_id, restore_time = pitr.check_restore_point(
                context, backup_service.get(context, backup_id,
                                            context.project_id),
                restore_time, models.utcnow())
    databases = accounts.check_databases(manager,
                                         spec.get('databases') or [])
    users = accounts.check_users(manager, spec.get('users') or [])
    configuration_id = primary['configuration_id'] if primary else None
    if spec.get('configuration'):
        group = configurations.get(context, spec['configuration'],
                                   context.project_id)
        if group['datastore_version_id'] != version['id']:
            configurations.check_attachable(
                context, group, {'id': '(new)',
                                 'datastore_version_id': version['id']})
        configuration_id = group['id']
    modules = module_service.for_new_instance(
        context, spec.get('modules') or [], version)
    access = json.dumps(access_rules.check_access(spec['access'])) \
        if spec.get('access') is not None else None
    if primary is not None and access is None:
        access = replication.replica_access(primary)
    values = {
        'tenant_id': context.project_id, 'flavor_id': flavor['id'],
        'volume_size': size, 'volume_type': volume_type,
        'datastore_version_id': version['id'], 'region_id': CONF.region,
        'availability_zone': spec.get('availability_zone'),
        'locality': spec.get('locality'), 'access': access,
        'server_status': 'BUILD', 'configuration_id': configuration_id,
        'slave_of_id': primary['id'] if primary else None,
    }
    request = {'databases': databases, 'users': users,
               'modules': [module['id'] for module in modules]}
    if backup_id:
        request['backup_id'] = backup_id
        if spec['restorePoint'].get('restore_time') is not None:
            request['restore_time'] = restore_time
    if primary is not None:
        request['replica_of'] = primary['id']
    deltas = {'instances': 1, 'ram': flavor['ram']}
    if size:
        deltas['volumes'] = size
    instance_ids = [_create_one(context, dict(values, name=name), deltas,
                                modules, request, tasks) for name in names]
    return get(context, instance_ids[0], context.project_id)


def _create_one(context, values: dict, deltas: dict[str, int],
                modules: list[dict], request: dict, tasks: Tasks) -> str:
    """Record one instance of a create request and cast its build;
    returns its id (see create for what a failed cast leaves)."""
    instance_id = uuidutils.generate_uuid()
    key = crypto.generate_key() if CONF.enable_secure_rpc_messaging \
        else None
    values = dict(values, id=instance_id, encrypted_key=secrets.
                  wrap_instance_key(key) if key else None)
    db_instances.create(context, values, deltas,
                        quotas.limits(context, context.project_id))
    for module in modules:
        db_modules.record_applied(context, instance_id, module['id'],
                                  module['md5'])
    try:
        tasks.create_instance(context, instance_id, request)
    except exception.MessagingUnavailable as error:
        LOG.warning('Instance %s not created: %s', instance_id, error)
        if not db_instances.discard_unbuilt(context, instance_id, deltas):
            fail(context, instance_id, statuses.BUILDING_ERROR_SERVER,
                 'The taskmanager could not be reached to build the '
                 'instance.', error.message)
        raise
    except Exception as error:  # noqa: B902 - recorded on the instance
        LOG.exception('Could not cast the creation of %s.', instance_id)
        fail(context, instance_id, statuses.BUILDING_ERROR_SERVER,
             'The taskmanager could not be asked to build the instance.',
             str(error))
    return instance_id


def fail(context, instance_id: str, task: statuses.Task, message: str,
         details: str) -> None:
    """Put an instance in an error task with a fault saying why."""
    db_instances.fail(context, instance_id, task, message, details)


# --- changes -----------------------------------------------------------------

_CONFIGURABLE = ('ACTIVE', 'HEALTHY', 'RESTART_REQUIRED', 'SHUTDOWN')


def attach_configuration(context, row: dict, configuration_id: str | None,
                         guest_for: configurations.GuestFor) -> None:
    """Attach a group (or detach with None) and have the guest apply it
    before this returns (see configurations.apply_to_instances); 422
    while the instance is not ready or for another datastore version's
    group. When the broker does not take the guest call the instance
    gets its group back and MessagingUnavailable (503) is raised."""
    if row['status'] not in _CONFIGURABLE:
        raise exception.UnprocessableEntity(
            'Instance %s is not ready for a configuration change: its '
            'status is %s.' % (row['id'], row['status']))
    if configuration_id is not None:
        group = configurations.get(context, configuration_id,
                                   row['tenant_id'])
        configurations.check_attachable(context, group, row)
        if row['configuration_id'] not in (None, configuration_id):
            raise exception.BadRequest(
                'Instance %s already has configuration group %s: detach it '
                'first.' % (row['id'], row['configuration_id']))
    elif row['configuration_id'] is None:
        raise exception.BadRequest('Instance %s has no configuration group '
                                   'to detach.' % row['id'])
    # Conditional: an action begun since the row was read (a resize, an
    # upgrade) wins, and this request changes nothing.
    if not db_instances.update(
            context, row['id'], {'configuration_id': configuration_id},
            expected_tasks=(statuses.NONE.code,
                            statuses.RESTART_REQUIRED.code)):
        raise exception.UnprocessableEntity(
            'Instance %s is not ready for a configuration change: an '
            'action started on it.' % row['id'])
    try:
        configurations.apply_to_instances(context, [row['id']], guest_for)
    except Exception as error:  # noqa: B902 - the group change is given back
        LOG.warning('Instance %s: the configuration change did not reach '
                    'its guest, given back: %s', row['id'], error)
        db_instances.update(context, row['id'],
                            {'configuration_id': row['configuration_id']})
        raise


def _version_key(text: str) -> tuple:
    """A version number compared part by part, numbers as numbers."""
    parts = []
    for part in text.replace('-', '.').split('.'):
        parts.append((0, int(part), '') if part.isdigit() else (1, 0, part))
    return tuple(parts)


def upgrade(context, row: dict, reference: str, tasks: Tasks) -> dict:
    """Start upgrading to another version of the instance's datastore.

    :raises: NotFound for an unknown version; BadRequest for another
        datastore's version, an inactive one or an older one; 422 when the
        instance cannot take an action now
    """
    current = row['datastore_version']
    try:
        target = db_api.datastore_version_get(context, reference)
    except exception.DatastoreVersionNotFound:
        target = datastores.find_version(context,
                                         current['datastore_name'],
                                         reference)
    if target['datastore_id'] != current['datastore_id']:
        raise exception.BadRequest(
            'Datastore version %s belongs to datastore %s; instance %s '
            'runs %s.' % (target['name'], target['datastore_name'],
                          row['id'], current['datastore_name']))
    if not target['active']:
        raise exception.BadRequest('Datastore version %s is not active.'
                                   % target['name'])
    if _version_key(target['version']) < _version_key(current['version']):
        raise exception.BadRequest(
            'Datastore version %s (%s) is older than the instance\'s %s '
            '(%s): downgrades are not supported.' % (
                target['name'], target['version'], current['name'],
                current['version']))
    _begin(context, row, statuses.UPGRADING)
    _cast_or_give_back(context, row, statuses.UPGRADING,
                       lambda: tasks.upgrade(context, row['id'],
                                             target['id']))
    return target


def update_access(context, row: dict, access: dict, tasks: Tasks) -> None:
    """Check the new access, take the task UPDATING and cast the change
    (the taskmanager records it when the guest and the cloud have it);
    422 while the instance cannot take an action. When the cast fails the
    instance gets its task back and nothing changes."""
    new_access = access_rules.check_access(access)
    old_access = json.loads(row['access']) if row.get('access') else None
    _begin(context, row, statuses.UPDATING)
    _cast_or_give_back(context, row, statuses.UPDATING,
                       lambda: tasks.update_access(context, row['id'],
                                                   old_access, new_access))


def rename(context, row: dict, name: str) -> None:
    db_instances.update(context, row['id'], {'name': name})


def _begin(context, row: dict, task: statuses.Task,
           service: statuses.ServiceStatus | None = None) -> None:
    if not db_instances.begin_action(context, row['id'], task, service):
        raise exception.UnprocessableEntity(
            'Instance %s is not currently available for an action to be '
            'performed (%s status was %s).' % (
                row['id'], 'task' if row['task_id'] != statuses.NONE.code
                else 'instance', row['status']))


def _cast_or_give_back(context, row: dict, task: statuses.Task,
                       cast: Callable[[], None],
                       service: statuses.ServiceStatus | None = None,
                       quota: dict[str, int] | None = None) -> None:
    """Cast the work of an action begun with ``task`` (and ``service``);
    when the cast fails the action is given back: the task and service
    status the instance had (row), and the ``quota`` use counted for it.

    :raises: what the cast raised (MessagingUnavailable, 503, when the
        broker did not take it)
    """
    try:
        cast()
    except Exception as error:  # noqa: B902 - given back, then raised
        LOG.warning('Instance %s: %s not started, given back: %s',
                    row['id'], task.name, error)
        _give_back(context, row, task, service)
        if quota:
            db_instances.release_quota(context, row['tenant_id'], quota)
        raise


def _give_back(context, row: dict, task: statuses.Task,
               service: statuses.ServiceStatus | None = None) -> None:
    """Give back an action begun with ``task`` (and ``service``): the
    instance gets the task and service status it had (row) unless
    something moved it since."""
    db_instances.end_action(
        context, row['id'], task, statuses.task(row['task_id']),
        service, statuses.service_status(row.get('service_status') or '')
        if service else None)


def restart(context, row: dict, tasks: Tasks) -> None:
    _begin(context, row, statuses.REBOOTING, statuses.RESTARTING)
    _cast_or_give_back(context, row, statuses.REBOOTING,
                       lambda: tasks.restart(context, row['id']),
                       statuses.RESTARTING)


def reboot(context, row: dict, tasks: Tasks) -> None:
    _begin(context, row, statuses.REBOOTING, statuses.RESTARTING)
    _cast_or_give_back(context, row, statuses.REBOOTING,
                       lambda: tasks.reboot(context, row['id']),
                       statuses.RESTARTING)


def resize_volume(context, row: dict, size: Any, tasks: Tasks) -> None:
    """Grow the volume: larger than now, within the maximum and quota."""
    if not row['volume_size']:
        raise exception.BadRequest('Instance %s has no volume to resize.'
                                   % row['id'])
    try:
        new_size = int(size)
    except (TypeError, ValueError):
        raise exception.BadRequest('resize.volume.size must be a whole '
                                   'number of GB, not %r.' % (size,))
    if new_size <= row['volume_size']:
        raise exception.BadRequest(
            'The new volume size %d GB must be larger than the current '
            'size of %d GB.' % (new_size, row['volume_size']))
    if new_size > CONF.max_accepted_volume_size:
        raise exception.VolumeSizeTooLarge(
            size=new_size, maximum=CONF.max_accepted_volume_size)
    _resize_volume_of(context, row, new_size, tasks)
    # As Trove: the replicas of a primary grow with it.
    for replica in replication.replicas_to_grow(context, row, new_size,
                                                get):
        try:
            _resize_volume_of(context, replica, new_size, tasks)
        except exception.TroveError as error:
            LOG.warning('Replica %s of %s keeps its volume size: %s',
                        replica['id'], row['id'], error.message)


def _resize_volume_of(context, row: dict, new_size: int,
                      tasks: Tasks) -> None:
    _begin(context, row, statuses.RESIZING)
    delta = {'volumes': new_size - row['volume_size']}
    try:
        db_instances.change_quota(context, row['tenant_id'], delta,
                                  quotas.limits(context, row['tenant_id']))
    except exception.QuotaExceeded:
        _give_back(context, row, statuses.RESIZING)
        raise
    _cast_or_give_back(
        context, row, statuses.RESIZING,
        lambda: tasks.resize_volume(context, row['id'], new_size),
        quota=delta)


def resize_flavor(context, row: dict, reference: Any, tasks: Tasks) -> None:
    """Move to another flavor, counting the RAM difference."""
    flavor = resolve_flavor(context, reference, row['datastore_version'])
    if flavor['id'] == row['flavor_id']:
        raise exception.BadRequest(
            'The new flavor %s is the flavor the instance has already.'
            % flavor['id'])
    old = flavors.get(row['flavor_id'])
    _begin(context, row, statuses.RESIZING)
    delta = flavor['ram'] - old['ram']
    try:
        if delta > 0:
            db_instances.change_quota(
                context, row['tenant_id'], {'ram': delta},
                quotas.limits(context, row['tenant_id']))
    except exception.QuotaExceeded:
        _give_back(context, row, statuses.RESIZING)
        raise
    _cast_or_give_back(
        context, row, statuses.RESIZING,
        lambda: tasks.resize_flavor(context, row['id'], old['id'],
                                    flavor['id']),
        quota={'ram': delta} if delta > 0 else None)
    # A smaller flavor gives its RAM back once the resize is on its way.
    if delta < 0:
        db_instances.release_quota(context, row['tenant_id'],
                                   {'ram': -delta})


def stop_database(context, row: dict, guest: StopGuest) -> None:
    """Administrator: stop the instance's database, a synchronous guest
    call made under the instance's task (REBOOTING) like any other
    action, so that it cannot race a resize or an upgrade; the task is
    given back once the guest answers (or fails).

    :raises: UnprocessableEntity (422) when the instance is busy; what
        the guest call raises
    """
    _begin(context, row, statuses.REBOOTING)
    try:
        guest.stop_db(context)
    finally:
        _give_back(context, row, statuses.REBOOTING)


def server_and_volume(row: dict) -> tuple[dict | None, dict | None]:
    """Administrator's show: the instance's server and volume as the
    compute and volume drivers report them (None when gone)."""
    server = volume = None
    if row['server_id']:
        try:
            server = drivers.get('compute').get(row['server_id'])
        except exception.ServerNotFound:
            server = None
    if row['volume_id']:
        try:
            volume = drivers.get('volume').get(row['volume_id'])
        except exception.VolumeNotFound:
            volume = None
    return server, volume


def reset_status(context, row: dict) -> None:
    """Admin: no task, service status unknown until the next heartbeat;
    running backups FAILED (as in Trove)."""
    db_instances.set_task(context, row['id'], statuses.NONE)
    db_backups.fail_running(context, row['id'], 'An administrator reset '
                            'the status of the instance.')
    db_instances.set_service_status(context, row['id'], statuses.UNKNOWN)


def reset_task_status(context, row: dict) -> None:
    db_instances.set_task(context, row['id'], statuses.NONE)
    db_backups.fail_running(context, row['id'], 'An administrator reset '
                            'the task of the instance.')


def rebuild(context, row: dict, image_id: str, tasks: Tasks) -> None:
    drivers.get('image').get(image_id)
    _begin(context, row, statuses.BUILDING)
    _cast_or_give_back(context, row, statuses.BUILDING,
                       lambda: tasks.rebuild(context, row['id'], image_id))


def delete(context, row: dict, tasks: Tasks) -> None:
    """Start deleting; refused (422) while the instance builds or is
    being deleted."""
    if row.get('cluster_id'):
        # Trove's: a member goes with its cluster (cluster shrink).
        raise exception.ClusterInstanceOperationNotSupported()
    replication.check_delete(context, row)
    busy = (statuses.BUILDING.code, statuses.DELETING.code)
    allowed = tuple(code for code in statuses.TASKS if code not in busy)
    if row['task_id'] in busy or not db_instances.set_task(
            context, row['id'], statuses.DELETING, expected_tasks=allowed):
        raise exception.UnprocessableEntity(
            'Instance %s is not ready to be deleted: its status is %s.'
            % (row['id'], row['status']))
    _cast_or_give_back(context, row, statuses.DELETING,
                       lambda: tasks.delete_instance(context, row['id']))
