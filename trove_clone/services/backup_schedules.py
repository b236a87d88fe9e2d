"""Scheduled backups with retention (an extension of Trove, which leaves
this to cron or Mistral).

An instance's ``backup_schedule`` is ``{"cron": "<5 fields, UTC>",
"keep": N}``, set with ``PATCH /instances/{id}`` (``{"instance":
{"backup_schedule": {...}}}``; ``null`` removes it). The taskmanagers
look for due runs every ``backup_schedule_interval`` seconds; each due
run is claimed with a conditional UPDATE of its next run
(db/backup_schedules.py), so exactly one taskmanager takes it. The run
creates a full backup named ``scheduled-<UTC time>`` (the user's own
quota and rules: a busy instance skips that run), then deletes the
oldest scheduled full backups beyond the newest ``keep`` (with their
incremental backups). The user's own backups are never deleted.
"""
import datetime
from typing import Protocol

from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.common import cron
from trove_clone.common import exception
from trove_clone.db import backup_schedules as db_schedules
from trove_clone.db import backups as db_backups
from trove_clone.db import models
from trove_clone.services import backups as backup_service

LOG = logging.getLogger(__name__)
#: The description that marks the backups a schedule took (and expires).
DESCRIPTION = 'Scheduled backup (backup_schedule).'
KEEP_MAX = 100


class Tasks(Protocol):

    def create_backup(self, context, backup_id: str,
                      instance_id: str) -> None: ...

    def delete_backup(self, context, backup_id: str) -> None: ...


def check(spec) -> dict | None:
    """A ``backup_schedule`` request as stored (None removes it).

    :raises BadRequest: naming backup_schedule.cron or .keep
    """
    if spec is None:
        return None
    if not isinstance(spec, dict) or set(spec) - {'cron', 'keep'}:
        raise exception.BadRequest(
            'backup_schedule must be {"cron": "<minute hour day month '
            'weekday>", "keep": <full backups kept>} or null.')
    try:
        cron.parse(spec.get('cron'))
    except cron.CronError as error:
        raise exception.BadRequest('backup_schedule.cron: %s.' % error)
    keep = spec.get('keep')
    if isinstance(keep, bool) or not isinstance(keep, int) or \
            not 1 <= keep <= KEEP_MAX:
        raise exception.BadRequest(
            'backup_schedule.keep must be a whole number from 1 to %d (the '
            'scheduled full backups kept).' % KEEP_MAX)
    return {'cron': spec['cron'], 'keep': keep}


def set_schedule(context, instance: dict, spec,
                 now: datetime.datetime | None = None) -> None:
    """Set or remove the schedule of ``instance`` (checked: ``check``);
    its first run is the first match after ``now`` (default: now)."""
    now = now or models.utcnow()
    schedule = check(spec)
    next_run = cron.parse(schedule['cron']).next_after(now) \
        if schedule else None
    if not db_schedules.set_schedule(context, instance['id'], schedule,
                                     next_run):
        raise exception.InstanceNotFound(instance=instance['id'])


def run_due(context, tasks: Tasks, now: datetime.datetime) -> list[str]:
    """Take every due run this caller claims; the ids of the instances
    it took a run of."""
    taken = []
    for row in db_schedules.due(context, now):
        schedule = row['schedule']
        if not schedule:
            continue
        following = cron.parse(schedule['cron']).next_after(now)
        if not db_schedules.claim(context, row['id'], row['next_run'],
                                  following):
            continue
        taken.append(row['id'])
        project = trove_context.TroveContext.from_dict(
            context.to_dict(), project_id=row['tenant_id'])
        take(project, row['id'], schedule['keep'], tasks, now)
    return taken


def take(context, instance_id: str, keep: int, tasks: Tasks,
         now: datetime.datetime) -> None:
    """One run: a full backup, then the expired scheduled ones deleted.
    A refusal (the instance busy, the quota) is logged: the next run
    tries again."""
    try:
        backup_service.create(context, {
            'name': 'scheduled-%s' % now.strftime('%Y%m%dT%H%M%SZ'),
            'instance': instance_id, 'description': DESCRIPTION}, tasks)
    except exception.TroveError as error:
        LOG.warning('Scheduled backup of instance %s skipped: %s',
                    instance_id, error.message)
    expire(context, instance_id, keep, tasks)


def expire(context, instance_id: str, keep: int, tasks: Tasks) -> list[str]:
    """Delete the scheduled full backups of the instance beyond the
    newest ``keep`` completed ones (with their incrementals); their ids."""
    rows = db_backups.list_page(context, None, 100000,
                                instance_id=instance_id)
    scheduled = [row for row in rows if row['description'] == DESCRIPTION
                 and not row['parent_id']
                 and row['state'] == db_backups.COMPLETED]
    deleted = []
    for row in scheduled[keep:]:
        try:
            backup_service.delete(context, row, tasks)
        except exception.TroveError as error:
            LOG.warning('Expired backup %s not deleted yet: %s', row['id'],
                        error.message)
            continue
        deleted.append(row['id'])
    return deleted
