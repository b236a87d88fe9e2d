"""Change who may reach an instance's database (``access``: is_public,
allowed_cidrs): the guest's socket filter, the server's network rules,
then the record. The API set the task UPDATING; the flow ends with it
NONE. A failure gives the guest and the server their old access back,
keeps the old record and adds a fault with the reason."""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest


def get_flow() -> linear_flow.Flow:
    """Store: context, instance_id, old_access, new_access."""
    return linear_flow.Flow('update_access').add(
        db.ActionGuard('update_access', 'Updating the access'),
        guest.AllowClients(),
        compute.UpdateServerAccess(),
        db.RecordAccess(),
        db.EndAction('update_access'))
