"""Persistence of instances: rows, tasks, service statuses, faults, quota
usage.

Every status change is a conditional UPDATE, so two concurrent actions on
one instance cannot both win, and quota use is checked and counted in the
same statement that changes it.
"""
import datetime

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import models

_facade = db_api.facade
Instance = models.Instance
ServiceStatus = models.ServiceStatus


# --- quota use -------------------------------------------------------------

def _usage_row(session, project_id: str, resource: str) -> None:
    exists = session.query(models.QuotaUsage.id).filter_by(
        tenant_id=project_id, resource=resource).first()
    if exists is None:
        try:
            with session.begin_nested():
                session.add(models.QuotaUsage(
                    id=uuidutils.generate_uuid(), tenant_id=project_id,
                    resource=resource, in_use=0, reserved=0))
        except db_exc.DBDuplicateEntry:
            pass


def _use_quota(session, project_id: str, deltas: dict[str, int],
               limits: dict[str, int]) -> None:
    """Add ``deltas`` to the project's use; QuotaExceeded (and nothing
    counted) when one goes over its limit (-1: no limit)."""
    overs = []
    for resource, delta in sorted(deltas.items()):
        _usage_row(session, project_id, resource)
        usage = models.QuotaUsage.__table__
        statement = usage.update().where(
            usage.c.tenant_id == project_id,
            usage.c.resource == resource).values(
            in_use=usage.c.in_use + delta, updated=models.utcnow())
        limit = limits.get(resource, -1)
        if delta > 0 and limit >= 0:
            statement = statement.where(usage.c.in_use + delta <= limit)
        if session.execute(statement).rowcount == 0:
            overs.append(resource)
    if overs:
        raise exception.QuotaExceeded(overs=', '.join(overs))


def _release_quota(session, project_id: str, deltas: dict[str, int]) -> None:
    usage = models.QuotaUsage.__table__
    for resource, delta in deltas.items():
        session.execute(usage.update().where(
            usage.c.tenant_id == project_id,
            usage.c.resource == resource).values(
            in_use=sa.case((usage.c.in_use > delta,
                            usage.c.in_use - delta), else_=0),
            updated=models.utcnow()))


@db_api.retry_on_locked
def release_quota(context, project_id: str, deltas: dict[str, int]) -> None:
    """Give quota use back (never below zero)."""
    with _facade.writer.using(context) as session:
        _release_quota(session, project_id, deltas)


@db_api.retry_on_locked
def change_quota(context, project_id: str, deltas: dict[str, int],
                 limits: dict[str, int]) -> None:
    """Count ``deltas`` (a resize) against the project's limits."""
    with _facade.writer.using(context) as session:
        _use_quota(session, project_id, deltas, limits)


# --- instances ---------------------------------------------------------------

@db_api.retry_on_locked
def create(context, values: dict, deltas: dict[str, int],
           limits: dict[str, int]) -> dict:
    """Count the quota use, insert the instance (task BUILDING) and its
    service status (NEW) in one transaction; QuotaExceeded leaves nothing.
    """
    with _facade.writer.using(context) as session:
        _use_quota(session, values['tenant_id'], deltas, limits)
        now = models.utcnow()
        row = Instance(task_id=statuses.BUILDING.code,
                       task_description=statuses.BUILDING.description,
                       task_start_time=now, created=now, updated=now,
                       deleted=False, **values)
        session.add(row)
        session.add(ServiceStatus(
            id=uuidutils.generate_uuid(), instance_id=values['id'],
            status_id=statuses.NEW.code,
            status_description=statuses.NEW.description, updated_at=now))
    return get(context, values['id'])


def _joined(session):
    return session.query(Instance, ServiceStatus).outerjoin(
        ServiceStatus, ServiceStatus.instance_id == Instance.id)


def _merge(instance: models.Instance,
           service: models.ServiceStatus | None) -> dict:
    data = instance.to_dict()
    data['service_status'] = (service.status_description if service
                              else statuses.UNKNOWN.description)
    data['service_status_updated'] = service.updated_at if service \
        else None
    data['last_sent'] = service.last_sent if service else None
    return data


def get(context, instance_id: str, project_id: str | None = None,
        deleted: bool = False) -> dict:
    """One instance with its service status and last fault.

    :param project_id: when given, the instance must belong to it
    :raises: InstanceNotFound
    """
    with _facade.reader.using(context) as session:
        query = _joined(session).filter(Instance.id == instance_id)
        if not deleted:
            query = query.filter(Instance.deleted.is_(False))
        if project_id is not None:
            query = query.filter(Instance.tenant_id == project_id)
        found = query.first()
        if found is None:
            raise exception.InstanceNotFound(instance=instance_id)
        data = _merge(*found)
        fault = session.query(models.InstanceFault).filter_by(
            instance_id=instance_id).order_by(
            models.InstanceFault.created.desc()).first()
        data['fault'] = fault.to_dict() if fault is not None else None
        root = session.get(models.RootEnabledHistory, instance_id)
        data['root_history'] = root.to_dict() if root is not None else None
        return data


def list_with_status(context, instance_ids: list[str]) -> dict[str, dict]:
    """Service statuses of several instances, by instance id."""
    with _facade.reader.using(context) as session:
        rows = session.query(ServiceStatus).filter(
            ServiceStatus.instance_id.in_(instance_ids))
        return {row.instance_id: {
            'service_status': row.status_description,
            'service_status_updated': row.updated_at,
            'last_sent': row.last_sent} for row in rows}


@db_api.retry_on_locked
def update(context, instance_id: str, values: dict,
           expected_tasks: tuple[int, ...] | None = None) -> bool:
    """Change columns of an instance; with ``expected_tasks``, only while
    its task is one of them. Returns whether the row changed."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        statement = table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False)).values(
            updated=models.utcnow(), **values)
        if expected_tasks is not None:
            statement = statement.where(table.c.task_id.in_(expected_tasks))
        return session.execute(statement).rowcount == 1


def set_task(context, instance_id: str, task: statuses.Task,
             expected_tasks: tuple[int, ...] | None = None,
             **values) -> bool:
    """Move an instance to ``task`` (conditionally, see update)."""
    return update(context, instance_id, dict(
        task_id=task.code, task_description=task.description,
        task_start_time=models.utcnow(), **values), expected_tasks)


@db_api.retry_on_locked
def begin_action(context, instance_id: str, task: statuses.Task,
                 service: statuses.ServiceStatus | None = None) -> bool:
    """Start ``task`` if the instance can take an action now: no task (or
    RESTART_REQUIRED), server ACTIVE, a service status that allows
    actions. One caller wins; the others get False."""
    with _facade.writer.using(context) as session:
        return begin_action_in(session, instance_id, task, service)


def begin_action_in(session, instance_id: str, task: statuses.Task,
                    service: statuses.ServiceStatus | None = None,
                    project_id: str | None = None) -> bool:
    """begin_action within the caller's transaction ``session`` (and,
    with ``project_id``, only for an instance of that project)."""
    allowed = [status.code for status in statuses.ACTION_ALLOWED]
    table = Instance.__table__
    service_table = ServiceStatus.__table__
    ready = sa.exists().where(
        service_table.c.instance_id == table.c.id,
        service_table.c.status_id.in_(allowed))
    now = models.utcnow()
    statement = table.update().where(
        table.c.id == instance_id, table.c.deleted.is_(False),
        table.c.task_id.in_((statuses.NONE.code,
                             statuses.RESTART_REQUIRED.code)),
        table.c.server_status == 'ACTIVE', ready).values(
        task_id=task.code, task_description=task.description,
        task_start_time=now, updated=now)
    if project_id is not None:
        statement = statement.where(table.c.tenant_id == project_id)
    changed = session.execute(statement).rowcount == 1
    if changed and service is not None:
        _set_service(session, instance_id, service)
    return changed


@db_api.retry_on_locked
def end_action(context, instance_id: str, task: statuses.Task,
               back_to: statuses.Task,
               service: statuses.ServiceStatus | None = None,
               service_back_to: statuses.ServiceStatus | None = None
               ) -> bool:
    """Give back an action that never started (its cast failed): the
    instance goes from ``task`` back to ``back_to`` and, when given, its
    service status from ``service`` back to ``service_back_to``; each only
    if nothing moved it since. Returns whether the task was given back."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        now = models.utcnow()
        changed = session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False),
            table.c.task_id == task.code).values(
            task_id=back_to.code, task_description=back_to.description,
            task_start_time=now, updated=now)).rowcount == 1
        if changed and service is not None and service_back_to is not None:
            service_table = ServiceStatus.__table__
            session.execute(service_table.update().where(
                service_table.c.instance_id == instance_id,
                service_table.c.status_id == service.code).values(
                status_id=service_back_to.code,
                status_description=service_back_to.description,
                updated_at=now))
        return changed


@db_api.retry_on_locked
def discard_unbuilt(context, instance_id: str, deltas: dict[str, int]
                    ) -> bool:
    """Remove an instance whose build never started (its creation could
    not be cast) with everything recorded for it, and give its quota use
    ``deltas`` back, in one transaction; only while it is BUILDING without
    a server. Returns whether it was removed."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        # Claims the row (a row lock on MariaDB and PostgreSQL) while the
        # conditions hold, before its dependants are removed.
        claimed = session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False),
            table.c.task_id == statuses.BUILDING.code,
            table.c.server_id.is_(None)).values(
            updated=models.utcnow())).rowcount == 1
        if not claimed:
            return False
        project_id = session.execute(sa.select(table.c.tenant_id).where(
            table.c.id == instance_id)).scalar_one()
        for model in (models.InstanceModule, models.InstanceFault,
                      models.RootEnabledHistory, ServiceStatus):
            session.execute(sa.delete(model.__table__).where(
                model.__table__.c.instance_id == instance_id))
        session.execute(sa.delete(table).where(table.c.id == instance_id))
        _release_quota(session, project_id, deltas)
        return True


def _set_service(session, instance_id: str,
                 status: statuses.ServiceStatus) -> None:
    table = ServiceStatus.__table__
    session.execute(table.update().where(
        table.c.instance_id == instance_id).values(
        status_id=status.code, status_description=status.description,
        updated_at=models.utcnow()))


@db_api.retry_on_locked
def set_service_status(context, instance_id: str,
                       status: statuses.ServiceStatus) -> None:
    """Set the service status (taskmanager and API transitions)."""
    with _facade.writer.using(context) as session:
        _set_service(session, instance_id, status)


@db_api.retry_on_locked
def record_heartbeat(context, instance_id: str,
                     status: statuses.ServiceStatus, sent: float,
                     replication: str | None = None) -> bool:
    """Record a guest's status (and its replication status, JSON, None
    when it takes no part) unless a later heartbeat was recorded already
    or a restart is required. Returns whether it was recorded."""
    with _facade.writer.using(context) as session:
        table = ServiceStatus.__table__
        return session.execute(table.update().where(
            table.c.instance_id == instance_id,
            sa.or_(table.c.last_sent.is_(None), table.c.last_sent < sent),
            table.c.status_id != statuses.RESTART_REQUIRED_STATUS.code
        ).values(status_id=status.code,
                 status_description=status.description,
                 updated_at=models.utcnow(), last_sent=sent,
                 replication=replication)).rowcount == 1


@db_api.retry_on_locked
def add_fault(context, instance_id: str, message: str, details: str) -> None:
    with _facade.writer.using(context) as session:
        session.add(_fault(instance_id, message, details))


@db_api.retry_on_locked
def fail(context, instance_id: str, task: statuses.Task, message: str,
         details: str, **values) -> None:
    """Move an instance to ``task`` and record a fault saying why, in one
    transaction: nobody sees the error status without its reason."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        now = models.utcnow()
        session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False)).values(
            updated=now, task_id=task.code,
            task_description=task.description, task_start_time=now,
            **values))
        session.add(_fault(instance_id, message, details))


#: taskflow's states of a flow that will never run again.
FLOW_FINISHED = ('SUCCESS', 'REVERTED', 'FAILURE')


def _unfinished_flow_of(instance_column):
    """An EXISTS clause: an unfinished saved flow is about the instance
    (its logbook is named after it)."""
    books = models.FLOW_TABLES.logbooks
    details = models.FLOW_TABLES.flowdetails
    return sa.exists().where(
        books.c.name == instance_column,
        details.c.parent_uuid == books.c.uuid,
        sa.or_(details.c.state.is_(None),
               details.c.state.notin_(FLOW_FINISHED)))


@db_api.retry_on_locked
def fail_build_without_flow(context, instance_id: str, task: statuses.Task,
                            message: str, details: str, **values) -> bool:
    """Fail a build that no saved flow carries, with its fault, in one
    conditional UPDATE: a create cast delivered late (its flow saved an
    instant before) wins, and then nothing changes; returns whether the
    build was failed."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        now = models.utcnow()
        changed = session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False),
            table.c.task_id == statuses.BUILDING.code,
            ~_unfinished_flow_of(table.c.id)).values(
            updated=now, task_id=task.code,
            task_description=task.description, task_start_time=now,
            **values)).rowcount
        if changed:
            session.add(_fault(instance_id, message, details))
        return bool(changed)


def _fault(instance_id: str, message: str, details: str):
    return models.InstanceFault(
        id=uuidutils.generate_uuid(), instance_id=instance_id,
        message=message[:255], details=details, created=models.utcnow())


@db_api.retry_on_locked
def clear_faults(context, instance_id: str) -> None:
    with _facade.writer.using(context) as session:
        session.query(models.InstanceFault).filter_by(
            instance_id=instance_id).delete()


@db_api.retry_on_locked
def mark_deleted(context, instance_id: str) -> dict | None:
    """Mark an instance deleted (once); returns its row, or None when it
    was deleted already."""
    with _facade.writer.using(context) as session:
        row = session.get(Instance, instance_id)
        if row is None or row.deleted:
            return None
        now = models.utcnow()
        table = Instance.__table__
        changed = session.execute(table.update().where(
            table.c.id == instance_id, table.c.deleted.is_(False)).values(
            deleted=True, deleted_at=now, updated=now,
            task_id=statuses.NONE.code,
            task_description=statuses.NONE.description)).rowcount
        if not changed:
            return None
        _set_service(session, instance_id, statuses.DELETED)
        return row.to_dict()


def in_progress(context) -> list[dict]:
    """Instances with a task running (for a restarted taskmanager)."""
    busy = [code for code, task in statuses.TASKS.items()
            if not task.is_error and task.code not in (
                statuses.NONE.code, statuses.RESTART_REQUIRED.code)]
    with _facade.reader.using(context) as session:
        rows = _joined(session).filter(Instance.deleted.is_(False),
                                       Instance.task_id.in_(busy))
        return [_merge(*row) for row in rows]


def active_ids(context) -> list[str]:
    """Ids of instances that are not deleted."""
    with _facade.reader.using(context) as session:
        return [row.id for row in session.query(Instance.id).filter(
            Instance.deleted.is_(False))]


@db_api.retry_on_locked
def record_root_enabled(context, instance_id: str, user: str) -> None:
    """Remember the first time root was enabled on an instance."""
    with _facade.writer.using(context) as session:
        if session.get(models.RootEnabledHistory, instance_id) is None:
            session.add(models.RootEnabledHistory(
                instance_id=instance_id, user=user,
                created=models.utcnow()))


def heartbeat_age(row: dict, now: datetime.datetime | None = None) -> float:
    """Seconds since the instance's service status was last written."""
    updated = row.get('service_status_updated')
    if updated is None:
        return float('inf')
    return ((now or models.utcnow()) - updated).total_seconds()


def wrapped_keys(context) -> list[tuple[str, str]]:
    """(id, encrypted_key) of every instance that has an RPC key, deleted
    ones included (their rows keep the key)."""
    with _facade.reader.using(context) as session:
        return [(row.id, row.encrypted_key) for row in session.query(
            Instance.id, Instance.encrypted_key).filter(
            Instance.encrypted_key.isnot(None))]


@db_api.retry_on_locked
def replace_wrapped_key(context, instance_id: str, old: str,
                        new: str) -> bool:
    """Store ``new`` as the instance's wrapped key if it is still ``old``;
    returns whether it did."""
    with _facade.writer.using(context) as session:
        return bool(session.query(Instance).filter(
            Instance.id == instance_id,
            Instance.encrypted_key == old).update(
            {'encrypted_key': new}, synchronize_session=False))


# --- faults a guest reports about its engine --------------------------------

@db_api.retry_on_locked
def add_engine_fault(context, instance_id: str, message: str,
                     details: str) -> bool:
    """Record the fault a guest reports about its engine (its message
    begins with one of statuses.GUEST_FAULT_PREFIXES; ENGINE_FAULT_PREFIX
    is added when it does not). A guest repeats it with each heartbeat:
    when the instance's last fault has the same message, its details are
    brought up to date (the engine's log moves on) and nothing is added.
    Returns whether a fault was added."""
    if not message.startswith(statuses.GUEST_FAULT_PREFIXES):
        message = '%s: %s' % (statuses.ENGINE_FAULT_PREFIX, message)
    return _add_fault_unless_last(context, instance_id, message, details,
                                  same_message_updates=True)


def add_fault_once(context, instance_id: str, message: str,
                   details: str) -> bool:
    """Record a fault unless the instance's last fault has the same
    message and details. Returns whether it was recorded."""
    return _add_fault_unless_last(context, instance_id, message, details)


@db_api.retry_on_locked
def _add_fault_unless_last(context, instance_id: str, message: str,
                           details: str,
                           same_message_updates: bool = False) -> bool:
    fault = _fault(instance_id, message, details)
    with _facade.writer.using(context) as session:
        last = session.query(models.InstanceFault).filter_by(
            instance_id=instance_id).order_by(
            models.InstanceFault.created.desc()).first()
        if last is not None and last.message == fault.message:
            if last.details == fault.details:
                return False
            if same_message_updates:
                last.details = fault.details
                return False
        session.add(fault)
        return True


def _engine_faults(session, instance_id: str):
    return session.query(models.InstanceFault).filter(
        models.InstanceFault.instance_id == instance_id,
        sa.or_(*(models.InstanceFault.message.startswith(
            prefix, autoescape=True)
            for prefix in statuses.GUEST_FAULT_PREFIXES)))


@db_api.retry_on_locked
def clear_engine_faults(context, instance_id: str) -> int:
    """Remove the faults a guest reported about its engine (it runs
    again, on a volume with room); other faults stay. Returns how many
    were removed."""
    with _facade.reader.using(context) as session:
        if _engine_faults(session, instance_id).first() is None:
            return 0
    with _facade.writer.using(context) as session:
        return _engine_faults(session, instance_id).delete(
            synchronize_session=False)


@db_api.retry_on_locked
def record_restorable_until(context, instance_id: str,
                            moment: datetime.datetime) -> bool:
    """Move the instance's ``restorable_until`` forward to ``moment``
    (never back: a late heartbeat changes nothing)."""
    with _facade.writer.using(context) as session:
        table = Instance.__table__
        return session.execute(table.update().where(
            table.c.id == instance_id,
            sa.or_(table.c.restorable_until.is_(None),
                   table.c.restorable_until < moment)
        ).values(restorable_until=moment)).rowcount == 1
