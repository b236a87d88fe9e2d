"""Notification tasks: the start and end events of a flow (its error
event is sent by the flow's guard when it reverts)."""
from trove_clone.common import notification
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.tasks import base


class Notify(base.InstanceTask):
    """Send ``event`` about the instance; the store values named in
    ``extra`` join the payload."""

    def __init__(self, event: str, extra: tuple = ()) -> None:
        super().__init__(name='notify %s' % event, requires=list(extra))
        self.event = event

    def execute(self, context, instance_id, **values):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id, deleted=True)
        notification.notify(context, self.event,
                            base.payload(row, **values))
