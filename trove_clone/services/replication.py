"""Business rules of replication: creating replicas of a primary,
promote (a planned switchover), eject (the primary is gone), detach,
and what the views of a replication set show.

The work is cast to the taskmanager (``flows/replication.py``); the
order of the guest calls is the contract of doc/replication-guest.md.
Every action takes its task on each member of the set in one
transaction of conditional UPDATEs (db/replication.py), so two
concurrent actions on a set cannot both start.
"""
import ipaddress
import json
from typing import Callable, Protocol

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone.db import replication as db_replication

LOG = logging.getLogger(__name__)
#: Managers whose guests have the replication capability.
SUPPORTED_MANAGERS = ('mariadb', 'mysql', 'postgresql', 'redis')
#: API statuses in which an instance can be the primary of a new replica.
_READY = ('ACTIVE', 'HEALTHY')


class Tasks(Protocol):
    """What this module casts to the taskmanager."""

    def promote_to_replica_source(self, context,
                                  instance_id: str) -> None: ...

    def eject_replica_source(self, context, instance_id: str) -> None: ...

    def detach_replica(self, context, instance_id: str) -> None: ...


def replica_names(name: str, count: int) -> list[str]:
    """The names of ``count`` replicas asked for as ``name``: the name
    itself for one, else ``name-1``, ``name-2``... (Trove's)."""
    if count <= 1:
        return [name]
    return ['%s-%d' % (name, index + 1) for index in range(count)]


def check_primary(primary: dict) -> None:
    """A new replica's primary must run a datastore with replication and
    be able to take an action (ACTIVE, no task).

    :raises: BadRequest (400) for a datastore without replication;
        UnprocessableEntity (422) for a primary that is not ready
    """
    version = primary['datastore_version']
    if version['manager'] not in SUPPORTED_MANAGERS:
        raise exception.BadRequest(
            'Replication is not supported for the %s datastore: instance '
            '%s cannot have replicas.' % (version['datastore_name'],
                                          primary['id']))
    if primary['status'] not in _READY or \
            primary['task_id'] != statuses.NONE.code:
        raise exception.UnprocessableEntity(
            'Instance %s is not currently available for an action to be '
            'performed (status was %s): a replica needs its primary '
            'ACTIVE.' % (primary['id'], primary['status']))


def replica_access(primary: dict) -> str | None:
    """The access a new replica gets: its primary's (clients that may
    reach the primary may read from its replicas)."""
    return primary.get('access')


def follower_address(address: str) -> str:
    """The address a follower's connections to its source come from: its
    own, except on loopback (the local backend), where they come from
    127.0.0.1."""
    try:
        if ipaddress.ip_address(address).is_loopback:
            return '127.0.0.1'
    except ValueError:
        pass
    return address


def cidrs_with(access: dict | None, addresses: list[str]) -> list[str] | None:
    """The source's ``allowed_cidrs`` with the followers' addresses added
    (as /32 or /128), or None when nothing needs adding (no CIDRs: any
    address may connect, or every follower is in them already)."""
    cidrs = list((access or {}).get('allowed_cidrs') or [])
    if not cidrs:
        return None
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]
    added = False
    for address in addresses:
        ip = ipaddress.ip_address(follower_address(address))
        if not any(ip in network for network in networks):
            network = ipaddress.ip_network(ip)
            networks.append(network)
            cidrs.append(str(network))
            added = True
    return cidrs if added else None


# --- actions ---------------------------------------------------------------

def _cast_or_give_back(context, members: list[str], task: statuses.Task,
                       cast: Callable[[], None]) -> None:
    try:
        cast()
    except Exception as error:  # noqa: B902 - given back, then raised
        LOG.warning('%s of %s not started, given back: %s', task.name,
                    members, error)
        db_replication.end_set_action(context, members, task)
        raise


def _busy(instance_id: str, action: str) -> exception.UnprocessableEntity:
    return exception.UnprocessableEntity(
        'Instance %s is not currently available for %s: every member of '
        'its replication set must be ACTIVE with no other action '
        'running.' % (instance_id, action))


def promote(context, row: dict, tasks: Tasks) -> None:
    """Start a planned switchover: the replica ``row`` becomes the
    primary, its primary and the other replicas follow it (task
    PROMOTING on all of them while it runs).

    :raises: BadRequest (400) for an instance that is not a replica;
        UnprocessableEntity (422) when a member of the set cannot take an
        action now
    """
    if not row['slave_of_id']:
        raise exception.BadRequest(
            'Instance %s is not a replica: only a replica can be promoted '
            'to replica source.' % row['id'])
    primary_id = row['slave_of_id']
    members = [primary_id] + db_replication.replica_ids(context, primary_id)
    if not db_replication.begin_set_action(context, members,
                                           statuses.PROMOTING):
        raise _busy(row['id'], 'a promotion')
    _cast_or_give_back(context, members, statuses.PROMOTING,
                       lambda: tasks.promote_to_replica_source(context,
                                                               row['id']))


def eject(context, row: dict, tasks: Tasks) -> None:
    """Start ejecting a primary that is gone: its most advanced replica
    becomes the primary and the others follow it (task EJECTING on all).

    :raises: BadRequest (400) for an instance without replicas, or whose
        guest still heartbeats (promote it away instead);
        UnprocessableEntity (422) when a member cannot take an action
    """
    replicas = db_replication.replica_ids(context, row['id'])
    if row['slave_of_id'] or not replicas:
        raise exception.BadRequest(
            'Instance %s is not a replica source: only the primary of '
            'replicas can be ejected.' % row['id'])
    age = db_instances.heartbeat_age(row)
    if age < CONF.agent_heartbeat_expiry:
        raise exception.BadRequest(
            'Replica source %s cannot be ejected as it has a current '
            'heartbeat (%.0f s old, under agent_heartbeat_expiry %d s): '
            'use promote_to_replica_source on a replica for a planned '
            'switchover.' % (row['id'], age, CONF.agent_heartbeat_expiry))
    members = [row['id']] + replicas
    if not db_replication.begin_set_action(context, replicas,
                                           statuses.EJECTING,
                                           idle_ids=(row['id'],)):
        raise _busy(row['id'], 'an ejection')
    _cast_or_give_back(context, members, statuses.EJECTING,
                       lambda: tasks.eject_replica_source(context,
                                                          row['id']))


def detach(context, row: dict, tasks: Tasks) -> None:
    """Start detaching the replica ``row`` from its primary: it keeps its
    data and takes writes (task DETACHING while it runs).

    :raises: BadRequest (400) for an instance that is not a replica;
        UnprocessableEntity (422) when it cannot take an action now
    """
    if not row['slave_of_id']:
        raise exception.BadRequest(
            'Instance %s is not a replica: there is nothing to detach.'
            % row['id'])
    if not db_instances.begin_action(context, row['id'],
                                     statuses.DETACHING):
        raise exception.UnprocessableEntity(
            'Instance %s is not currently available for an action to be '
            'performed (status was %s).' % (row['id'], row['status']))
    _cast_or_give_back(context, [row['id']], statuses.DETACHING,
                       lambda: tasks.detach_replica(context, row['id']))


def replicas_to_grow(context, row: dict, new_size: int,
                     get: Callable[..., dict]) -> list[dict]:
    """The replicas of a primary whose volume is smaller than
    ``new_size`` (a resize of the primary grows them too, as Trove's),
    as ``get(context, id, project)`` shows them."""
    found = []
    for replica_id in db_replication.replica_ids(context, row['id']):
        replica = get(context, replica_id, None)
        if (replica['volume_size'] or 0) < new_size:
            found.append(replica)
    return found


def check_accounts_change(row: dict) -> None:
    """Users and databases change on a primary, which replicates them,
    never on a replica (on MariaDB the change would be an errant GTID
    that breaks a later promotion; PostgreSQL standbys refuse it; Redis
    replicas get their users from the primary)."""
    if row.get('slave_of_id'):
        raise exception.BadRequest(
            'Instance %s is a replica: change users and databases on its '
            'primary %s, which replicates them.' % (row['id'],
                                                    row['slave_of_id']))


def check_delete(context, row: dict) -> None:
    """A primary that has replicas is not deleted (Trove's
    ReplicaSourceDeleteForbidden, 403)."""
    replicas = db_replication.replica_ids(context, row['id'])
    if replicas:
        raise exception.Forbidden(
            'The replica source %s cannot be deleted without detaching the '
            'replicas (%s): detach them, or promote one and detach the '
            'others, first.' % (row['id'], ', '.join(replicas)))


# --- views -------------------------------------------------------------------

def lag(status: dict | None) -> dict | None:
    """What show gives of a replica's replication status (the guest's
    heartbeat): state, lag in seconds and bytes, the engine's error."""
    if not status or status.get('role') != 'replica':
        return None
    return {key: status.get(key) for key in
            ('state', 'lag_seconds', 'lag_bytes', 'error')}


def add_view_fields(context, row: dict) -> dict:
    """Add ``replicas`` (ids of the followers) and, for a replica,
    ``replication`` (its lag from the last heartbeat) to a row."""
    row['replicas'] = db_replication.replica_ids(context, row['id'])
    row['replication'] = lag(db_replication.status_of(context, row['id'])) \
        if row.get('slave_of_id') else None
    return row


def add_list_fields(context, rows: list[dict]) -> None:
    """``replicas`` of each row of a page."""
    found = db_replication.replicas_by_primary(
        context, [row['id'] for row in rows])
    for row in rows:
        row['replicas'] = found.get(row['id'], [])


def access_of(row: dict) -> dict | None:
    return json.loads(row['access']) if row.get('access') else None
