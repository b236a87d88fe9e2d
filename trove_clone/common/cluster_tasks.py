"""Trove's cluster tasks (trove/cluster/tasks.py): codes, names and
descriptions as Trove stores and shows them."""
import dataclasses


@dataclasses.dataclass(frozen=True)
class ClusterTask:
    code: int
    name: str
    description: str


NONE = ClusterTask(0x01, 'NONE', 'No tasks for the cluster.')
BUILDING = ClusterTask(0x02, 'BUILDING', 'Building the initial cluster.')
DELETING = ClusterTask(0x03, 'DELETING', 'Deleting the cluster.')
ADDING_SHARD = ClusterTask(0x04, 'ADDING_SHARD',
                           'Adding a shard to the cluster.')
GROWING_CLUSTER = ClusterTask(0x05, 'GROWING_CLUSTER',
                              'Increasing the size of the cluster.')
SHRINKING_CLUSTER = ClusterTask(0x06, 'SHRINKING_CLUSTER',
                                'Decreasing the size of the cluster.')
UPGRADING_CLUSTER = ClusterTask(0x07, 'UPGRADING_CLUSTER',
                                'Upgrading the cluster to new version.')
RESTARTING_CLUSTER = ClusterTask(0x08, 'RESTARTING_CLUSTER',
                                 'Restarting the cluster.')
UPDATING_CLUSTER = ClusterTask(0x09, 'UPDATING_CLUSTER',
                               'Updating cluster configuration.')

TASKS = {task.code: task for task in (
    NONE, BUILDING, DELETING, ADDING_SHARD, GROWING_CLUSTER,
    SHRINKING_CLUSTER, UPGRADING_CLUSTER, RESTARTING_CLUSTER,
    UPDATING_CLUSTER)}


def task(code: int) -> ClusterTask:
    """The task of ``code`` (NONE for a code Trove does not have)."""
    return TASKS.get(code, NONE)
