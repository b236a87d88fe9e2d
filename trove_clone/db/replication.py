"""Persistence of replication: who follows whom (``slave_of_id``), the
replication status guests report with their heartbeats, and the task of
a replication set taken by all its members at once.

A promote or an eject changes several instances; they take their task
in one transaction of conditional UPDATEs, so either every member can
take the action and all take it, or none changes.
"""
import json

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models

_facade = db_api.facade
Instance = models.Instance


def replica_ids(context, primary_id: str) -> list[str]:
    """Ids of the instances (not deleted) that follow ``primary_id``,
    oldest first."""
    with _facade.reader.using(context) as session:
        return [row.id for row in session.query(Instance.id).filter(
            Instance.slave_of_id == primary_id,
            Instance.deleted.is_(False)).order_by(Instance.created,
                                                  Instance.id)]


def replicas_by_primary(context, primary_ids: list[str]
                        ) -> dict[str, list[str]]:
    """Replica ids by primary id, for a page of instances."""
    found: dict[str, list[str]] = {}
    if not primary_ids:
        return found
    with _facade.reader.using(context) as session:
        rows = session.query(Instance.id, Instance.slave_of_id).filter(
            Instance.slave_of_id.in_(primary_ids),
            Instance.deleted.is_(False)).order_by(Instance.created,
                                                  Instance.id)
        for row in rows:
            found.setdefault(row.slave_of_id, []).append(row.id)
    return found


def status_of(context, instance_id: str) -> dict | None:
    """The replication status of the instance's last heartbeat."""
    with _facade.reader.using(context) as session:
        text = session.query(models.ServiceStatus.replication).filter_by(
            instance_id=instance_id).scalar()
    try:
        value = json.loads(text) if text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@db_api.retry_on_locked
def begin_set_action(context, ready_ids: list[str], task: statuses.Task,
                     idle_ids: tuple[str, ...] = ()) -> bool:
    """Start ``task`` on every instance of a replication set, or on none:
    ``ready_ids`` must be able to take an action (begin_action's rules),
    ``idle_ids`` only need no task running (a dead primary whose guest
    does not answer). Returns whether all took it."""
    class _Busy(Exception):
        pass

    try:
        with _facade.writer.using(context) as session:
            for instance_id in ready_ids:
                if not db_instances.begin_action_in(session, instance_id,
                                                    task):
                    raise _Busy()
            table = Instance.__table__
            now = models.utcnow()
            for instance_id in idle_ids:
                if session.execute(table.update().where(
                        table.c.id == instance_id,
                        table.c.deleted.is_(False),
                        table.c.task_id.in_(
                            (statuses.NONE.code,
                             statuses.RESTART_REQUIRED.code))).values(
                        task_id=task.code,
                        task_description=task.description,
                        task_start_time=now,
                        updated=now)).rowcount != 1:
                    raise _Busy()
    except _Busy:
        return False
    return True


@db_api.retry_on_locked
def end_set_action(context, instance_ids: list[str], task: statuses.Task,
                   back_to: statuses.Task = statuses.NONE) -> None:
    """The instances still in ``task`` go to ``back_to``."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        now = models.utcnow()
        session.execute(table.update().where(
            table.c.id.in_(instance_ids), table.c.deleted.is_(False),
            table.c.task_id == task.code).values(
            task_id=back_to.code, task_description=back_to.description,
            task_start_time=now, updated=now))


@db_api.retry_on_locked
def set_sources(context, sources: dict[str, str | None]) -> None:
    """Record whom each instance follows (``{instance id: source id or
    None}``) in one transaction."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        now = models.utcnow()
        for instance_id, source_id in sources.items():
            session.execute(table.update().where(
                table.c.id == instance_id).values(
                slave_of_id=source_id, updated=now))


def get_any(context, instance_id: str) -> dict:
    """An instance row (deleted ones too) or InstanceNotFound."""
    try:
        return db_instances.get(context, instance_id)
    except exception.InstanceNotFound:
        return db_instances.get(context, instance_id, deleted=True)
