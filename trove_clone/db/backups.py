"""Persistence of backups and backup strategies.

A backup starts in one transaction: the instance's task becomes
BACKING_UP (the conditional UPDATE every action takes), the project's
``backups`` quota is counted and the row is inserted; any refusal leaves
nothing. State changes are conditional UPDATEs: a report of the guest
never overwrites an ended state, and an older report never a newer one.
"""
import json

from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models

_facade = db_api.facade
Backup = models.Backup
Strategy = models.BackupStrategy

NEW = 'NEW'
BUILDING = 'BUILDING'
SAVING = 'SAVING'
COMPLETED = 'COMPLETED'
FAILED = 'FAILED'
DELETE_FAILED = 'DELETE_FAILED'
#: A backup in one of these states is still being taken.
RUNNING = (NEW, BUILDING, SAVING)
STATES = RUNNING + (COMPLETED, FAILED, DELETE_FAILED)
QUOTA_RESOURCE = 'backups'


def _dict(row: models.Backup) -> dict:
    data = row.to_dict()
    data['metadata'] = json.loads(data.pop('backup_metadata') or '{}')
    return data


@db_api.retry_on_locked
def create(context, values: dict, limits: dict[str, int]) -> dict:
    """Begin the instance's BACKING_UP task, count one backup against the
    project's quota and insert the backup (state NEW), all or nothing.

    :param values: the row's columns; ``instance_id`` and ``tenant_id``
        are required (the instance must belong to that project)
    :raises: UnprocessableEntity (422) when the instance cannot take an
        action now (another action, or another backup, runs);
        QuotaExceeded (413)
    """
    with _facade.writer.using(context) as session:
        if not db_instances.begin_action_in(
                session, values['instance_id'], statuses.BACKING_UP,
                project_id=values['tenant_id']):
            raise exception.UnprocessableEntity(
                'Instance %s is not currently available for an action to '
                'be performed: a backup needs it ACTIVE with no other '
                'action or backup running.' % values['instance_id'])
        db_instances._use_quota(session, values['tenant_id'],
                                {QUOTA_RESOURCE: 1}, limits)
        now = models.utcnow()
        metadata = values.pop('metadata', None)
        row = Backup(state=NEW, created=now, updated=now, deleted=False,
                     backup_metadata=json.dumps(metadata or {}), **values)
        session.add(row)
        session.flush()
        return _dict(row)


def get(context, backup_id: str, project_id: str | None = None,
        deleted: bool = False) -> dict:
    """One backup.

    :param project_id: when given, the backup must belong to it
    :raises: BackupNotFound
    """
    with _facade.reader.using(context) as session:
        query = session.query(Backup).filter(Backup.id == backup_id)
        if not deleted:
            query = query.filter(Backup.deleted.is_(False))
        if project_id is not None:
            query = query.filter(Backup.tenant_id == project_id)
        row = query.first()
        if row is None:
            raise exception.BackupNotFound(backup=backup_id)
        return _dict(row)


def list_page(context, project_id: str | None, limit: int,
              marker: str | None = None, instance_id: str | None = None,
              datastore_id: str | None = None) -> list[dict]:
    """Backups that are not deleted, newest first, ``limit`` after the
    one whose id is ``marker``.

    :param project_id: None lists every project's (an administrator's
        all_projects)
    :param datastore_id: only backups of this datastore's versions
    """
    with _facade.reader.using(context) as session:
        query = session.query(Backup).filter(Backup.deleted.is_(False))
        if project_id is not None:
            query = query.filter(Backup.tenant_id == project_id)
        if instance_id is not None:
            query = query.filter(Backup.instance_id == instance_id)
        if datastore_id is not None:
            versions = sa.select(models.DatastoreVersion.id).where(
                models.DatastoreVersion.datastore_id == datastore_id)
            query = query.filter(Backup.datastore_version_id.in_(versions))
        query = db_api.page(
            query, Backup, marker, limit,
            lambda id_: exception.BackupNotFound(backup=id_),
            newest_first=True)
        return [_dict(row) for row in query]


def last_completed(context, instance_id: str) -> dict | None:
    """The instance's newest COMPLETED backup (full or incremental), or
    None: the parent of an ``incremental`` request."""
    with _facade.reader.using(context) as session:
        row = session.query(Backup).filter(
            Backup.instance_id == instance_id, Backup.deleted.is_(False),
            Backup.state == COMPLETED).order_by(
            Backup.created.desc(), Backup.id.desc()).first()
        return _dict(row) if row is not None else None


def children(context, backup_id: str) -> list[dict]:
    """The backups (not deleted) whose parent is ``backup_id``."""
    with _facade.reader.using(context) as session:
        return [_dict(row) for row in session.query(Backup).filter(
            Backup.parent_id == backup_id, Backup.deleted.is_(False))]


def running(context, instance_id: str) -> list[dict]:
    """The instance's backups still being taken."""
    with _facade.reader.using(context) as session:
        return [_dict(row) for row in session.query(Backup).filter(
            Backup.instance_id == instance_id, Backup.deleted.is_(False),
            Backup.state.in_(RUNNING))]


def _values(values: dict) -> dict:
    values = dict(values)
    if 'metadata' in values:
        values['backup_metadata'] = json.dumps(values.pop('metadata') or {})
    return values


@db_api.retry_on_locked
def set_state(context, backup_id: str, state: str,
              expected: tuple[str, ...] | None = None, **values) -> bool:
    """Move a backup to ``state`` (with other columns); with ``expected``
    only from one of those states. Returns whether it changed."""
    with _facade.writer.using(context) as session:
        table = Backup.__table__
        statement = table.update().where(
            table.c.id == backup_id, table.c.deleted.is_(False)).values(
            state=state, updated=models.utcnow(), **_values(values))
        if expected is not None:
            statement = statement.where(table.c.state.in_(expected))
        return session.execute(statement).rowcount == 1


@db_api.retry_on_locked
def record_report(context, backup_id: str, instance_id: str, values: dict,
                  sent: float) -> bool:
    """Record what a guest reports of a backup it takes: only for a
    backup of that instance still running, and only when no later report
    was recorded. Returns whether it was recorded."""
    with _facade.writer.using(context) as session:
        table = Backup.__table__
        return session.execute(table.update().where(
            table.c.id == backup_id, table.c.instance_id == instance_id,
            table.c.deleted.is_(False), table.c.state.in_(RUNNING),
            sa.or_(table.c.last_sent.is_(None), table.c.last_sent < sent)
        ).values(updated=models.utcnow(), last_sent=sent,
                 **_values(values))).rowcount == 1


@db_api.retry_on_locked
def fail_running(context, instance_id: str, reason: str) -> int:
    """Mark the instance's running backups FAILED (an administrator's
    reset, a taskmanager that stopped); returns how many."""
    with _facade.writer.using(context) as session:
        table = Backup.__table__
        return session.execute(table.update().where(
            table.c.instance_id == instance_id, table.c.deleted.is_(False),
            table.c.state.in_(RUNNING)).values(
            state=FAILED, fail_reason=reason,
            updated=models.utcnow())).rowcount


@db_api.retry_on_locked
def mark_deleted(context, backup_id: str) -> bool:
    """Mark a backup deleted and give its quota back, once; returns
    whether this call did."""
    with _facade.writer.using(context) as session:
        row = session.get(Backup, backup_id)
        if row is None or row.deleted:
            return False
        now = models.utcnow()
        table = Backup.__table__
        changed = session.execute(table.update().where(
            table.c.id == backup_id, table.c.deleted.is_(False)).values(
            deleted=True, deleted_at=now, updated=now)).rowcount == 1
        if changed:
            db_instances._release_quota(session, row.tenant_id,
                                        {QUOTA_RESOURCE: 1})
        return changed


# --- backup strategies -------------------------------------------------------

@db_api.retry_on_locked
def strategy_set(context, project_id: str, instance_id: str,
                 container: str, backend: str) -> dict:
    """Create or replace the strategy of a project (``instance_id`` '')
    or of one of its instances."""
    with _facade.writer.using(context) as session:
        row = session.query(Strategy).filter_by(
            tenant_id=project_id, instance_id=instance_id).first()
        if row is None:
            row = Strategy(id=uuidutils.generate_uuid(),
                           tenant_id=project_id, instance_id=instance_id,
                           backend=backend, swift_container=container,
                           created=models.utcnow())
            try:
                with session.begin_nested():
                    session.add(row)
            except db_exc.DBDuplicateEntry:
                row = session.query(Strategy).filter_by(
                    tenant_id=project_id, instance_id=instance_id).one()
        row.swift_container = container
        row.backend = backend
        session.flush()
        return row.to_dict()


def strategy_list(context, project_id: str,
                  instance_id: str | None = None) -> list[dict]:
    with _facade.reader.using(context) as session:
        query = session.query(Strategy).filter_by(tenant_id=project_id)
        if instance_id is not None:
            query = query.filter_by(instance_id=instance_id)
        return [row.to_dict() for row in query.order_by(Strategy.created)]


def strategy_for(context, project_id: str, instance_id: str) -> dict | None:
    """The instance's strategy, else its project's, else None."""
    with _facade.reader.using(context) as session:
        rows = {row.instance_id: row.to_dict()
                for row in session.query(Strategy).filter(
                    Strategy.tenant_id == project_id,
                    Strategy.instance_id.in_((instance_id, '')))}
        return rows.get(instance_id) or rows.get('')


@db_api.retry_on_locked
def strategy_delete(context, project_id: str, instance_id: str) -> int:
    with _facade.writer.using(context) as session:
        return session.query(Strategy).filter_by(
            tenant_id=project_id, instance_id=instance_id).delete()


# --- restore drills ----------------------------------------------------------

@db_api.retry_on_locked
def start_verify(context, backup_id: str, instance_id: str) -> bool:
    """Record the drill of a COMPLETED backup with its throwaway
    instance; False when one runs already (or the backup is not
    COMPLETED). The backup's own columns are left as they are."""
    with _facade.writer.using(context) as session:
        table = Backup.__table__
        return session.execute(table.update().where(
            table.c.id == backup_id, table.c.deleted.is_(False),
            table.c.state == COMPLETED,
            table.c.verify_instance_id.is_(None)).values(
            verify_instance_id=instance_id, verify_started=models.utcnow(),
            updated=table.c.updated)).rowcount == 1


def verifying(context) -> list[dict]:
    """The backups whose drill runs (deleted ones too: their drill's
    instance is still cleaned up)."""
    with _facade.reader.using(context) as session:
        rows = session.query(Backup).filter(
            Backup.verify_instance_id.is_not(None)).all()
        return [_dict(row) for row in rows]


@db_api.retry_on_locked
def finish_verify(context, backup_id: str, instance_id: str,
                  fault: str | None) -> bool:
    """End the drill of ``instance_id``: ``verified_at`` now (no
    ``fault``) or the ``fault``; False when another finished it."""
    values: dict = {'verify_instance_id': None,
                    'updated': Backup.__table__.c.updated}
    if fault is None:
        values.update(verified_at=models.utcnow(), verify_fault=None)
    else:
        values['verify_fault'] = fault[:1000]
    with _facade.writer.using(context) as session:
        table = Backup.__table__
        return session.execute(table.update().where(
            table.c.id == backup_id,
            table.c.verify_instance_id == instance_id).values(
            **values)).rowcount == 1
