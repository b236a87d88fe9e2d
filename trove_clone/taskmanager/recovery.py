"""What a taskmanager does beside its flows: at its start, resume its
unfinished flows (or start claiming from the jobboard) and settle the
instances left in a task with no flow at all (a cast lost with the
broker); periodically, fail builds no flow is running past their
deadline, restart dead guest agents of the local backend, send usage
notifications and forget finished flows.
"""
import time

from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import notification
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone import drivers
from trove_clone.taskmanager.flows import delete as delete_flow
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager.tasks import base
from trove_clone.taskmanager.tasks import db as db_tasks

LOG = logging.getLogger(__name__)
#: Seconds an instance's task may have started before its flow is saved
#: (the cast is on its way) without being taken for one with no flow.
RECOVERY_GRACE = 3.0


def start() -> list[str]:
    """At the taskmanager's start: run the flows, then settle the
    instances in a task that no flow carries; returns their ids."""
    jobs.start()
    context = trove_context.admin_context()
    try:
        rows = db_instances.in_progress(context)
    except Exception:  # noqa: B902 - serve anyway; the operator sees why
        LOG.exception('Cannot look for unfinished work in the control '
                      'database.')
        return []
    seen = [row['id'] for row in rows]
    if rows:
        jobs.recovery_executor().submit(_settle, context, seen)
    return seen


def _settle(context, instance_ids: list[str]) -> None:
    time.sleep(RECOVERY_GRACE)
    try:
        carried = jobs.unfinished_subjects()
    except Exception:  # noqa: B902 - without it nothing is safe to touch
        LOG.exception('Cannot read the saved flows.')
        return
    for instance_id in instance_ids:
        if instance_id in carried:
            continue
        try:
            _settle_one(context, instance_id, carried)
        except exception.InstanceNotFound:
            continue    # deleted since the taskmanager started
        except Exception:  # noqa: B902 - one instance must not stop the rest
            LOG.exception('Recovering instance %s failed.', instance_id)


def _settle_one(context, instance_id: str, carried=frozenset()) -> None:
    row = db_instances.get(context, instance_id)
    if row.get('cluster_id') and row['cluster_id'] in carried:
        return    # a cluster's flow (named after it) carries its members
    task = statuses.task(row['task_id'])
    if task is statuses.NONE or task.is_error or \
            task is statuses.RESTART_REQUIRED:
        return
    LOG.warning('Instance %s is in task %s with no flow: settling it.',
                instance_id, task.name)
    if task is statuses.DELETING:
        store = {'context': jobs.stored_context(context),
                 'instance_id': instance_id}
        jobs.submit(delete_flow.get_flow, instance_id, store)
    elif task is statuses.BUILDING:
        recover_build(context, row)
    else:
        _recover_action(context, row, task)


def recover_build(context, row: dict) -> None:
    """A build no flow carries: it becomes ACTIVE if its guest reports,
    ERROR (with what it made deleted) otherwise."""
    if not row['server_id']:
        db_tasks.build_failed(context, row['id'], base.StepFailed(
            'server', 'the taskmanager stopped before the server was '
            'created'), without_flow=True)
        return
    started = row['task_start_time'] or db_api.now()
    left = CONF.usage_timeout - (db_api.now() - started).total_seconds()
    try:
        if statuses.service_status(row['service_status']) is statuses.NEW:
            raise base.StepFailed('prepare', 'the taskmanager stopped '
                                  'before the guest was asked to prepare')
        base.wait_for_service(context, row['id'], max(left, 1))
    except base.StepFailed as failure:
        db_tasks.build_failed(context, row['id'], failure)
        return
    db_instances.set_task(context, row['id'], statuses.NONE,
                          expected_tasks=(statuses.BUILDING.code,))


def _recover_action(context, row: dict, task: statuses.Task) -> None:
    if task is statuses.BACKING_UP:
        # No flow waits for the guest's report: the backup cannot be
        # known to complete, and the instance must not stay busy.
        db_backups.fail_running(context, row['id'], 'The taskmanager '
                                'stopped while the backup ran.')
    try:
        base.wait_for_service(context, row['id'], CONF.reboot_time_out,
                              'wait')
    except base.StepFailed as failure:
        message = ('The taskmanager stopped during %s and the database did '
                   'not come back: %s' % (task.name.lower(), failure.reason))
        db_instances.add_fault(context, row['id'], message, failure.details)
    db_instances.set_task(context, row['id'], statuses.NONE)


def expire_stale_builds() -> None:
    """Fail builds no flow carries well past their deadline (a create
    cast lost while the broker restarted), so that no instance stays in
    BUILD for ever; a build a flow carries ends by its own deadlines."""
    context = trove_context.admin_context()
    limit = CONF.usage_timeout + CONF.server_time_out
    stale = [row for row in db_instances.in_progress(context)
             if row['task_id'] == statuses.BUILDING.code and
             row['task_start_time'] and
             (db_api.now() - row['task_start_time']).total_seconds() > limit]
    if not stale:
        return
    carried = jobs.unfinished_subjects()
    for row in stale:
        if row['id'] in carried or row.get('cluster_id') in carried:
            continue
        db_tasks.build_failed(context, row['id'], base.StepFailed(
            'deadline', 'the build did not finish within %d seconds'
            % limit), without_flow=True)


def notify_exists() -> int:
    """Send trove.instance.exists for every instance (usage audits);
    returns how many were sent."""
    context = trove_context.admin_context()
    sent = 0
    for instance_id in db_instances.active_ids(context):
        try:
            row = db_instances.get(context, instance_id)
        except exception.InstanceNotFound:
            continue
        notification.notify(context, 'trove.instance.exists',
                            base.payload(row, created_at=str(row['created'])))
        sent += 1
    return sent


def forget_finished_flows() -> int:
    return jobs.forget_finished(CONF.taskflow.finished_flow_keep)


def watch_servers() -> None:
    """Restart the guest agent of a server whose agent died (the local
    backend's servers are processes; a cloud's are not watched here)."""
    expire_stale_builds()
    if CONF.compute_driver != 'local':
        return
    context = trove_context.admin_context()
    compute = drivers.get('compute')
    for instance_id in db_instances.active_ids(context):
        row = db_instances.get(context, instance_id)
        if not row['server_id'] or row['task_id'] != statuses.NONE.code:
            continue
        try:
            server = compute.get(row['server_id'])
        except exception.ServerNotFound:
            continue
        # Only once the instance shows SHUTDOWN: its user sees what
        # happened, then sees it come back.
        silent = db_instances.heartbeat_age(row)
        if server['status'] == 'ERROR' and silent > \
                CONF.agent_heartbeat_expiry + CONF.server_watch_interval:
            LOG.warning('The guest agent of instance %s died: restarting '
                        'its server.', instance_id)
            compute.reboot(row['server_id'])
