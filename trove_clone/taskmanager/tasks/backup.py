"""Backup tasks: start a backup on the guest and wait for its report,
delete the stored objects of backups.

The create flow's guard gives the instance back (its task BACKING_UP
ends) whatever happens, and marks a backup that did not complete FAILED
with the reason; the delete flow's guard marks DELETE_FAILED."""
import time

from oslo_log import log as logging
from taskflow import task

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import notification
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.drivers import backup_storage
from trove_clone.services import backups as backup_service
from trove_clone.taskmanager.tasks import base

LOG = logging.getLogger(__name__)


def _payload(row: dict, **extra) -> dict:
    values = {'backup_id': row['id'], 'name': row['name'],
              'instance_id': row['instance_id'],
              'description': row['description'],
              'parent_id': row['parent_id'],
              'tenant_id': row['tenant_id']}
    values.update(extra)
    return values


def end_backup_task(context, instance_id: str) -> None:
    """The instance's BACKING_UP task ends (only that task: a delete or
    an administrator's reset since then keeps its own)."""
    db_instances.end_action(context, instance_id, statuses.BACKING_UP,
                            statuses.NONE)


class BackupGuard(base.InstanceTask):
    """Start a backup; on revert the backup is FAILED with the reason of
    the failed step (unless it ended already) and the instance gets its
    task back."""

    step = 'start'

    def execute(self, context, instance_id, backup_id):
        context = base.context_of(context)
        row = db_backups.get(context, backup_id, deleted=True)
        notification.notify(context, 'dbaas.backup_create.start',
                            _payload(row))

    def revert(self, context, instance_id, backup_id, flow_failures,
               **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        LOG.error('Backup %s of instance %s failed at %s.', backup_id,
                  instance_id, failure)
        db_backups.set_state(context, backup_id, db_backups.FAILED,
                             expected=db_backups.RUNNING,
                             fail_reason=failure.reason[:1000])
        end_backup_task(context, instance_id)
        row = db_backups.get(context, backup_id, deleted=True)
        notification.notify(context, 'dbaas.backup_create.error',
                            _payload(row, message=str(failure)),
                            error=True)


class StartBackup(base.InstanceTask):
    """Mark the backup BUILDING and cast the guest's create_backup, once:
    a resumed flow whose backup left NEW does not cast again (a cast lost
    with the taskmanager ends in WaitForBackup's timeout)."""

    step = 'backup'

    def execute(self, context, instance_id, backup_id):
        context = base.context_of(context)
        backup = db_backups.get(context, backup_id)
        if not db_backups.set_state(context, backup_id, db_backups.BUILDING,
                                    expected=(db_backups.NEW,)):
            LOG.info('Backup %s was started already (%s).', backup_id,
                     backup['state'])
            return
        instance = db_instances.get(context, instance_id)
        container = backup['metadata'].get('container') or \
            CONF.backup_swift_container
        info = backup_service.backup_info(context, backup, instance,
                                          container)
        base.run_step(self.step, 30, lambda: base.guest_for(
            instance).create_backup(context, info))


def _ended(context, instance_id: str, backup_id: str) -> dict | None:
    """The backup when it ended (COMPLETED or FAILED), else None.

    :raises: StepFailed when the instance went away or left BACKING_UP
        (deleted, reset by an administrator)
    """
    row = db_backups.get(context, backup_id, deleted=True)
    if row['state'] not in db_backups.RUNNING:
        return row
    try:
        instance = db_instances.get(context, instance_id)
    except exception.InstanceNotFound:
        raise base.StepFailed('wait', 'the instance was deleted while its '
                              'backup ran')
    if instance['task_id'] != statuses.BACKING_UP.code:
        raise base.StepFailed('wait', 'the instance left its backup task '
                              '(%s)' % statuses.task(
                                  instance['task_id']).name)
    return None


class WaitForBackup(base.InstanceTask):
    """Wait until the guest reports the backup COMPLETED or FAILED
    (through the conductor), for at most backup_timeout seconds."""

    step = 'wait'

    def execute(self, context, instance_id, backup_id):
        context = base.context_of(context)
        give_up = time.monotonic() + CONF.backup_timeout
        while True:
            row = _ended(context, instance_id, backup_id)
            if row is not None:
                break
            if time.monotonic() > give_up:
                raise base.StepFailed(
                    self.step, 'the backup did not complete within %d '
                    'seconds' % CONF.backup_timeout)
            time.sleep(max(CONF.state_poll_interval, 0.5))
        if row['state'] != db_backups.COMPLETED:
            raise base.StepFailed(self.step, row['fail_reason'] or
                                  'the guest reported the backup %s'
                                  % row['state'])


class EndBackup(base.InstanceTask):
    step = 'finish'

    def execute(self, context, instance_id, backup_id):
        context = base.context_of(context)
        end_backup_task(context, instance_id)
        row = db_backups.get(context, backup_id, deleted=True)
        notification.notify(context, 'trove.backup.create', _payload(
            row, size=row['size'], location=row['location']))
        notification.notify(context, 'dbaas.backup_create.end',
                            _payload(row))


# --- delete ------------------------------------------------------------------

class BackupTask(task.Task):
    """A task about one backup: ``context`` and ``backup_id`` come from
    the flow's store."""

    step = ''

    def __init__(self) -> None:
        super().__init__(name=self.step)


class DeleteGuard(BackupTask):
    """Start deleting; on revert the backups not deleted yet are
    DELETE_FAILED with the reason, and the delete can be asked again."""

    step = 'start'

    def execute(self, context, backup_id):
        context = base.context_of(context)
        row = db_backups.get(context, backup_id, deleted=True)
        notification.notify(context, 'dbaas.backup_delete.start',
                            _payload(row))

    def revert(self, context, backup_id, flow_failures, **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        LOG.error('Deleting backup %s failed at %s.', backup_id, failure)
        for row in _doomed(context, backup_id):
            db_backups.set_state(context, row['id'],
                                 db_backups.DELETE_FAILED,
                                 fail_reason=failure.reason[:1000])
        row = db_backups.get(context, backup_id, deleted=True)
        notification.notify(context, 'dbaas.backup_delete.error',
                            _payload(row, message=str(failure)),
                            error=True)


def _doomed(context, backup_id: str) -> list[dict]:
    """The backup and its descendants not deleted yet, deepest first."""
    rows = backup_service.descendants(context, backup_id)
    try:
        rows.append(db_backups.get(context, backup_id))
    except exception.BackupNotFound:
        pass
    return rows


def storage_for(context, row: dict):
    """The storage driver of a stored backup (the storage it was
    written to), built as the guest built it: for the backup's project
    (an administrator deleting it reaches that project's account)."""
    if context.project_id != row['tenant_id']:
        context = trove_context.TroveContext.from_dict(
            context.to_dict(), project_id=row['tenant_id'])
    return backup_storage.load(backup_service.backup_storage_options(
        context, driver=row['storage_driver']))


class DeleteObjects(BackupTask):
    """Delete the stored objects of the backup and of its incremental
    descendants, deepest first, each row as soon as its object is gone
    (a resumed flow finds those done)."""

    step = 'storage'

    def execute(self, context, backup_id):
        context = base.context_of(context)
        for row in _doomed(context, backup_id):
            if row['location']:
                base.run_step(self.step, CONF.backup_timeout,
                              lambda: storage_for(context, row).delete(
                                  row['location']))
            if db_backups.mark_deleted(context, row['id']):
                notification.notify(context, 'trove.backup.delete',
                                    _payload(row))


class MarkDeleted(BackupTask):
    step = 'finish'

    def execute(self, context, backup_id):
        context = base.context_of(context)
        row = db_backups.get(context, backup_id, deleted=True)
        notification.notify(context, 'dbaas.backup_delete.end',
                            _payload(row))
