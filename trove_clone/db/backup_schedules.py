"""Persistence of scheduled backups: an instance's schedule and the
claim of a due run.

A run is claimed by moving ``backup_next_run`` from the value the
claimer read to the next one in one conditional UPDATE: of several
taskmanagers that found the same run due, exactly one updates the row
(the others match nothing) and takes the backup.
"""
import datetime
import json


from trove_clone.db import api as db_api
from trove_clone.db import models

_facade = db_api.facade
Instance = models.Instance


@db_api.retry_on_locked
def set_schedule(context, instance_id: str, schedule: dict | None,
                 next_run: datetime.datetime | None) -> bool:
    """Set (or with None remove) the schedule of a live instance."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        return session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False)).values(
            backup_schedule=json.dumps(schedule) if schedule else None,
            backup_next_run=next_run)).rowcount == 1


def due(context, now: datetime.datetime) -> list[dict]:
    """Live instances whose scheduled run is at or before ``now``:
    ``id``, ``tenant_id``, ``schedule`` and ``next_run``."""
    with _facade.reader.using(context) as session:
        rows = session.query(Instance.id, Instance.tenant_id,
                             Instance.backup_schedule,
                             Instance.backup_next_run).filter(
            Instance.deleted.is_(False),
            Instance.backup_next_run.is_not(None),
            Instance.backup_next_run <= now).order_by(
            Instance.backup_next_run).all()
    return [{'id': row[0], 'tenant_id': row[1],
             'schedule': json.loads(row[2]) if row[2] else None,
             'next_run': row[3]} for row in rows]


@db_api.retry_on_locked
def claim(context, instance_id: str, expected: datetime.datetime,
          following: datetime.datetime) -> bool:
    """Take the run planned at ``expected`` by moving the next run to
    ``following``; False when another claimer took it first (or the
    schedule changed meanwhile)."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        return session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False),
            table.c.backup_next_run == expected).values(
            backup_next_run=following)).rowcount == 1
