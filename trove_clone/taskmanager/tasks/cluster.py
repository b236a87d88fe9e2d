"""Cluster tasks: the guard of a cluster flow, and the steps that form,
rebalance and shrink a cluster through its members' guests (the guest
cluster contract of doc/clusters.md)."""
import json
import time

from oslo_log import log as logging
from taskflow import task

from trove_clone.common import cluster_tasks
from trove_clone.common import envelope
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import clusters as db_clusters
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager.tasks import base

LOG = logging.getLogger(__name__)
#: How long the engine has to report the cluster healthy after a change.
HEALTHY_TIMEOUT = 120.0


def cluster_secret(cluster_id: str) -> str:
    """The password members of ``cluster_id`` log in to each other with:
    derived from the deployment's secret, so it is stored nowhere and no
    tenant can learn it."""
    return envelope.derive_key(envelope.deployment_secret(),
                               'cluster:%s' % cluster_id)


def cluster_config(cluster_id: str, role: str | None) -> dict:
    """The ``cluster_config`` of a member's prepare."""
    return {'id': cluster_id, 'role': role or 'member',
            'secret': cluster_secret(cluster_id)}


def endpoint(row: dict) -> dict:
    """``{'id', 'address', 'role'}`` of a member for the guest calls."""
    addresses = json.loads(row.get('addresses') or '[]')
    if not addresses:
        raise base.StepFailed('cluster', 'member %s has no address'
                              % row['id'])
    return {'id': row['id'], 'address': addresses[0]['address'],
            'role': row.get('type') or 'member'}


class ClusterTask(task.Task):
    """A task on a whole cluster: ``context`` and ``cluster_id`` come
    from the flow's store."""

    step = 'cluster'

    def __init__(self, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name or self.step, **kwargs)


class ClusterGuard(ClusterTask):
    """Start a cluster flow; on revert its members have their faults
    (their own guards) and the cluster's task ends, so that it can be
    deleted (or the action asked again)."""

    step = 'cluster start'

    def __init__(self, action: str) -> None:
        super().__init__(name='cluster %s' % action)
        self.action = action

    def execute(self, context, cluster_id):
        LOG.info('Cluster %s: %s begins.', cluster_id, self.action)

    def revert(self, context, cluster_id, flow_failures, **kwargs):
        context = base.context_of(context)
        failure = base.first_failure(flow_failures)
        LOG.error('Cluster %s: %s failed at %s.', cluster_id, self.action,
                  failure)
        # A create's members record their faults through their own guards.
        for member in db_clusters.members(context, cluster_id):
            if self.action != 'create':
                db_instances.add_fault(
                    context, member['id'], 'The cluster %s failed at '
                    'step %s: %s' % (self.action, failure.step,
                                     failure.reason)[:255],
                    failure.details)
        db_clusters.set_task(context, cluster_id, cluster_tasks.NONE)


class EndClusterTask(ClusterTask):
    step = 'cluster finish'

    def execute(self, context, cluster_id):
        db_clusters.set_task(base.context_of(context), cluster_id,
                             cluster_tasks.NONE)
        LOG.info('Cluster %s: done.', cluster_id)


def _members(context, cluster_id: str, leaving=()) -> list[dict]:
    return [member for member in db_clusters.members(context, cluster_id)
            if member['id'] not in leaving]


def _guest(context, instance_id: str, timeout: float | None = None):
    return base.guest_for(db_instances.get(context, instance_id), timeout)


def wait_cluster_ok(context, coordinator_id: str, expected: int) -> dict:
    """Until the coordinator's guest says the cluster is ``ok`` with
    ``expected`` members."""
    give_up = time.monotonic() + HEALTHY_TIMEOUT
    status: dict = {}
    while time.monotonic() < give_up:
        try:
            status = _guest(context, coordinator_id).cluster_status(context)
        except exception.TroveError as error:
            status = {'state': 'unknown', 'error': error.message}
        if status.get('state') == 'ok' and \
                status.get('members', expected) == expected:
            return status
        time.sleep(CONF.state_poll_interval)
    raise base.StepFailed('cluster healthy', 'the cluster did not become '
                          'healthy within %d seconds' % HEALTHY_TIMEOUT,
                          json.dumps(status))


class FormCluster(ClusterTask):
    """The members meet (cluster_join from the first one), data is
    spread over them (cluster_rebalance), and the engine says ``ok``."""

    step = 'form cluster'

    def execute(self, context, cluster_id):
        context = base.context_of(context)
        members = _members(context, cluster_id)
        endpoints = [endpoint(member) for member in members]
        first = members[0]['id']
        guest = _guest(context, first, CONF.agent_call_high_timeout)
        base.run_step(self.step, CONF.agent_call_high_timeout * 2,
                      lambda: guest.cluster_join(context, endpoints))
        base.run_step('rebalance', CONF.agent_call_high_timeout * 4,
                      lambda: guest.cluster_rebalance(
                          context, [dict(one, weight=1) for one in
                                    endpoints]))
        wait_cluster_ok(context, first, len(members))


class RebalanceAway(ClusterTask):
    """Before a shrink: the data of the leaving members moves to the
    others (weight 0), then they leave and are forgotten."""

    step = 'shrink rebalance'

    def execute(self, context, cluster_id, instance_ids):
        context = base.context_of(context)
        members = _members(context, cluster_id)
        staying = [one for one in members if one['id'] not in instance_ids]
        leaving = [one for one in members if one['id'] in instance_ids]
        coordinator = staying[0]['id']
        guest = _guest(context, coordinator, CONF.agent_call_high_timeout)
        plan = [dict(endpoint(one), weight=0 if one in leaving else 1)
                for one in members]
        base.run_step(self.step, CONF.agent_call_high_timeout * 4,
                      lambda: guest.cluster_rebalance(context, plan))
        # Forgotten first, while the others still know their addresses
        # (a member that left is known by its id only).
        base.run_step('cluster_forget', CONF.agent_call_high_timeout,
                      lambda: guest.cluster_forget(
                          context, [endpoint(one) for one in leaving]))
        for member in leaving:
            base.run_step('cluster_leave', CONF.agent_call_high_timeout,
                          lambda: _guest(context, member['id']).cluster_leave(
                              context))
        wait_cluster_ok(context, coordinator, len(staying))


class JoinNew(ClusterTask):
    """After a grow: the new members meet the cluster from one of the
    old ones, and the data is spread over every member."""

    step = 'grow join'

    def execute(self, context, cluster_id, new_instance_ids):
        context = base.context_of(context)
        members = _members(context, cluster_id)
        old = [one for one in members if one['id'] not in new_instance_ids]
        coordinator = old[0]['id']
        guest = _guest(context, coordinator, CONF.agent_call_high_timeout)
        endpoints = [endpoint(one) for one in members]
        base.run_step(self.step, CONF.agent_call_high_timeout * 2,
                      lambda: guest.cluster_join(context, endpoints))
        base.run_step('rebalance', CONF.agent_call_high_timeout * 4,
                      lambda: guest.cluster_rebalance(
                          context, [dict(one, weight=1) for one in
                                    endpoints]))
        wait_cluster_ok(context, coordinator, len(members))


class WaitClusterHealthy(ClusterTask):
    """Between the members of a rolling change: the cluster is ``ok``
    again before the next one."""

    step = 'cluster healthy'

    def execute(self, context, cluster_id):
        context = base.context_of(context)
        members = _members(context, cluster_id)
        wait_cluster_ok(context, members[0]['id'], len(members))


class StartMemberTask(ClusterTask):
    """Put members in ``task`` (a rolling action) as the flow reaches
    them."""

    step = 'member task'

    def __init__(self, name: str, instance_id: str, member_task) -> None:
        super().__init__(name=name)
        self.instance_id = instance_id
        self.member_task = member_task

    def execute(self, context, cluster_id):
        db_instances.set_task(base.context_of(context), self.instance_id,
                              self.member_task)


class RecordClusterVersion(ClusterTask):
    step = 'record version'

    def execute(self, context, cluster_id, datastore_version_id):
        db_clusters.update(base.context_of(context), cluster_id, {
            'datastore_version_id': datastore_version_id})


class MarkClusterDeleted(ClusterTask):
    step = 'cluster deleted'

    def execute(self, context, cluster_id):
        context = base.context_of(context)
        if _members(context, cluster_id):
            raise base.StepFailed(self.step, 'members are left')
        db_clusters.mark_deleted(context, cluster_id)
