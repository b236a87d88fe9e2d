"""Control-database tasks: each flow's guard (its first task: it starts
the flow and, when the flow reverts, runs last to record the one fault
naming the failed task, send the error notification and set the task
status) and the tasks that record what a flow changed."""
import json

from oslo_log import log as logging

from trove_clone.common import notification
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import modules as db_modules
from trove_clone import drivers
from trove_clone.common import exception
from trove_clone.taskmanager.tasks import base
from trove_clone.taskmanager.tasks import compute as compute_tasks

LOG = logging.getLogger(__name__)


class BuildGuard(base.InstanceTask):
    """Start a build; on revert the instance goes to an error task with
    the fault naming the failed step, and nothing it made is left."""

    step = 'start'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        if row['task_id'] != statuses.BUILDING.code or row['server_id']:
            LOG.warning('Instance %s is not waiting to be built; the create '
                        'request is dropped.', instance_id)
            raise base.Dropped()
        notification.notify(context, 'dbaas.instance_create.start',
                            base.payload(row))

    def revert(self, context, instance_id, flow_failures, **kwargs):
        if base.dropped(flow_failures):
            return
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        build_failed(context, instance_id, failure)
        row = db_instances.get(context, instance_id, deleted=True)
        notification.notify(context, 'dbaas.instance_create.error',
                            base.payload(row, message=str(failure)),
                            error=True)


def build_failed(context, instance_id: str, failure: base.StepFailed,
                 without_flow: bool = False) -> bool:
    """Put a build in its error task with the fault, and delete what it
    made (its reverts did already; this also finds what no task
    recorded). ``without_flow``: only if no saved flow carries the build
    (recovery), decided in the same statement that fails it. Returns
    whether the build was failed."""
    task = {'volume': statuses.BUILDING_ERROR_VOLUME,
            'guest': statuses.BUILDING_ERROR_TIMEOUT_GA}.get(
        failure.step, statuses.BUILDING_ERROR_SERVER)
    row = db_instances.get(context, instance_id)
    message = 'Building the instance failed at step %s: %s' % (
        failure.step, failure.reason)
    values = dict(server_status='ERROR', server_id=None, volume_id=None)
    if without_flow:
        if not db_instances.fail_build_without_flow(
                context, instance_id, task, message, failure.details,
                **values):
            LOG.info('Instance %s has a flow now: its build is left to '
                     'it.', instance_id)
            return False
    else:
        db_instances.fail(context, instance_id, task, message,
                          failure.details, **values)
    LOG.error('Building instance %s failed at %s.', instance_id, failure)
    for server_id in filter(None, [row['server_id']]):
        compute_tasks.delete_server(server_id)
    if row['volume_id']:
        try:
            drivers.get('volume').delete(row['volume_id'])
        except exception.VolumeNotFound:
            pass
    compute_tasks.release_untracked(instance_id)
    return True


class MarkBuilt(base.InstanceTask):
    step = 'finish'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        db_instances.set_task(context, instance_id, statuses.NONE,
                              expected_tasks=(statuses.BUILDING.code,))
        row = db_instances.get(context, instance_id)
        notification.notify(context, 'trove.instance.create',
                            base.payload(row))
        notification.notify(context, 'dbaas.instance_create.end',
                            base.payload(row))


class ActionGuard(base.InstanceTask):
    """Start an action on a running instance; on revert a fault names the
    failed step and the task ends (NONE): the instance is usable again."""

    step = 'start'

    def __init__(self, action: str, label: str | None = None) -> None:
        super().__init__()
        self.action = action
        self.label = label or action.capitalize()

    def execute(self, context, instance_id):
        context = base.context_of(context)
        notification.notify(context, 'dbaas.instance_%s.start' % self.action,
                            base.payload(db_instances.get(context,
                                                          instance_id)))

    def revert(self, context, instance_id, flow_failures, **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        LOG.error('%s of instance %s failed at %s.', self.action,
                  instance_id, failure)
        db_instances.add_fault(context, instance_id, '%s failed at step '
                               '%s: %s' % (self.label, failure.step,
                                           failure.reason),
                               failure.details)
        db_instances.set_task(context, instance_id, statuses.NONE)
        notification.notify(context, 'dbaas.instance_%s.error' % self.action,
                            base.payload(db_instances.get(context,
                                                          instance_id)),
                            error=True)


class EndAction(base.InstanceTask):
    step = 'finish'

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action

    def execute(self, context, instance_id):
        context = base.context_of(context)
        db_instances.set_task(context, instance_id, statuses.NONE)
        notification.notify(context, 'dbaas.instance_%s.end' % self.action,
                            base.payload(db_instances.get(context,
                                                          instance_id)))


class RecordFlavor(base.InstanceTask):
    """Record the new flavor; the revert records the old one again."""

    step = 'record flavor'

    def execute(self, context, instance_id, old_flavor, new_flavor):
        context = base.context_of(context)
        db_instances.update(context, instance_id, {'flavor_id': new_flavor})
        notification.notify(context, 'trove.instance.modify_flavor',
                            base.payload(db_instances.get(context,
                                                          instance_id),
                                         old_instance_size=old_flavor,
                                         flavor_id=new_flavor))

    def revert(self, context, instance_id, old_flavor, **kwargs):
        db_instances.update(base.context_of(context), instance_id,
                            {'flavor_id': old_flavor})


class RecordAccess(base.InstanceTask):
    """Record the new access; the revert records the old one again."""

    step = 'record access'

    def execute(self, context, instance_id, new_access):
        db_instances.update(base.context_of(context), instance_id,
                            {'access': json.dumps(new_access)})

    def revert(self, context, instance_id, old_access, **kwargs):
        db_instances.update(base.context_of(context), instance_id, {
            'access': json.dumps(old_access) if old_access else None})


class DeleteGuard(base.InstanceTask):
    """Start a delete; on revert the instance shows ERROR with the fault,
    and the delete can be asked again."""

    step = 'start'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        notification.notify(context, 'dbaas.instance_delete.start',
                            base.payload(db_instances.get(context,
                                                          instance_id)))

    def revert(self, context, instance_id, flow_failures, **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        db_instances.fail(context, instance_id, statuses.NONE,
                          'Deleting the instance failed at step %s: %s'
                          % (failure.step, failure.reason),
                          failure.details, server_status='ERROR')
        notification.notify(context, 'dbaas.instance_delete.error',
                            base.payload(db_instances.get(context,
                                                          instance_id)),
                            error=True)


def flavor_ram(flavor_id: str) -> int:
    try:
        return drivers.get('flavor').get(flavor_id)['ram']
    except exception.FlavorNotFound:
        return 0


class MarkDeleted(base.InstanceTask):
    """The instance is gone: mark it deleted, give back its quota use
    (once, whoever runs this again)."""

    step = 'finish'

    def execute(self, context, instance_id, had_server, had_volume):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id, deleted=True)
        if not had_server or (row['volume_size'] and not had_volume):
            compute_tasks.release_untracked(instance_id)
        deleted = db_instances.mark_deleted(context, instance_id)
        db_modules.record_removed(context, instance_id)
        if deleted is not None:
            deltas = {'instances': 1, 'ram': flavor_ram(row['flavor_id'])}
            if row['volume_size']:
                deltas['volumes'] = row['volume_size']
            db_instances.release_quota(context, row['tenant_id'], deltas)
        notification.notify(context, 'trove.instance.delete',
                            base.payload(row))
        notification.notify(context, 'dbaas.instance_delete.end',
                            base.payload(row))


class UpgradeGuard(base.InstanceTask):
    """Start an upgrade. On revert: a refusal before the rebuild leaves the
    instance as it was (a fault says why); a later failure leaves ERROR
    with the fault, the data volume kept."""

    step = 'start'

    def execute(self, context, instance_id, datastore_version_id):
        context = base.context_of(context)
        notification.notify(context, 'trove.upgrade.start', base.payload(
            db_instances.get(context, instance_id),
            datastore_version_id=datastore_version_id))

    def revert(self, context, instance_id, datastore_version_id,
               flow_failures, **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        row = db_instances.get(context, instance_id)
        version = db_api.datastore_version_get(context,
                                               datastore_version_id)
        if failure.step in ('image', 'pre_upgrade'):
            db_instances.add_fault(
                context, instance_id, 'The upgrade to %s was refused at '
                'step %s: %s; the instance is unchanged.' % (
                    version['name'], failure.step, failure.reason),
                failure.details)
            db_instances.set_task(context, instance_id, statuses.NONE)
        else:
            LOG.error('Upgrading instance %s failed at %s: %s', instance_id,
                      failure.step, failure.reason)
            db_instances.fail(
                context, instance_id, statuses.BUILDING_ERROR_SERVER,
                ('The upgrade to %s failed at step %s: %s' % (
                    version['name'], failure.step, failure.reason))[:255],
                '%s\nThe data volume %s was kept.' % (
                    failure.details, row['volume_id']))
        notification.notify(context, 'trove.upgrade.error', base.payload(
            row, datastore_version_id=datastore_version_id), error=True)


class RecordVersion(base.InstanceTask):
    step = 'finish'

    def execute(self, context, instance_id, datastore_version_id):
        context = base.context_of(context)
        db_instances.update(context, instance_id,
                            {'datastore_version_id': datastore_version_id})
        db_instances.set_task(context, instance_id, statuses.NONE)
        notification.notify(context, 'trove.upgrade.end', base.payload(
            db_instances.get(context, instance_id),
            datastore_version_id=datastore_version_id))
