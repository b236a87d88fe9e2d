"""Persistence functions of the control database.

Every function takes the request context first and runs in an explicit
oslo.db enginefacade reader or writer transaction. Rows leave this module as
plain dicts, never as ORM objects. Status changes are conditional UPDATEs.
"""
import datetime
import functools
import os
import random
import time
from typing import Any, Iterable

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy import pool as sa_pool

from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.db import models

_facade = enginefacade.transaction_context()
# No eventlet here: the sleep(0) oslo.db adds at every connection checkin
# only hands the CPU away.
_facade.configure(sqlite_fk=True, thread_checkin=False)
#: The transaction context, shared with the other persistence modules.
facade = _facade


def retry_on_locked(func):
    """Run a writer transaction again when SQLite answers "database is
    locked": two transactions that read, then write, cannot both upgrade
    their locks, and SQLite fails one at once instead of waiting. Other
    backends wait for their row locks and never get here."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        for attempt in range(40):
            try:
                return func(*args, **kwargs)
            except (sa.exc.OperationalError,
                    db_exc.DBError) as error:
                if 'database is locked' not in str(error) or attempt == 39:
                    raise
                time.sleep(0.005 * (attempt + 1) + random.random() * 0.01)
    return wrapper


@sa.event.listens_for(sa.engine.Engine, 'do_connect')
def _private_sqlite_file(dialect, _record, cargs, cparams) -> None:
    """Create a SQLite control database's file 0600 (its directory 0700
    when we make it) before SQLite does with the umask's mode: it holds
    every instance's wrapped key and the modules. SQLite gives its
    journal files the mode of the database file."""
    if dialect.name != 'sqlite' or not cargs:
        return
    path = cargs[0]
    if not isinstance(path, str) or path in ('', ':memory:') or \
            path.startswith('file:') or os.path.exists(path):
        return
    secrets.create_private_file(path, '')


def configure(**kwargs: Any) -> None:
    """Pass enginefacade options (e.g. ``connection``) before first use."""
    _facade.configure(**kwargs)


def get_engine(writer: bool = True) -> sa.engine.Engine:
    """The engine of the configured connection (for migrations and tools)."""
    if writer:
        return _facade.writer.get_engine()
    return _facade.reader.get_engine()


def pool_sqlite_connections(pool_size: int = 16) -> bool:
    """Keep SQLite connections open between transactions.

    oslo.db gives file-based SQLite a NullPool, so every transaction opens
    and configures a new connection; in a long-running service such as
    trove-api that is most of the cost of a simple read. This replaces the
    pool with a QueuePool of connections usable from any thread (each is
    used by one thread at a time), keeping the pool's connect listeners.
    Returns whether the pool was replaced.
    """
    engine = get_engine()
    if engine.dialect.name != 'sqlite' or \
            not isinstance(engine.pool, sa_pool.NullPool) or \
            engine.url.database in (None, '', ':memory:'):
        return False
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    cparams = dict(cparams, check_same_thread=False)
    old_pool = engine.pool
    engine.pool = sa_pool.QueuePool(
        functools.partial(engine.dialect.dbapi.connect, *cargs, **cparams),
        pool_size=pool_size, max_overflow=pool_size, use_lifo=True,
        dialect=engine.dialect, _dispatch=old_pool.dispatch)
    old_pool.dispose()
    return True


def dispose() -> None:
    """Close pooled connections (tests drop databases afterwards)."""
    factory = _facade._factory
    if factory._started:
        factory._writer_engine.dispose()
        if factory._reader_engine is not factory._writer_engine:
            factory._reader_engine.dispose()


def _dict(row: models.Base | None) -> dict | None:
    return row.to_dict() if row is not None else None


def _is_uuid(value: str) -> bool:
    return uuidutils.is_uuid_like(value)


# --- datastores ------------------------------------------------------------

def datastore_get(context, id_or_name: str) -> dict:
    """The datastore with this id or name; raises DatastoreNotFound."""
    with _facade.reader.using(context) as session:
        return _dict(_datastore_row(session, id_or_name))


def _datastore_row(session, id_or_name: str) -> models.Datastore:
    query = session.query(models.Datastore)
    row = None
    if _is_uuid(id_or_name):
        row = query.filter_by(id=id_or_name).first()
    if row is None:
        row = query.filter_by(name=id_or_name).first()
    if row is None:
        raise exception.DatastoreNotFound(datastore=id_or_name)
    return row


def datastore_list(context) -> list[dict]:
    with _facade.reader.using(context) as session:
        rows = session.query(models.Datastore).order_by(
            models.Datastore.name).all()
        return [row.to_dict() for row in rows]


def datastore_create_or_update(context, name: str,
                               default_version_id: str | None = None,
                               set_default: bool = False) -> dict:
    """Create the datastore ``name`` if missing.

    When ``set_default`` is true its default version becomes
    ``default_version_id`` (None clears it).
    """
    with _facade.writer.using(context) as session:
        row = session.query(models.Datastore).filter_by(name=name).first()
        if row is None:
            row = models.Datastore(id=uuidutils.generate_uuid(), name=name)
            session.add(row)
        if set_default:
            row.default_version_id = default_version_id
        session.flush()
        return row.to_dict()


def datastore_set_default_version(context, datastore_id: str,
                                  version_id: str | None,
                                  only_if_current: str | None = None) -> int:
    """Set (or clear) a datastore's default version.

    With ``only_if_current``, only change it while it still equals that
    version id (clearing a default that another request may have moved).
    Returns the number of rows changed.
    """
    with _facade.writer.using(context) as session:
        query = session.query(models.Datastore).filter_by(id=datastore_id)
        if only_if_current is not None:
            query = query.filter_by(default_version_id=only_if_current)
        return query.update({'default_version_id': version_id},
                            synchronize_session=False)


def datastore_delete(context, datastore_id: str) -> None:
    with _facade.writer.using(context) as session:
        row = _datastore_row(session, datastore_id)
        versions = session.query(models.DatastoreVersion).filter_by(
            datastore_id=row.id).count()
        if versions:
            raise exception.DatastoreVersionsExist(datastore=row.name)
        session.delete(row)


# --- datastore versions ----------------------------------------------------

def _version_query(session):
    return session.query(models.DatastoreVersion, models.Datastore.name,
                         models.Datastore.default_version_id).join(
        models.Datastore,
        models.Datastore.id == models.DatastoreVersion.datastore_id)


def _version_dict(result) -> dict:
    version, datastore_name, default_version_id = result
    values = version.to_dict()
    values['datastore_name'] = datastore_name
    values['default'] = default_version_id == version.id
    return values


def datastore_version_get(context, version_id: str) -> dict:
    """The version with this id (with datastore_name and default)."""
    with _facade.reader.using(context) as session:
        result = _version_query(session).filter(
            models.DatastoreVersion.id == version_id).first()
        if result is None:
            raise exception.DatastoreVersionNotFound(version=version_id)
        return _version_dict(result)


def datastore_version_find(context, datastore: str, version: str,
                           version_number: str | None = None) -> dict:
    """Find a version of ``datastore`` by id, or by name.

    A name shared by several version numbers needs ``version_number``;
    without it the lookup raises AmbiguousDatastoreVersion. ``version`` may
    also be a version number when no version has that name.
    """
    with _facade.reader.using(context) as session:
        ds = _datastore_row(session, datastore)
        query = _version_query(session).filter(
            models.DatastoreVersion.datastore_id == ds.id)
        if _is_uuid(version):
            result = query.filter(
                models.DatastoreVersion.id == version).first()
            if result is not None:
                return _version_dict(result)
        by_name = query.filter(models.DatastoreVersion.name == version)
        if version_number is not None:
            by_name = by_name.filter(
                models.DatastoreVersion.version == version_number)
        results = by_name.all()
        if not results and version_number is None:
            results = query.filter(
                models.DatastoreVersion.version == version).all()
        if not results:
            raise exception.DatastoreNoVersion(datastore=ds.name,
                                               version=version)
        if len(results) > 1:
            numbers = ', '.join(sorted(r[0].version for r in results))
            raise exception.AmbiguousDatastoreVersion(
                datastore=ds.name, version=version, numbers=numbers)
        return _version_dict(results[0])


def datastore_version_list(context, datastore_id: str | None = None,
                           only_active: bool = False) -> list[dict]:
    with _facade.reader.using(context) as session:
        query = _version_query(session)
        if datastore_id is not None:
            query = query.filter(
                models.DatastoreVersion.datastore_id == datastore_id)
        if only_active:
            query = query.filter(models.DatastoreVersion.active.is_(True))
        query = query.order_by(models.Datastore.name,
                               models.DatastoreVersion.name,
                               models.DatastoreVersion.version)
        return [_version_dict(result) for result in query.all()]


def datastore_version_create(context, values: dict) -> dict:
    """Insert a version; raises DatastoreVersionAlreadyExists on a clash,
    BadRequest for a value wider than its column."""
    check_row_widths(models.DatastoreVersion, values)
    values = dict(values)
    values.setdefault('id', uuidutils.generate_uuid())
    with _facade.writer.using(context) as session:
        clash = session.query(models.DatastoreVersion).filter_by(
            datastore_id=values['datastore_id'], name=values['name'],
            version=values['version']).first()
        if clash is not None:
            raise _version_exists(session, values)
        row = models.DatastoreVersion(**values)
        session.add(row)
        try:
            session.flush()
        except db_exc.DBDuplicateEntry:
            raise _version_exists(session, values)
        return row.to_dict()


def _version_exists(session, values: dict) -> exception.TroveError:
    ds = session.get(models.Datastore, values['datastore_id'])
    return exception.DatastoreVersionAlreadyExists(
        name=values['name'], version=values['version'],
        datastore=ds.name if ds else values['datastore_id'])


def datastore_version_update(context, version_id: str, values: dict) -> dict:
    check_row_widths(models.DatastoreVersion, values)
    with _facade.writer.using(context) as session:
        row = session.get(models.DatastoreVersion, version_id)
        if row is None:
            raise exception.DatastoreVersionNotFound(version=version_id)
        for key, value in values.items():
            setattr(row, key, value)
        try:
            session.flush()
        except db_exc.DBDuplicateEntry:
            raise _version_exists(session, row.to_dict())
        return row.to_dict()


def datastore_version_delete(context, version_id: str) -> None:
    """Delete a version unused by any instance or backup, and its
    parameters."""
    with _facade.writer.using(context) as session:
        row = session.get(models.DatastoreVersion, version_id)
        if row is None:
            raise exception.DatastoreVersionNotFound(version=version_id)
        used = session.query(models.Instance).filter_by(
            datastore_version_id=version_id, deleted=False).count()
        if used:
            raise exception.DatastoreVersionsInUse(
                version=version_id, reason='%d instances use it' % used)
        # A backup restores only into its datastore version's datastore,
        # and shows the version: as in Trove, it keeps the version.
        backups = session.query(models.Backup).filter_by(
            datastore_version_id=version_id, deleted=False).count()
        if backups:
            raise exception.DatastoreVersionsInUse(
                version=version_id, reason='%d backups were taken with '
                'it' % backups)
        groups = session.query(models.Configuration).filter_by(
            datastore_version_id=version_id, deleted=False).count()
        if groups:
            raise exception.DatastoreVersionsInUse(
                version=version_id, reason='%d configuration groups are '
                'for it' % groups)
        for table in (models.DatastoreConfigurationParameter,
                      models.DatastoreVersionMetadata):
            session.query(table).filter_by(
                datastore_version_id=version_id).delete(
                synchronize_session=False)
        session.query(models.Datastore).filter_by(
            id=row.datastore_id, default_version_id=version_id).update(
            {'default_version_id': None}, synchronize_session=False)
        session.delete(row)
        try:
            session.flush()
        except db_exc.DBReferenceError:
            # The records of deleted instances and configuration groups
            # keep naming the version they had (their history shows it).
            raise exception.DatastoreVersionsInUse(
                version=version_id, reason='the records of deleted '
                'instances or configuration groups refer to it; '
                'deactivate it instead (trove-manage '
                'datastore_version_update ... active=0)')


# --- version metadata (flavor and volume type restrictions) ---------------

def version_metadata_add(context, version_id: str, key: str,
                         values: Iterable[str]) -> list[str]:
    """Add associations; returns those that were not there already."""
    added = []
    with _facade.writer.using(context) as session:
        existing = {row.value for row in session.query(
            models.DatastoreVersionMetadata).filter_by(
            datastore_version_id=version_id, key=key)}
        for value in values:
            if value in existing:
                continue
            session.add(models.DatastoreVersionMetadata(
                id=uuidutils.generate_uuid(),
                datastore_version_id=version_id, key=key, value=value))
            existing.add(value)
            added.append(value)
    return added


def version_metadata_delete(context, version_id: str, key: str,
                            value: str) -> int:
    with _facade.writer.using(context) as session:
        return session.query(models.DatastoreVersionMetadata).filter_by(
            datastore_version_id=version_id, key=key, value=value).delete(
            synchronize_session=False)


def version_metadata_list(context, version_id: str, key: str) -> list[str]:
    with _facade.reader.using(context) as session:
        rows = session.query(models.DatastoreVersionMetadata).filter_by(
            datastore_version_id=version_id, key=key).order_by(
            models.DatastoreVersionMetadata.value)
        return [row.value for row in rows]


# --- configuration parameters ---------------------------------------------

def config_parameter_list(context, version_id: str) -> list[dict]:
    with _facade.reader.using(context) as session:
        rows = session.query(models.DatastoreConfigurationParameter).filter_by(
            datastore_version_id=version_id).order_by(
            models.DatastoreConfigurationParameter.name)
        return [row.to_dict() for row in rows]


def config_parameter_get(context, version_id: str, name: str) -> dict:
    with _facade.reader.using(context) as session:
        row = session.query(models.DatastoreConfigurationParameter).filter_by(
            datastore_version_id=version_id, name=name).first()
        if row is None:
            raise exception.ConfigurationParameterNotFound(name=name)
        return row.to_dict()


def config_parameter_create(context, version_id: str, values: dict) -> dict:
    with _facade.writer.using(context) as session:
        row = models.DatastoreConfigurationParameter(
            id=uuidutils.generate_uuid(), datastore_version_id=version_id,
            **values)
        session.add(row)
        try:
            session.flush()
        except db_exc.DBDuplicateEntry:
            raise exception.ConfigurationParameterAlreadyExists(
                name=values['name'], version=version_id)
        return row.to_dict()


def config_parameter_update(context, version_id: str, name: str,
                            values: dict) -> dict:
    with _facade.writer.using(context) as session:
        row = session.query(models.DatastoreConfigurationParameter).filter_by(
            datastore_version_id=version_id, name=name).first()
        if row is None:
            raise exception.ConfigurationParameterNotFound(name=name)
        for key, value in values.items():
            setattr(row, key, value)
        session.flush()
        return row.to_dict()


def config_parameter_delete(context, version_id: str, name: str) -> None:
    with _facade.writer.using(context) as session:
        deleted = session.query(
            models.DatastoreConfigurationParameter).filter_by(
            datastore_version_id=version_id, name=name).delete(
            synchronize_session=False)
        if not deleted:
            raise exception.ConfigurationParameterNotFound(name=name)


def config_parameters_replace(context, version_id: str,
                              parameters: list[dict]) -> int:
    """Replace every parameter of a version in one transaction."""
    with _facade.writer.using(context) as session:
        session.query(models.DatastoreConfigurationParameter).filter_by(
            datastore_version_id=version_id).delete(synchronize_session=False)
        for values in parameters:
            session.add(models.DatastoreConfigurationParameter(
                id=uuidutils.generate_uuid(),
                datastore_version_id=version_id, **values))
    return len(parameters)


def config_parameters_delete_all(context, version_id: str) -> int:
    with _facade.writer.using(context) as session:
        return session.query(
            models.DatastoreConfigurationParameter).filter_by(
            datastore_version_id=version_id).delete(synchronize_session=False)


# --- flavors of the local backend -----------------------------------------

def flavor_list(context) -> list[dict]:
    with _facade.reader.using(context) as session:
        return [row.to_dict() for row in
                session.query(models.Flavor).order_by(models.Flavor.id)]


def flavor_create(context, values: dict) -> dict:
    """:raises: FlavorExists when the id or the name is taken"""
    with _facade.writer.using(context) as session:
        clash = session.query(models.Flavor).filter(sa.or_(
            models.Flavor.id == values['id'],
            models.Flavor.name == values['name'])).first()
        if clash is not None:
            raise exception.FlavorExists(id=clash.id, name=clash.name)
        row = models.Flavor(**values)
        session.add(row)
        session.flush()
        return row.to_dict()


def flavor_delete(context, flavor_id: str) -> None:
    with _facade.writer.using(context) as session:
        if not session.query(models.Flavor).filter_by(
                id=flavor_id).delete(synchronize_session=False):
            raise exception.FlavorNotFound(uuid=flavor_id)


# --- quotas ---------------------------------------------------------------

def quota_get_all(context, project_id: str) -> dict[str, int]:
    """Project-specific hard limits, by resource."""
    with _facade.reader.using(context) as session:
        rows = session.query(models.Quota).filter_by(tenant_id=project_id)
        return {row.resource: row.hard_limit for row in rows}


def quota_usage_get_all(context, project_id: str) -> dict[str, dict]:
    with _facade.reader.using(context) as session:
        rows = session.query(models.QuotaUsage).filter_by(
            tenant_id=project_id)
        return {row.resource: {'in_use': row.in_use,
                               'reserved': row.reserved} for row in rows}


def check_width(what: str, value: str, column) -> None:
    """BadRequest unless ``value`` fits the String ``column`` (SQLite
    would store a longer one; MariaDB and PostgreSQL refuse it)."""
    width = column.type.length
    if value is not None and len(value) > width:
        raise exception.BadRequest('The %s has %d characters; at most %d '
                                   'are allowed.' % (what, len(value), width))


def check_row_widths(model, values: dict) -> None:
    """:func:`check_width` for every string of ``values`` written to a
    String column of ``model``, named by its column."""
    for key, value in values.items():
        column = model.__table__.columns.get(key)
        if isinstance(value, str) and column is not None and \
                isinstance(column.type, sa.String) and column.type.length:
            check_width(key.replace('_', ' '), value, column)


def quota_set(context, project_id: str, limits: dict[str, int]) -> None:
    """Set ``project_id``'s limits.

    :raises: BadRequest for a project id wider than the column
    """
    check_width('project id', project_id, models.Quota.tenant_id)
    with _facade.writer.using(context) as session:
        for resource, limit in limits.items():
            row = session.query(models.Quota).filter_by(
                tenant_id=project_id, resource=resource).first()
            if row is None:
                session.add(models.Quota(
                    id=uuidutils.generate_uuid(), tenant_id=project_id,
                    resource=resource, hard_limit=limit))
            else:
                row.hard_limit = limit


@retry_on_locked
def quota_usage_ensure(context, project_id: str, resource: str,
                       count) -> None:
    """Make the project's usage row of a resource counted by its own rows
    (configuration groups, modules), starting at ``count(session,
    project_id)``, the rows made before quotas counted them.

    Its own short transaction, before the one that counts a new row: on
    MariaDB the lock a duplicate insert leaves would otherwise deadlock
    two first creates.
    """
    with _facade.writer.using(context) as session:
        if session.query(models.QuotaUsage.id).filter_by(
                tenant_id=project_id, resource=resource).first():
            return
        try:
            with session.begin_nested():
                session.add(models.QuotaUsage(
                    id=uuidutils.generate_uuid(), tenant_id=project_id,
                    resource=resource, in_use=count(session, project_id),
                    reserved=0))
        except db_exc.DBDuplicateEntry:
            pass


# --- pages ----------------------------------------------------------------

def page(query, model, marker: str | None, limit: int, not_found,
         newest_first: bool = False):
    """``query`` ordered by (created, id), ``limit`` rows after the row
    whose id is ``marker`` (keyset paging: stable while rows are added).

    :param not_found: called with the marker when no row of ``query`` has
        that id; it returns the exception to raise
    """
    if marker:
        anchor = query.filter(model.id == marker).first()
        if anchor is None:
            raise not_found(marker)
        if newest_first:
            query = query.filter(sa.or_(
                model.created < anchor.created,
                sa.and_(model.created == anchor.created,
                        model.id < anchor.id)))
        else:
            query = query.filter(sa.or_(
                model.created > anchor.created,
                sa.and_(model.created == anchor.created,
                        model.id > anchor.id)))
    if newest_first:
        query = query.order_by(model.created.desc(), model.id.desc())
    else:
        query = query.order_by(model.created, model.id)
    return query.limit(limit)


# --- instances (read side; the write side arrives with the taskmanager) ---

def instance_list(context, project_id: str | None, limit: int,
                  marker: str | None = None,
                  include_clustered: bool = False) -> list[dict]:
    """Non-deleted instances, newest first, ``limit`` after ``marker``.

    ``project_id`` None lists every project (mgmt API).
    """
    with _facade.reader.using(context) as session:
        query = session.query(models.Instance).filter_by(deleted=False)
        if project_id is not None:
            query = query.filter_by(tenant_id=project_id)
        if not include_clustered:
            query = query.filter(models.Instance.cluster_id.is_(None))
        query = page(query, models.Instance, marker, limit,
                     lambda id_: exception.InstanceNotFound(instance=id_),
                     newest_first=True)
        return [row.to_dict() for row in query]


def count_instances_using(context, version_id: str) -> int:
    with _facade.reader.using(context) as session:
        return session.query(models.Instance).filter_by(
            datastore_version_id=version_id, deleted=False).count()


def now() -> datetime.datetime:
    return models.utcnow()
