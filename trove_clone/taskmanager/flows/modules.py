"""Reapplying a module to the instances that have it, in batches.

An instance whose guest cannot apply the module keeps the md5 it had (so a
later reapply picks it up again) and gets a fault saying why; the other
instances go on.
"""
import time

from oslo_log import log as logging
from taskflow.patterns import linear_flow
from taskflow import task

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.db import modules as db_modules
from trove_clone.services import instances as instance_service
from trove_clone.services import modules as module_service
from trove_clone.taskmanager.tasks import base

LOG = logging.getLogger(__name__)


def reapply(context, module_id: str, md5: str | None,
            include_clustered: bool, batch_size: int, batch_delay: float,
            force: bool) -> list[str]:
    """Apply the module's current contents to the instances that have an
    older md5 (all of them with ``force``; only those at ``md5`` when
    given), ``batch_size`` at a time with ``batch_delay`` seconds between
    batches; returns the ids of the instances updated."""
    try:
        module = db_modules.get(context, module_id)
    except exception.ModuleNotFound:
        LOG.warning('Module %s was deleted before its reapply.', module_id)
        return []
    # A member reapplies to the instances of their own project only.
    targets = db_modules.reapply_targets(
        context, module_id, module['md5'], md5, include_clustered, force,
        None if context.is_admin else context.project_id)
    LOG.info('Reapplying module %s (%s) to %d instance(s), %d at a time.',
             module['name'], module['md5'], len(targets), batch_size)
    payload = module_service.payload(context, module)
    done = []
    batch_size = max(1, batch_size)
    for start in range(0, len(targets), batch_size):
        if start:
            time.sleep(batch_delay)
        for instance_id in targets[start:start + batch_size]:
            if _apply(context, instance_id, payload):
                done.append(instance_id)
    return done


def _apply(context, instance_id: str, payload: dict) -> bool:
    try:
        row = instance_service.get(context, instance_id, None)
    except exception.InstanceNotFound:
        return False
    if row['status'] not in statuses.GUEST_READY:
        LOG.warning('Instance %s is %s: module %s is not reapplied to it.',
                    instance_id, row['status'], payload['name'])
        return False
    try:
        results = base.guest_for(row).module_apply(context, [payload])
    except Exception as error:  # noqa: B902 - one guest must not stop the rest
        _fault(context, instance_id, payload, str(error))
        return False
    failed = module_service.record_results(context, instance_id, [payload],
                                           results)
    if failed:
        result = failed[0]['result']
        _fault(context, instance_id, payload, '%s: %s' % (
            result.get('status', 'no result'), result.get('message', '')))
    return not failed


def _fault(context, instance_id: str, payload: dict, details: str) -> None:
    LOG.error('Reapplying module %s to instance %s failed: %s',
              payload['name'], instance_id, details)
    db_instances.add_fault(context, instance_id,
                           'Reapplying module %s failed.' % payload['name'],
                           details)


class Reapply(task.Task):
    """One task: a reapply touches many instances, each of which either
    takes the module or gets a fault; there is nothing to undo."""

    def execute(self, context, module_id, md5, include_clustered,
                batch_size, batch_delay, force):
        return reapply(base.context_of(context), module_id, md5,
                       include_clustered, batch_size, batch_delay, force)


def get_flow() -> linear_flow.Flow:
    """Store: context, module_id, md5, include_clustered, batch_size,
    batch_delay, force."""
    return linear_flow.Flow('reapply_module').add(Reapply('reapply'))
