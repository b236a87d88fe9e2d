"""Build an instance: volume, server, guest prepare, wait healthy, its
configuration group."""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest
from trove_clone.taskmanager.tasks import volume


def get_flow() -> linear_flow.Flow:
    """Store: context, instance_id, request (databases, users, modules)."""
    return linear_flow.Flow('create_instance').add(
        db.BuildGuard(),
        volume.CreateVolume(),
        compute.FindImage(),
        compute.CreateGuestQueue(),
        compute.CreateServer(),
        guest.ModulePayloads(),
        guest.Prepare(),
        guest.WaitForService('guest', 'usage_timeout'),
        guest.ApplyConfiguration(),
        guest.RestartIfNeeded(),
        db.MarkBuilt())
