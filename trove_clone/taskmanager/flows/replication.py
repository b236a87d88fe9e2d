"""Replication: build a replica of a primary, promote a replica (a
planned switchover), eject a dead primary, detach a replica. The guest
calls follow doc/replication-guest.md; a failure records a fault that
names the step (after the new primary took writes, the members are left
in PROMOTION_ERROR/EJECTION_ERROR for an administrator)."""
from taskflow.patterns import linear_flow

from trove_clone.common import statuses
from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest
from trove_clone.taskmanager.tasks import replication
from trove_clone.taskmanager.tasks import volume

#: The steps after which the new primary takes writes.
_FORWARD = ('promote', 'follow', 'replication access', 'finish')


def get_create_flow() -> linear_flow.Flow:
    """Store: context, instance_id, request (``replica_of``, modules)."""
    return linear_flow.Flow('create_replica').add(
        db.BuildGuard(),
        volume.CreateVolume(),
        compute.FindImage(),
        compute.CreateGuestQueue(),
        compute.CreateServer(),
        guest.ModulePayloads(),
        replication.AllowFollower(),
        replication.SeedReplica(),
        guest.WaitForService('guest', 'usage_timeout'),
        guest.ApplyConfiguration(),
        guest.RestartIfNeeded(),
        db.MarkBuilt())


def get_promote_flow() -> linear_flow.Flow:
    """Store: context, instance_id (the replica to promote)."""
    return linear_flow.Flow('promote_to_replica_source').add(
        replication.SetGuard('promote', statuses.PROMOTING,
                             statuses.PROMOTION_ERROR, 'Promotion',
                             _FORWARD),
        replication.Candidate(name='candidate'),
        replication.Demote(),
        replication.CatchUp(),
        replication.Promote(),
        replication.FollowNewPrimary(old_primary_follows=True),
        replication.RecordSet('promote', statuses.PROMOTING,
                              old_primary_follows=True))


def get_eject_flow() -> linear_flow.Flow:
    """Store: context, instance_id (the dead primary)."""
    return linear_flow.Flow('eject_replica_source').add(
        replication.SetGuard('eject', statuses.EJECTING,
                             statuses.EJECTION_ERROR, 'Ejection', _FORWARD),
        replication.PickCandidate(),
        replication.Promote(),
        replication.FollowNewPrimary(old_primary_follows=False),
        replication.RecordSet('eject', statuses.EJECTING,
                              old_primary_follows=False))


def get_detach_flow() -> linear_flow.Flow:
    """Store: context, instance_id (the replica)."""
    return linear_flow.Flow('detach_replica').add(
        db.ActionGuard('detach'),
        replication.DetachReplica(),
        replication.RecordDetached())
