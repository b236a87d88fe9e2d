"""What a cluster flow is built from: its members' build requests (the
modules recorded for each and its cluster_config) and member ids, read
when the cast arrives, so that the flow's factory arguments are plain."""
from trove_clone.db import clusters as db_clusters
from trove_clone.db import modules as db_modules
from trove_clone.taskmanager.tasks import cluster as cluster_tasks


def build_requests(context, cluster_id: str,
                   only: list | None = None) -> list:
    """``[number, instance_id, request]`` of the members to build (all,
    or ``only`` these), numbered by their position in the cluster."""
    plan = []
    for number, member in enumerate(
            db_clusters.members(context, cluster_id), 1):
        if only is not None and member['id'] not in only:
            continue
        modules = [module['id'] for module in
                   db_modules.applied_to(context, member['id'])]
        plan.append([number, member['id'], {
            'modules': modules,
            'cluster_config': cluster_tasks.cluster_config(
                cluster_id, member.get('type'))}])
    return plan


def member_ids(context, cluster_id: str) -> list[str]:
    return [member['id'] for member in
            db_clusters.members(context, cluster_id)]
