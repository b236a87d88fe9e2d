"""Upgrade to another datastore version: pre_upgrade on the old image,
rebuild onto the new version's image (same volume, name and address),
post_upgrade on the new one. A refusal in pre_upgrade leaves the
instance as it was; a later failure leaves ERROR with a fault, the data
volume kept."""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest


def get_flow() -> linear_flow.Flow:
    """Store: context, instance_id, datastore_version_id."""
    return linear_flow.Flow('upgrade').add(
        db.UpgradeGuard(),
        compute.FindImage(),
        guest.PreUpgrade(),
        compute.RebuildServer(),
        guest.WaitForAgent(),
        guest.PostUpgrade(),
        guest.WaitForService('post_upgrade wait', 'usage_timeout',
                             step='post_upgrade'),
        db.RecordVersion())
