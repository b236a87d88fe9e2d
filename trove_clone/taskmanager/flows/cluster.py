"""Cluster flows: one flow over several members, reverted as a whole.

Each member runs the instance flows' own tasks (create, delete,
upgrade), scoped to it: its ``instance_id`` (and build ``request``) are
injected, and what its tasks provide is renamed with the member's number,
so the members' steps run side by side in one flow. A failure anywhere
reverts every member's steps (each member's guard records its fault and
removes what it made), then the cluster's guard ends the cluster's task.
"""
import inspect

from taskflow.patterns import linear_flow
from taskflow.patterns import unordered_flow

from trove_clone.common import statuses
from trove_clone.taskmanager.tasks import cluster
from trove_clone.taskmanager.tasks import compute
from trove_clone.taskmanager.tasks import db
from trove_clone.taskmanager.tasks import guest
from trove_clone.taskmanager.tasks import volume

#: What the member tasks provide (renamed per member).
_PROVIDED = ('volume_id', 'image_id', 'server_id', 'modules',
             'restart_required', 'had_server', 'had_volume', 'upgrade_info')


def _scoped(number: int, member_id: str, made, inject: dict):
    """``made(name=..., **atom_kwargs)``'s task, scoped to one member."""
    suffix = '#%d' % number
    probe = made()
    wanted = set(inspect.signature(probe.execute).parameters)
    rebind = {name: name + suffix for name in _PROVIDED if name in wanted}
    kwargs = {'name': '%s%s' % (probe.name, suffix),
              'inject': dict(inject, instance_id=member_id)}
    if rebind:
        kwargs['rebind'] = rebind
    provided = getattr(probe, 'default_provides', None)
    if provided:
        kwargs['provides'] = provided + suffix
    return made(**kwargs)


def _create_tasks() -> list:
    return [
        db.BuildGuard, volume.CreateVolume, compute.FindImage,
        compute.CreateGuestQueue, compute.CreateServer,
        guest.ModulePayloads, guest.Prepare,
        lambda **kw: guest.WaitForService(kw.pop('name', 'guest'),
                                          'usage_timeout', step='guest',
                                          **kw),
        db.MarkBuilt]


def _build_members(members: list) -> unordered_flow.Flow:
    """The members' builds side by side; ``members`` is a list of
    ``[number, instance_id, request]``."""
    builds = unordered_flow.Flow('members')
    for number, member_id, request in members:
        builds.add(linear_flow.Flow('member#%d' % number).add(*[
            _scoped(number, member_id, made, {'request': request})
            for made in _create_tasks()]))
    return builds


def get_create_flow(members: list) -> linear_flow.Flow:
    """Store: context, cluster_id. ``members``: ``[number, instance_id,
    request]`` each (request: modules and cluster_config)."""
    return linear_flow.Flow('create_cluster').add(
        cluster.ClusterGuard('create'), _build_members(members),
        cluster.FormCluster(), cluster.EndClusterTask())


def get_grow_flow(members: list) -> linear_flow.Flow:
    """Store: context, cluster_id, new_instance_ids."""
    return linear_flow.Flow('grow_cluster').add(
        cluster.ClusterGuard('grow'), _build_members(members),
        cluster.JoinNew(), cluster.EndClusterTask())


def _delete_members(member_ids: list) -> unordered_flow.Flow:
    deletes = unordered_flow.Flow('member deletes')
    for number, member_id in enumerate(member_ids, 1):
        deletes.add(linear_flow.Flow('delete#%d' % number).add(*[
            _scoped(number, member_id, made, {}) for made in (
                db.DeleteGuard, compute.DeleteServer, volume.DeleteVolume,
                db.MarkDeleted)]))
    return deletes


def get_shrink_flow(member_ids: list) -> linear_flow.Flow:
    """Store: context, cluster_id, instance_ids."""
    return linear_flow.Flow('shrink_cluster').add(
        cluster.ClusterGuard('shrink'), cluster.RebalanceAway(),
        _delete_members(member_ids), cluster.EndClusterTask())


def get_delete_flow(member_ids: list) -> linear_flow.Flow:
    """Store: context, cluster_id."""
    return linear_flow.Flow('delete_cluster').add(
        cluster.ClusterGuard('delete'), _delete_members(member_ids),
        cluster.MarkClusterDeleted())


def get_upgrade_flow(member_ids: list) -> linear_flow.Flow:
    """Store: context, cluster_id, datastore_version_id. One member at a
    time, the cluster healthy again before the next."""
    flow = linear_flow.Flow('upgrade_cluster').add(
        cluster.ClusterGuard('upgrade'))
    for number, member_id in enumerate(member_ids, 1):
        flow.add(cluster.StartMemberTask('upgrading#%d' % number, member_id,
                                         statuses.UPGRADING))
        flow.add(*[_scoped(number, member_id, made, {}) for made in (
            db.UpgradeGuard, compute.FindImage, guest.PreUpgrade,
            compute.RebuildServer, guest.WaitForAgent, guest.PostUpgrade,
            lambda **kw: guest.WaitForService(
                kw.pop('name', 'post_upgrade wait'), 'usage_timeout',
                step='post_upgrade', **kw),
            db.RecordVersion)])
        flow.add(cluster.WaitClusterHealthy('healthy#%d' % number))
    return flow.add(cluster.RecordClusterVersion(),
                    cluster.EndClusterTask())
