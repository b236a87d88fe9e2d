"""Delete an instance: its server, its volume, then the instance and its
quota use; a failure leaves ERROR with a fault, and the delete can be
asked again."""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import replication
from trove_clone.taskmanager.tasks import volume


def get_flow() -> linear_flow.Flow:
    """Store: context, instance_id."""
    return linear_flow.Flow('delete_instance').add(
        db.DeleteGuard(),
        replication.ForgetReplica(),
        compute.DeleteServer(),
        volume.DeleteVolume(),
        db.MarkDeleted())
