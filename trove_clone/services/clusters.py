"""Business rules of clusters: create, show, grow, shrink, upgrade,
reset-status, delete.

A cluster's members are instances (``cluster_id`` set, ``type`` their
role) named ``<cluster>-member-N``; every one counts against the quota,
all counted in the statement that records the cluster, so a cluster that
does not fit is refused before anything is made. The work is cast to the
taskmanager through ``tasks`` (its RPC client), as for instances.
"""
import json
import re
from typing import Protocol

from oslo_log import log as logging
from oslo_utils import uuidutils

from trove_clone.common import cluster_tasks
from trove_clone.common import crypto
from trove_clone.common import engines
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import clusters as db_clusters
from trove_clone.db import instances as db_instances
from trove_clone.db import modules as db_modules
from trove_clone.services import instances as instance_service
from trove_clone.services import modules as module_service
from trove_clone.services import quotas

LOG = logging.getLogger(__name__)
#: The fewest members a cluster of each manager may have.
MIN_MEMBERS = {'redis': 3, 'mariadb': 3, 'mysql': 3}
#: The member roles each manager knows (the first is the default).
ROLES = {'redis': ('member', 'replica'), 'mariadb': ('member',),
         'mysql': ('member',)}
_MEMBER_NUMBER = re.compile(r'-member-([0-9]+)$')


class Tasks(Protocol):
    """What the cluster services cast to the taskmanager."""

    def create_cluster(self, context, cluster_id: str) -> None: ...

    def delete_cluster(self, context, cluster_id: str) -> None: ...

    def grow_cluster(self, context, cluster_id: str,
                     new_instance_ids: list) -> None: ...

    def shrink_cluster(self, context, cluster_id: str,
                       instance_ids: list) -> None: ...

    def upgrade_cluster(self, context, cluster_id: str,
                        datastore_version_id: str) -> None: ...


#: Engines whose clusters the taskmanager's flows know how to form. The
#: Galera guest (mariadb, mysql) has the cluster capability, but its
#: members each join by themselves (doc/clusters-galera.md), which the
#: flows do not do yet: until they do, its clusters are refused as Trove
#: refuses a datastore without clusters.
ORCHESTRATED = frozenset({'redis'})


def check_support(version: dict) -> None:
    """ClusterDatastoreNotSupported (501, Trove's) unless the version's
    engine has the cluster capability and the taskmanager forms its
    clusters."""
    descriptor = engines.managers().get(version['manager'])
    if descriptor is None or not descriptor.supports('cluster') or (
            version['manager'] not in ORCHESTRATED):
        raise exception.ClusterDatastoreNotSupported(
            datastore=version['datastore_name'],
            datastore_version=version['name'])


def _member_values(context, cluster_name: str, number: int, spec: dict,
                   version: dict, index: int, locality: str | None
                   ) -> tuple[dict, dict, list]:
    """(instance values, quota deltas, modules) of one member request."""
    where = 'instances[%d]' % index
    try:
        flavor = instance_service.resolve_flavor(
            context, spec.get('flavorRef'), version)
        size, volume_type = instance_service.check_volume(spec.get('volume'))
    except exception.BadRequest as error:
        raise exception.BadRequest('%s: %s' % (where, error.message))
    roles = ROLES.get(version['manager'], ('member',))
    role = spec.get('type') or roles[0]
    if isinstance(role, list):
        # The trove CLI's form: one role is all a member has.
        if len(role) != 1:
            raise exception.BadRequest('%s.type: give one role, not %r.'
                                       % (where, role))
        role = role[0]
    if role not in roles:
        raise exception.BadRequest(
            '%s.type: %r is not a role of a %s cluster (one of %s).' % (
                where, role, version['datastore_name'],
                ', '.join(roles)))
    modules = module_service.for_new_instance(
        context, spec.get('modules') or [], version)
    key = crypto.generate_key() if CONF.enable_secure_rpc_messaging \
        else None
    values = {
        'id': uuidutils.generate_uuid(),
        'name': '%s-member-%d' % (cluster_name, number),
        'tenant_id': context.project_id, 'flavor_id': flavor['id'],
        'volume_size': size, 'volume_type': volume_type,
        'datastore_version_id': version['id'], 'region_id': CONF.region,
        'availability_zone': spec.get('availability_zone'),
        'locality': locality, 'server_status': 'BUILD', 'type': role,
        'encrypted_key': secrets.wrap_instance_key(key) if key else None,
    }
    deltas = {'instances': 1, 'ram': flavor['ram']}
    if size:
        deltas['volumes'] = size
    return values, deltas, modules


def _members(context, cluster_name: str, specs: list, version: dict,
             first_number: int, locality: str | None
             ) -> tuple[list, dict, dict]:
    """(member values, summed deltas, modules by member id)."""
    members, total, modules = [], {}, {}
    for index, spec in enumerate(specs):
        values, deltas, wanted = _member_values(
            context, cluster_name, first_number + index, spec, version,
            index, locality)
        members.append(values)
        modules[values['id']] = wanted
        for resource, delta in deltas.items():
            total[resource] = total.get(resource, 0) + delta
    return members, total, modules


def _record_modules(context, modules: dict) -> None:
    for instance_id, wanted in modules.items():
        for module in wanted:
            db_modules.record_applied(context, instance_id, module['id'],
                                      module['md5'])


def create(context, spec: dict, tasks: Tasks) -> dict:
    """Check a create request, count every member's quota, record the
    cluster and its members and cast its creation; returns get()'s view.

    :raises: BadRequest naming the field; ClusterDatastoreNotSupported
        (501); QuotaExceeded (413) with nothing made
    """
    version = instance_service.resolve_version(context, spec['datastore'])
    check_support(version)
    specs = spec['instances']
    minimum = MIN_MEMBERS.get(version['manager'], 1)
    masters = [one for one in specs
               if one.get('type') not in ('replica', ['replica'])]
    if len(masters) < minimum:
        raise exception.BadRequest(
            'instances: a %s cluster needs at least %d members, not %d.'
            % (version['datastore_name'], minimum, len(masters)))
    cluster_id = uuidutils.generate_uuid()
    members, deltas, modules = _members(
        context, spec['name'], specs, version, 1, spec.get('locality'))
    properties = {key: spec[key] for key in ('locality',
                                             'extended_properties')
                  if spec.get(key)}
    db_clusters.create(context, {
        'id': cluster_id, 'name': spec['name'],
        'tenant_id': context.project_id,
        'datastore_version_id': version['id'],
        'properties': json.dumps(properties) if properties else None,
    }, members, deltas, quotas.limits(context, context.project_id))
    _record_modules(context, modules)
    _cast(context, cluster_id, [one['id'] for one in members],
          lambda: tasks.create_cluster(context, cluster_id))
    return get(context, cluster_id, context.project_id)


def _cast(context, cluster_id: str, member_ids: list, cast) -> None:
    """Cast; when it fails the members are put in error with a fault
    and the cluster's task ends, then the error is raised."""
    try:
        cast()
    except Exception as error:  # noqa: B902 - recorded, then raised
        LOG.warning('Cluster %s: the cast failed: %s', cluster_id, error)
        for instance_id in member_ids:
            db_instances.fail(
                context, instance_id, statuses.BUILDING_ERROR_SERVER,
                'The taskmanager could not be asked to build the '
                'cluster member.', str(error))
        db_clusters.set_task(context, cluster_id, cluster_tasks.NONE)
        raise


def get(context, cluster_id: str, project_id: str | None) -> dict:
    """A cluster with its ``datastore_version``, ``task`` and
    ``members`` (statuses derived).

    :raises: ClusterNotFound (404)
    """
    row = db_clusters.get(context, cluster_id, project_id)
    row['datastore_version'] = db_api.datastore_version_get(
        context, row['datastore_version_id'])
    row['task'] = cluster_tasks.task(row['task_id'])
    row['members'] = [instance_service.derive_status(member) for member in
                      db_clusters.members(context, cluster_id)]
    row['properties'] = json.loads(row.get('properties') or '{}')
    return row


def engine_state(context, row: dict, guest_of) -> str | None:
    """The engine's word on the cluster (Redis ``cluster_state``) from
    the first running member's guest (``guest_of(member)``); None when
    it does not answer."""
    for member in row['members']:
        if member.get('status') not in ('ACTIVE', 'HEALTHY'):
            continue
        try:
            return guest_of(member).cluster_status(context).get('state')
        except exception.TroveError as error:
            LOG.info('Cluster %s: no state from %s: %s', row['id'],
                     member['id'], error.message)
        return None
    return None


def list_page(context, project_id: str | None, limit: int | None,
              marker: str | None) -> tuple[list[dict], str | None]:
    """One page of clusters (as get() shows them) and the next marker."""
    size = instance_service.page_size(limit)
    rows = db_clusters.list_page(context, project_id, size + 1, marker)
    next_marker = None
    if len(rows) > size:
        rows, next_marker = rows[:size], rows[size - 1]['id']
    return [get(context, row['id'], None) for row in rows], next_marker


def _begin(context, row: dict, task: cluster_tasks.ClusterTask,
           expected: tuple = (cluster_tasks.NONE.code,)) -> None:
    if not db_clusters.set_task(context, row['id'], task, expected):
        raise exception.UnprocessableEntity(
            'Cluster %s is not currently available for an action to be '
            'performed (its task is %s).' % (row['id'], row['task'].name))


def _next_number(context, cluster_id: str) -> int:
    numbers = [int(found.group(1)) for found in (
        _MEMBER_NUMBER.search(name) for name in
        db_clusters.member_names(context, cluster_id)) if found]
    return max(numbers, default=0) + 1


def grow(context, row: dict, specs: list, tasks: Tasks) -> None:
    """Add members (their quota counted with the task change)."""
    version = row['datastore_version']
    members, deltas, modules = _members(
        context, row['name'], specs, version,
        _next_number(context, row['id']),
        row['properties'].get('locality'))
    if not db_clusters.add_members(context, row['id'], members, deltas,
                                   quotas.limits(context, row['tenant_id'])):
        raise exception.UnprocessableEntity(
            'Cluster %s is not currently available for an action to be '
            'performed (its task is %s).' % (row['id'], row['task'].name))
    _record_modules(context, modules)
    new_ids = [one['id'] for one in members]
    _cast(context, row['id'], new_ids,
          lambda: tasks.grow_cluster(context, row['id'], new_ids))


def shrink(context, row: dict, ids: list, tasks: Tasks) -> None:
    """Remove the members ``ids``; at least the minimum stays."""
    current = {member['id'] for member in row['members']}
    unknown = [one for one in ids if one not in current]
    if unknown:
        raise exception.BadRequest(
            'shrink: %s is not a member of cluster %s.' % (
                ', '.join(unknown), row['id']))
    if len(set(ids)) != len(ids):
        raise exception.BadRequest('shrink: an id is given twice.')
    version = row['datastore_version']
    minimum = MIN_MEMBERS.get(version['manager'], 1)
    left = [member for member in row['members'] if member['id'] not in ids
            and member.get('type') != 'replica']
    if len(left) < minimum:
        raise exception.BadRequest(
            'shrink: a %s cluster keeps at least %d members; %d would be '
            'left.' % (version['datastore_name'], minimum, len(left)))
    _begin(context, row, cluster_tasks.SHRINKING_CLUSTER)
    try:
        tasks.shrink_cluster(context, row['id'], list(ids))
    except Exception:  # noqa: B902 - given back, then raised
        db_clusters.set_task(context, row['id'], cluster_tasks.NONE)
        raise


def upgrade(context, row: dict, reference: str, tasks: Tasks) -> None:
    """Upgrade every member to the version ``reference`` names, one at a
    time."""
    version = instance_service.resolve_version(context, {
        'type': row['datastore_version']['datastore_name'],
        'version': reference})
    check_support(version)
    _begin(context, row, cluster_tasks.UPGRADING_CLUSTER)
    try:
        tasks.upgrade_cluster(context, row['id'], version['id'])
    except Exception:  # noqa: B902 - given back, then raised
        db_clusters.set_task(context, row['id'], cluster_tasks.NONE)
        raise


def reset_status(context, row: dict) -> None:
    """Admin: the cluster's task ends; its members' tasks end too."""
    db_clusters.set_task(context, row['id'], cluster_tasks.NONE)
    for member in row['members']:
        instance_service.reset_task_status(context, member)


def delete(context, row: dict, tasks: Tasks) -> None:
    """Delete the cluster and every member (from NONE or DELETING, as
    Trove; an administrator also from any task)."""
    expected = None if context.is_admin else (
        cluster_tasks.NONE.code, cluster_tasks.DELETING.code)
    _begin(context, row, cluster_tasks.DELETING, expected)
    for member in row['members']:
        db_instances.set_task(context, member['id'], statuses.DELETING)
    tasks.delete_cluster(context, row['id'])
