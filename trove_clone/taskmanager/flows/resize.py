"""Resizes: the volume (grow only) and the flavor (the server moves back
to the old flavor when the database does not come back on the new one).
The quota the API counted is held by the flow and given back on revert.
"""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest
from trove_clone.taskmanager.tasks import quota
from trove_clone.taskmanager.tasks import volume


def get_volume_flow() -> linear_flow.Flow:
    """Store: context, instance_id, old_size, new_size."""
    return linear_flow.Flow('resize_volume').add(
        db.ActionGuard('resize_volume'),
        quota.HoldVolumeQuota(),
        guest.StopDatabase(),
        volume.ExtendVolume(),
        volume.RecordVolumeSize(),
        guest.StartDatabase(),
        guest.WaitForService('wait', 'resize_time_out'),
        db.EndAction('resize_volume'))


def get_flavor_flow() -> linear_flow.Flow:
    """Store: context, instance_id, old_flavor, new_flavor."""
    return linear_flow.Flow('resize_flavor').add(
        db.ActionGuard('resize_flavor'),
        quota.HoldFlavorQuota(),
        # Started again by its revert only when the server did not move
        # (then the revert of the move reboots it, and its agent starts
        # the database).
        guest.StopDatabase(start_on_revert=('update flavor',
                                            'resize server')),
        guest.UpdateFlavor(),
        compute.ResizeServer(),
        db.RecordFlavor(),
        guest.WaitForService('wait', 'resize_time_out'),
        db.EndAction('resize_flavor'))
