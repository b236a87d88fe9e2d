"""Actions on a running instance: restart (the database), reboot and
rebuild (the server). Each ends with the task NONE; a failure adds a
fault naming the failed step."""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest


def get_flow(action: str) -> linear_flow.Flow:
    """Store: context, instance_id (and image_id for rebuild)."""
    flow = linear_flow.Flow(action).add(db.ActionGuard(action))
    if action == 'restart':
        flow.add(guest.RestartDatabase(),
                 guest.WaitForService('wait', 'reboot_time_out'))
    elif action == 'reboot':
        flow.add(guest.StopDatabase(start_on_revert=False),
                 compute.RebootServer(),
                 guest.WaitForService('wait', 'reboot_time_out'))
    elif action == 'rebuild':
        flow.add(guest.StopDatabase(start_on_revert=False),
                 compute.RebuildServer(),
                 guest.WaitForService('wait', 'usage_timeout'))
    else:
        raise ValueError('No action %r.' % action)
    return flow.add(db.EndAction(action))
