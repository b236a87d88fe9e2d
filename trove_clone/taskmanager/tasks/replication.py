"""Replication tasks: seeding a new replica from its primary, a planned
switchover (promote), replacing a dead primary (eject), detaching a
replica, and letting followers through a source's ``allowed_cidrs``.

The guest calls are made in the order doc/replication-guest.md gives.
A snapshot or replica context holds a replication password: it is
used inside one task and never returned from it, so taskflow never
persists it.
"""
import json
import time

from oslo_log import log as logging
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.common import notification
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.db import replication as db_replication
from trove_clone.services import backups as backup_service
from trove_clone.services import deployment_secrets
from trove_clone.services import quotas
from trove_clone.services import replication as replication_service
from trove_clone.taskmanager.tasks import backup as backup_tasks
from trove_clone.taskmanager.tasks import base
from trove_clone.taskmanager.tasks import guest as guest_tasks

LOG = logging.getLogger(__name__)


def address_of(row: dict) -> str:
    """The instance's first address ('' when it has none yet)."""
    addresses = json.loads(row.get('addresses') or '[]')
    return addresses[0]['address'] if addresses else ''


def _long_guest(row: dict):
    return base.guest_for(row, timeout=CONF.agent_call_high_timeout)


def _manager(context, row: dict) -> str:
    return db_api.datastore_version_get(
        context, row['datastore_version_id'])['manager']


def allow_followers(context, source: dict, followers: list[dict]
                    ) -> str | None:
    """Have the source's guest accept its followers when its
    ``allowed_cidrs`` leave them out (recorded on the source too);
    returns the access it had (JSON) when it changed, else None."""
    access = replication_service.access_of(source)
    cidrs = replication_service.cidrs_with(
        access, [address_of(row) for row in followers])
    if cidrs is None:
        return None
    base.run_step('replication access', CONF.agent_call_high_timeout,
                  lambda: _long_guest(source).update_access(context, cidrs))
    db_instances.update(context, source['id'], {'access': json.dumps(
        dict(access or {}, allowed_cidrs=cidrs))})
    LOG.info('Instance %s now lets its followers in: %s.', source['id'],
             cidrs)
    return source['access']


def _restore_access(context, source_id: str, access: str | None) -> None:
    row = db_instances.get(context, source_id)
    cidrs = guest_tasks.allowed_cidrs(json.loads(access or 'null'))
    try:
        _long_guest(row).update_access(context, cidrs)
    except exception.TroveError as error:
        LOG.warning('Instance %s: its old allowed CIDRs were not given '
                    'back: %s', source_id, error.message)
    db_instances.update(context, source_id, {'access': access})


def follow(context, source: dict, follower: dict) -> None:
    """The follower (re)attaches to the source, with a fresh account."""
    info = {'id': follower['id'], 'address': address_of(follower)}
    replica_context = _long_guest(source).get_replica_context(context, info)
    _long_guest(follower).attach_replica(context, replica_context)


def cleanup_source(context, source: dict, replica_id: str) -> None:
    """The source drops a follower's account (and slot); a source that
    does not answer is logged, not fatal (its delete cleans up)."""
    try:
        _long_guest(source).cleanup_source_on_replica_detach(
            context, {'replica_id': replica_id})
    except exception.TroveError as error:
        LOG.warning('Instance %s did not drop the account of its former '
                    'follower %s: %s', source['id'], replica_id,
                    error.message)


# --- create ------------------------------------------------------------------

class AllowFollower(base.InstanceTask):
    """The primary lets the new replica in (its allowed_cidrs); the
    revert gives it its old access."""

    step = 'replication access'
    default_provides = 'primary_old_access'

    def execute(self, context, instance_id, request):
        context = base.context_of(context)
        primary = db_instances.get(context, request['replica_of'])
        replica = db_instances.get(context, instance_id)
        return allow_followers(context, primary, [replica])

    def revert(self, context, instance_id, request, result, **kwargs):
        if isinstance(result, str):
            _restore_access(base.context_of(context), request['replica_of'],
                            result)


def _seed_backup(context, primary: dict) -> dict:
    """The backup record (NEW) a MariaDB replica is seeded from: the
    primary takes BACKING_UP as for any backup (a second replica built
    at once waits for the first one's backup)."""
    values = {
        'id': uuidutils.generate_uuid(),
        'name': 'replica seed of %s' % primary['id'],
        'description': 'Taken to seed a replica.',
        'tenant_id': primary['tenant_id'], 'instance_id': primary['id'],
        'parent_id': None,
        'datastore_version_id': primary['datastore_version_id'],
        'backup_type': backup_service.FULL,
        'storage_driver': CONF.storage_strategy, 'location': None,
        'metadata': {'container': CONF.backup_swift_container},
    }
    limits = quotas.limits(context, primary['tenant_id'])

    def create() -> dict:
        while True:
            try:
                return db_backups.create(context, dict(values), limits)
            except exception.UnprocessableEntity:
                # Another replica's seed (or a backup) runs: wait for it.
                time.sleep(max(CONF.state_poll_interval, 0.5))

    return base.run_step('replica', CONF.usage_timeout, create)


def _restore_from(context, dataset: dict, version: dict) -> dict:
    """prepare's backup_info for the snapshot's fresh backup."""
    return {'id': dataset['id'], 'datastore': version['manager'],
            'datastore_version': version['name'],
            'chain': [{'id': dataset['id'],
                       'location': dataset.get('location'),
                       'checksum': dataset.get('checksum'),
                       'metadata': dataset.get('metadata') or {}}],
            'storage': backup_service.backup_storage_options(context),
            'encryption_key': deployment_secrets.backup_key()}


class SeedReplica(base.InstanceTask):
    """The primary makes the replica's account (and, for MariaDB, a
    fresh backup); the replica's guest is asked to prepare from that
    snapshot: seed, start, attach, then report healthy. Once: a resumed
    flow whose guest was asked already does not ask again. The revert
    drops the account (and the PostgreSQL slot) on the primary."""

    step = 'replica'

    def execute(self, context, instance_id, request, modules):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        if statuses.service_status(row['service_status']) is not \
                statuses.NEW:
            LOG.info('Replica %s: its guest was asked to prepare already.',
                     instance_id)
            return
        primary = db_instances.get(context, request['replica_of'])
        primary_guest = base.guest_for(
            primary, timeout=max(CONF.backup_timeout,
                                 CONF.agent_call_high_timeout))
        required = base.run_step(
            self.step, CONF.agent_call_high_timeout,
            lambda: primary_guest.backup_required_for_replication(context))
        info: dict = {'replica': {'id': instance_id,
                                  'address': address_of(row)}}
        backup = None
        if required:
            backup = _seed_backup(context, primary)
            info['backup_info'] = backup_service.backup_info(
                context, backup, primary, CONF.backup_swift_container)
        try:
            snapshot = base.run_step(
                self.step, CONF.backup_timeout,
                lambda: primary_guest.get_replication_snapshot(context,
                                                               info))
        finally:
            if backup is not None:
                backup_tasks.end_backup_task(context, primary['id'])
        version = db_api.datastore_version_get(context,
                                               row['datastore_version_id'])
        backup_info = None
        if snapshot.get('dataset'):
            backup_info = _restore_from(context, snapshot['dataset'],
                                        version)
        cidrs = guest_tasks.allowed_cidrs(json.loads(row['access'] or
                                                     'null'))
        base.run_step(self.step, 30, lambda: base.guest_for(row).prepare(
            context, version['manager'], modules=modules,
            backup_info=backup_info, allowed_cidrs=cidrs,
            snapshot=snapshot))

    def revert(self, context, instance_id, request, **kwargs):
        context = base.context_of(context)
        try:
            primary = db_instances.get(context, request['replica_of'])
        except exception.InstanceNotFound:
            return
        cleanup_source(context, primary, instance_id)


# --- promote, eject, detach --------------------------------------------------

class SetGuard(base.InstanceTask):
    """Start an action on a replication set (its members took the task
    in the API); provides ``members``: ``primary`` (the current one),
    ``replicas`` (its followers). On revert the action's fault is on the
    instance acted on; before ``point_of_no_return`` every member gets
    NONE back, after it ``error_task`` (the set is half-moved: an
    administrator looks)."""

    step = 'start'
    default_provides = 'members'

    def __init__(self, action: str, task: statuses.Task,
                 error_task: statuses.Task, label: str,
                 point_of_no_return: tuple[str, ...]) -> None:
        super().__init__()
        self.action = action
        self.task = task
        self.error_task = error_task
        self.label = label
        self.point_of_no_return = point_of_no_return

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        primary_id = row['slave_of_id'] or row['id']
        notification.notify(context, 'dbaas.instance_%s.start'
                            % self.action, base.payload(row))
        return {'primary': primary_id,
                'replicas': db_replication.replica_ids(context, primary_id)}

    def revert(self, context, instance_id, result, flow_failures,
               **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        LOG.error('%s of %s failed at %s.', self.label, instance_id,
                  failure)
        members = [instance_id]
        if isinstance(result, dict):
            members = [result['primary']] + list(result['replicas'])
        back_to = self.error_task if failure.step in \
            self.point_of_no_return else statuses.NONE
        db_instances.add_fault(context, instance_id, '%s failed at step '
                               '%s: %s' % (self.label, failure.step,
                                           failure.reason),
                               failure.details)
        db_replication.end_set_action(context, members, self.task, back_to)
        notification.notify(context, 'dbaas.instance_%s.error'
                            % self.action, base.payload(
                                db_instances.get(context, instance_id)),
                            error=True)


class Demote(base.InstanceTask):
    """The primary stops taking writes (PostgreSQL: stops cleanly) and
    says where its last write is; the revert lets it take writes again."""

    step = 'demote'
    default_provides = 'latest_txn'

    def execute(self, context, members):
        context = base.context_of(context)
        primary = db_instances.get(context, members['primary'])
        guest = _long_guest(primary)
        base.run_step(self.step, CONF.agent_call_high_timeout,
                      lambda: guest.demote_replication_master(context))
        return base.run_step(self.step, CONF.agent_call_high_timeout,
                             lambda: guest.get_latest_txn_id(context))

    def revert(self, context, members, **kwargs):
        context = base.context_of(context)
        primary = db_instances.get(context, members['primary'])
        guest = _long_guest(primary)
        try:
            if _manager(context, primary) == 'postgresql':
                guest.start_db(context)
            else:
                guest.make_read_only(context, False)
        except exception.TroveError as error:
            LOG.error('Instance %s was not given its writes back: %s',
                      primary['id'], error.message)


class CatchUp(base.InstanceTask):
    """The replica applies everything the demoted primary wrote."""

    step = 'catch up'

    def execute(self, context, instance_id, latest_txn):
        context = base.context_of(context)
        replica = db_instances.get(context, instance_id)
        base.run_step(self.step, CONF.agent_call_high_timeout,
                      lambda: _long_guest(replica).wait_for_txn(
                          context, latest_txn, timeout=60))


class PickCandidate(base.InstanceTask):
    """Eject: the most advanced replica that answers (get_last_txn's
    highest rank) becomes the new primary."""

    step = 'elect'
    default_provides = 'candidate'

    def execute(self, context, members):
        context = base.context_of(context)
        best, best_rank = None, None
        for replica_id in members['replicas']:
            row = db_instances.get(context, replica_id)
            try:
                last = _long_guest(row).get_last_txn(context)
            except exception.TroveError as error:
                LOG.warning('Replica %s does not answer: %s', replica_id,
                            error.message)
                continue
            if best_rank is None or last['rank'] > best_rank:
                best, best_rank = replica_id, last['rank']
        if best is None:
            raise base.StepFailed(self.step, 'no replica answered')
        LOG.info('Replica %s (rank %s) is the most advanced.', best,
                 best_rank)
        return best


class Promote(base.InstanceTask):
    """The new primary stops following and takes writes."""

    step = 'promote'

    def execute(self, context, candidate):
        context = base.context_of(context)
        row = db_instances.get(context, candidate)
        base.run_step(self.step, CONF.agent_call_high_timeout,
                      lambda: _long_guest(row).enable_as_master(context))


class FollowNewPrimary(base.InstanceTask):
    """Every other member follows the new primary (the old primary too
    in a switchover, not after an eject); the old primary drops the
    accounts of its former followers."""

    step = 'follow'

    def __init__(self, old_primary_follows: bool) -> None:
        super().__init__()
        self.old_primary_follows = old_primary_follows

    def execute(self, context, members, candidate):
        context = base.context_of(context)
        new = db_instances.get(context, candidate)
        followers = [replica_id for replica_id in members['replicas']
                     if replica_id != candidate]
        if self.old_primary_follows:
            followers.insert(0, members['primary'])
        rows = [db_instances.get(context, row_id) for row_id in followers]
        allow_followers(context, new, rows)
        for row in rows:
            base.run_step(self.step, CONF.agent_call_high_timeout,
                          lambda: follow(context, new, row))
        if self.old_primary_follows:
            old = db_instances.get(context, members['primary'])
            for replica_id in members['replicas']:
                cleanup_source(context, old, replica_id)


class RecordSet(base.InstanceTask):
    """Record the new set (who follows whom) and end every member's
    task; an ejected primary follows nobody and gets a fault saying
    so."""

    step = 'finish'

    def __init__(self, action: str, task: statuses.Task,
                 old_primary_follows: bool) -> None:
        super().__init__()
        self.action = action
        self.task = task
        self.old_primary_follows = old_primary_follows

    def execute(self, context, instance_id, members, candidate):
        context = base.context_of(context)
        sources: dict = {candidate: None}
        for replica_id in members['replicas']:
            if replica_id != candidate:
                sources[replica_id] = candidate
        sources[members['primary']] = candidate if \
            self.old_primary_follows else None
        db_replication.set_sources(context, sources)
        if not self.old_primary_follows:
            db_instances.add_fault(
                context, members['primary'], 'Ejected as replica source: '
                'instance %s is the primary now.' % candidate,
                'This instance no longer takes part in replication; '
                'delete it, or detach and rebuild it as a replica.')
        members_ids = [members['primary']] + list(members['replicas'])
        db_replication.end_set_action(context, members_ids, self.task)
        notification.notify(context, 'dbaas.instance_%s.end'
                            % self.action, base.payload(
                                db_instances.get(context, instance_id)))


class Candidate(base.InstanceTask):
    """Promote: the instance acted on is the new primary."""

    step = 'start'
    default_provides = 'candidate'

    def execute(self, instance_id):
        return instance_id


class DetachReplica(base.InstanceTask):
    """The replica stops following for good and takes writes, then its
    source drops its account; the revert (a failure at the record)
    attaches it again."""

    step = 'detach'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        info = base.run_step(self.step, CONF.agent_call_high_timeout,
                             lambda: _long_guest(row).detach_replica(
                                 context))
        if row['slave_of_id']:
            try:
                source = db_instances.get(context, row['slave_of_id'])
            except exception.InstanceNotFound:
                return
            cleanup_source(context, source,
                           (info or {}).get('replica_id') or instance_id)


class RecordDetached(base.InstanceTask):
    step = 'finish'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        db_replication.set_sources(context, {instance_id: None})
        db_instances.set_task(context, instance_id, statuses.NONE)
        notification.notify(context, 'dbaas.instance_detach.end',
                            base.payload(db_instances.get(context,
                                                          instance_id)))


class ForgetReplica(base.InstanceTask):
    """Deleting a replica: its source drops its account and slot (a
    PostgreSQL slot keeps WAL until dropped). Best effort."""

    step = 'replication cleanup'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        if not row['slave_of_id']:
            return
        try:
            source = db_instances.get(context, row['slave_of_id'])
        except exception.InstanceNotFound:
            return
        if db_instances.heartbeat_age(source) > CONF.agent_heartbeat_expiry:
            LOG.warning('Replica %s deleted while its source %s is silent: '
                        'the source keeps its account.', instance_id,
                        source['id'])
            return
        cleanup_source(context, source, instance_id)
