"""Persistence of clusters: the cluster row and its members (instances
whose ``cluster_id`` is the cluster's).

A cluster and all its members are inserted in one transaction that also
counts every member's quota use, so a cluster that does not fit leaves
nothing. Task changes are conditional UPDATEs: two concurrent actions on
one cluster cannot both win.
"""
from oslo_utils import uuidutils

from trove_clone.common import cluster_tasks
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models

_facade = db_api.facade
Cluster = models.Cluster
Instance = models.Instance


def _insert_members(session, cluster_id: str, members: list[dict]) -> None:
    now = models.utcnow()
    for values in members:
        session.add(Instance(
            task_id=statuses.BUILDING.code,
            task_description=statuses.BUILDING.description,
            task_start_time=now, created=now, updated=now, deleted=False,
            cluster_id=cluster_id, **values))
        session.add(models.ServiceStatus(
            id=uuidutils.generate_uuid(), instance_id=values['id'],
            status_id=statuses.NEW.code,
            status_description=statuses.NEW.description, updated_at=now))


@db_api.retry_on_locked
def create(context, values: dict, members: list[dict],
           deltas: dict[str, int], limits: dict[str, int]) -> dict:
    """Count the quota use of every member, insert the cluster (task
    BUILDING) and its members (task BUILDING) in one transaction;
    QuotaExceeded leaves nothing."""
    with _facade.writer.using(context) as session:
        db_instances._use_quota(session, values['tenant_id'], deltas, limits)
        now = models.utcnow()
        session.add(Cluster(task_id=cluster_tasks.BUILDING.code,
                            created=now, updated=now, deleted=False,
                            **values))
        session.flush()
        _insert_members(session, values['id'], members)
    return get(context, values['id'])


@db_api.retry_on_locked
def add_members(context, cluster_id: str, members: list[dict],
                deltas: dict[str, int], limits: dict[str, int]) -> bool:
    """Start a grow: the cluster goes from NONE to GROWING_CLUSTER and
    its new members are inserted, their quota counted, in one
    transaction. False (nothing changed) when the cluster is busy;
    QuotaExceeded (nothing changed) when they do not fit."""
    with _facade.writer.using(context) as session:
        if not _set_task_in(session, cluster_id,
                            cluster_tasks.GROWING_CLUSTER,
                            (cluster_tasks.NONE.code,)):
            return False
        row = session.get(Cluster, cluster_id)
        db_instances._use_quota(session, row.tenant_id, deltas, limits)
        _insert_members(session, cluster_id, members)
        return True


def get(context, cluster_id: str, project_id: str | None = None,
        deleted: bool = False) -> dict:
    """One cluster row.

    :param project_id: when given, the cluster must belong to it
    :raises: ClusterNotFound
    """
    with _facade.reader.using(context) as session:
        query = session.query(Cluster).filter(Cluster.id == cluster_id)
        if not deleted:
            query = query.filter(Cluster.deleted.is_(False))
        if project_id is not None:
            query = query.filter(Cluster.tenant_id == project_id)
        row = query.first()
        if row is None:
            raise exception.ClusterNotFound(cluster=cluster_id)
        return row.to_dict()


def list_page(context, project_id: str | None, limit: int,
              marker: str | None) -> list[dict]:
    """Live clusters, oldest first, ``limit`` after ``marker``."""
    with _facade.reader.using(context) as session:
        query = session.query(Cluster).filter(Cluster.deleted.is_(False))
        if project_id is not None:
            query = query.filter(Cluster.tenant_id == project_id)
        query = db_api.page(
            query, Cluster, marker, limit,
            lambda id_: exception.ClusterNotFound(cluster=id_))
        return [row.to_dict() for row in query]


def members(context, cluster_id: str) -> list[dict]:
    """The live members of a cluster with their service statuses, in the
    order they were made (then by name)."""
    with _facade.reader.using(context) as session:
        rows = session.query(Instance).filter(
            Instance.cluster_id == cluster_id,
            Instance.deleted.is_(False)).order_by(
            Instance.created, Instance.name)
        found = [row.to_dict() for row in rows]
    services = db_instances.list_with_status(
        context, [row['id'] for row in found])
    for row in found:
        row.update(services.get(row['id'], {}))
    return found


def member_names(context, cluster_id: str) -> list[str]:
    """Names of every member ever made (deleted too): new members are
    numbered after them."""
    with _facade.reader.using(context) as session:
        return [name for (name,) in session.query(Instance.name).filter(
            Instance.cluster_id == cluster_id)]


def _set_task_in(session, cluster_id: str, task: cluster_tasks.ClusterTask,
                 expected: tuple[int, ...] | None) -> bool:
    table = Cluster.__table__
    statement = table.update().where(
        table.c.id == cluster_id, table.c.deleted.is_(False)).values(
        task_id=task.code, updated=models.utcnow())
    if expected is not None:
        statement = statement.where(table.c.task_id.in_(expected))
    return session.execute(statement).rowcount == 1


@db_api.retry_on_locked
def set_task(context, cluster_id: str, task: cluster_tasks.ClusterTask,
             expected: tuple[int, ...] | None = None) -> bool:
    """Move a cluster to ``task``; with ``expected``, only from one of
    those task codes. Returns whether it moved."""
    with _facade.writer.using(context) as session:
        return _set_task_in(session, cluster_id, task, expected)


@db_api.retry_on_locked
def update(context, cluster_id: str, values: dict) -> None:
    with _facade.writer.using(context) as session:
        table = Cluster.__table__
        session.execute(table.update().where(table.c.id == cluster_id).values(
            updated=models.utcnow(), **values))


@db_api.retry_on_locked
def mark_deleted(context, cluster_id: str) -> bool:
    """Mark a cluster deleted (once); returns whether this call did."""
    with _facade.writer.using(context) as session:
        table = Cluster.__table__
        now = models.utcnow()
        return session.execute(table.update().where(
            table.c.id == cluster_id, table.c.deleted.is_(False)).values(
            deleted=True, deleted_at=now, updated=now,
            task_id=cluster_tasks.NONE.code)).rowcount == 1
