"""Persistence of modules and of the modules applied to instances.

Contents stay as stored (encrypted); the services layer encrypts and
decrypts them.
"""
import hashlib
import json

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import uuidutils
import sqlalchemy as sa
from sqlalchemy import orm

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models

_facade = db_api.facade
Module = models.Module
Applied = models.InstanceModule
Instance = models.Instance


#: Trove's identity of a module: one live module per tenant, name, type,
#: datastore and datastore version (trove.module.models.Module.key_exists).
IDENTITY = ('tenant_id', 'name', 'type', 'datastore_id',
            'datastore_version_id')
QUOTA_RESOURCE = 'modules'


def unique_key(values: dict) -> str:
    """The value of the ``unique_key`` column of a live module with
    ``values``: equal for two modules exactly when Trove calls them the
    same (NULLs included, which a plain unique index would not compare).
    """
    return hashlib.sha256(json.dumps(
        [values.get(name) for name in IDENTITY]).encode('utf-8')).hexdigest()


def _already_exists(values: dict) -> exception.ModuleAlreadyExists:
    return exception.ModuleAlreadyExists(name=values['name'],
                                         module_type=values['type'])


def _live_count(session, tenant_id: str) -> int:
    return session.query(Module).filter_by(tenant_id=tenant_id,
                                           deleted=False).count()


@db_api.retry_on_locked
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
def create(context, values: dict, limit: int = -1) -> dict:
    """Record a module; a module of a tenant counts against the tenant's
    ``modules`` quota (``limit``, -1: none) in the same transaction.

    :raises: ModuleAlreadyExists for a live module of the same name, type,
        tenant and datastore (version), decided by the unique index;
        QuotaExceeded
    """
    tenant_id = values.get('tenant_id')
    if tenant_id is not None:
        db_api.quota_usage_ensure(context, tenant_id, QUOTA_RESOURCE,
                                  _live_count)
    try:
        with _facade.writer.using(context) as session:
            if tenant_id is not None:
                db_instances._use_quota(session, tenant_id,
                                        {QUOTA_RESOURCE: 1},
                                        {QUOTA_RESOURCE: limit})
            now = models.utcnow()
            row = Module(id=uuidutils.generate_uuid(), created=now,
                         updated=now, deleted=False,
                         unique_key=unique_key(values), **values)
            session.add(row)
            session.flush()
            return row.to_dict()
    except db_exc.DBDuplicateEntry:
        raise _already_exists(values)


def get(context, module_id: str) -> dict:
    """A live module; ModuleNotFound otherwise."""
    with _facade.reader.using(context) as session:
        row = session.query(Module).filter_by(id=module_id,
                                              deleted=False).first()
        if row is None:
            raise exception.ModuleNotFound(id=module_id)
        return row.to_dict()


#: The columns a list shows: never the contents.
_LISTED = [column.key for column in Module.__table__.columns
           if column.key != 'contents']


def list_page(context, project_id: str | None, limit: int,
              marker: str | None = None, datastore_id: str | None = None,
              all_datastores: bool = False) -> list[dict]:
    """Up to ``limit`` live modules after ``marker`` (an id), oldest
    first, without their contents.

    :param project_id: None for every module (an administrator); else the
        modules of the project and those for all projects, hidden ones
        left out, filtered in the query
    :param datastore_id: only the modules of that datastore
    :param all_datastores: only the modules for every datastore
    :raises: ModuleNotFound for a marker that is not such a module
    """
    with _facade.reader.using(context) as session:
        query = session.query(Module).options(
            orm.load_only(*[getattr(Module, name) for name in _LISTED],
                          raiseload=True)).filter(Module.deleted.is_(False))
        if project_id is not None:
            query = query.filter(
                Module.visible.is_(True),
                sa.or_(Module.tenant_id.is_(None),
                       Module.tenant_id == project_id))
        if all_datastores:
            query = query.filter(Module.datastore_id.is_(None))
        elif datastore_id is not None:
            query = query.filter(Module.datastore_id == datastore_id)
        rows = db_api.page(query, Module, marker, limit,
                           lambda id_: exception.ModuleNotFound(id=id_))
        return [{name: getattr(row, name) for name in _LISTED}
                for row in rows]


def newest(context) -> dict | None:
    """The live module changed last (its contents are the last encrypted),
    or None when there is none."""
    with _facade.reader.using(context) as session:
        row = session.query(Module).filter_by(deleted=False).order_by(
            Module.updated.desc(), Module.id).first()
        return row.to_dict() if row is not None else None


def auto_apply_for(context, tenant_id: str, datastore_id: str,
                   version_id: str) -> list[dict]:
    """The auto_apply modules a new instance of the tenant and version
    gets."""
    with _facade.reader.using(context) as session:
        rows = session.query(Module).filter(
            Module.deleted.is_(False), Module.auto_apply.is_(True),
            sa.or_(Module.tenant_id.is_(None),
                   Module.tenant_id == tenant_id),
            sa.or_(Module.datastore_id.is_(None),
                   Module.datastore_id == datastore_id),
            sa.or_(Module.datastore_version_id.is_(None),
                   Module.datastore_version_id == version_id))
        return [row.to_dict() for row in rows.order_by(Module.created)]


@db_api.retry_on_locked
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
def update(context, module_id: str, changes: dict, limit: int = -1) -> dict:
    """Change a module's fields; ModuleAlreadyExists when it would take
    another live module's identity (the unique index decides). A module
    moved to another tenant (or to all tenants) moves its quota use;
    ``limit`` is the new tenant's."""
    try:
        with _facade.writer.using(context) as session:
            row = session.query(Module).filter_by(id=module_id,
                                                  deleted=False).first()
            if row is None:
                raise exception.ModuleNotFound(id=module_id)
            identity = {key: changes.get(key, getattr(row, key))
                        for key in IDENTITY}
            if identity['tenant_id'] != row.tenant_id:
                _move_quota(context, session, row.tenant_id,
                            identity['tenant_id'], limit)
            for key, value in changes.items():
                setattr(row, key, value)
            row.unique_key = unique_key(identity)
            row.updated = models.utcnow()
            session.flush()
            return row.to_dict()
    except db_exc.DBDuplicateEntry:
        raise _already_exists(identity)


def _move_quota(context, session, old_tenant: str | None,
                new_tenant: str | None, limit: int) -> None:
    if new_tenant is not None:
        db_api.quota_usage_ensure(context, new_tenant, QUOTA_RESOURCE,
                                  _live_count)
        db_instances._use_quota(session, new_tenant, {QUOTA_RESOURCE: 1},
                                {QUOTA_RESOURCE: limit})
    if old_tenant is not None:
        db_instances._release_quota(session, old_tenant,
                                    {QUOTA_RESOURCE: 1})


@db_api.retry_on_locked
def delete(context, module_id: str) -> None:
    """Mark a module deleted (its name free again, its quota use given
    back) and forget where it was applied."""
    with _facade.writer.using(context) as session:
        now = models.utcnow()
        row = session.query(Module.tenant_id).filter_by(
            id=module_id, deleted=False).first()
        deleted = session.query(Module).filter_by(
            id=module_id, deleted=False).update(
            {'deleted': True, 'deleted_at': now, 'updated': now,
             'unique_key': None}, synchronize_session=False)
        session.query(Applied).filter_by(module_id=module_id,
                                         deleted=False).update(
            {'deleted': True, 'deleted_at': now},
            synchronize_session=False)
        if deleted and row.tenant_id is not None:
            db_instances._release_quota(session, row.tenant_id,
                                        {QUOTA_RESOURCE: 1})


# --- modules applied to instances --------------------------------------------

def _applied(session, module_id: str, include_clustered: bool,
             tenant_id: str | None = None):
    query = session.query(Applied).join(
        Instance, Instance.id == Applied.instance_id).filter(
        Applied.module_id == module_id, Applied.deleted.is_(False),
        Instance.deleted.is_(False))
    if not include_clustered:
        query = query.filter(Instance.cluster_id.is_(None))
    if tenant_id is not None:
        query = query.filter(Instance.tenant_id == tenant_id)
    return query


def count_current(context, module_id: str, md5: str) -> int:
    """Instances with the module applied at ``md5`` (clustered ones
    too)."""
    with _facade.reader.using(context) as session:
        return _applied(session, module_id, True).filter(
            Applied.md5 == md5).count()


def count_by_md5(context, module_id: str, include_clustered: bool,
                 tenant_id: str | None = None) -> list[dict]:
    """``{md5, count, min_updated, max_updated}`` per applied md5, the
    oldest first (instances of ``tenant_id`` only, when given)."""
    with _facade.reader.using(context) as session:
        query = _applied(session, module_id, include_clustered,
                         tenant_id).with_entities(
            Applied.md5, sa.func.count(Applied.id),
            sa.func.min(Applied.updated), sa.func.max(Applied.updated)
        ).group_by(Applied.md5)
        groups = [{'md5': md5, 'count': count, 'min_updated': low,
                   'max_updated': high} for md5, count, low, high in query]
    return sorted(groups, key=lambda group: group['min_updated'])


def instance_ids(context, module_id: str, include_clustered: bool,
                 limit: int | None = None, marker: str | None = None,
                 tenant_id: str | None = None) -> list[str]:
    """Ids of the live instances the module is applied to, by id (of
    ``tenant_id`` only, when given)."""
    with _facade.reader.using(context) as session:
        query = _applied(session, module_id, include_clustered, tenant_id)
        if marker:
            query = query.filter(Instance.id > marker)
        query = query.with_entities(Instance.id).distinct().order_by(
            Instance.id)
        if limit:
            query = query.limit(limit)
        return [instance_id for (instance_id,) in query]


def reapply_targets(context, module_id: str, current_md5: str,
                    md5: str | None, include_clustered: bool,
                    force: bool, tenant_id: str | None = None
                    ) -> list[str]:
    """Ids of the instances a reapply goes to: those whose applied md5 is
    not the current one (every one with ``force``), only those at ``md5``
    when given, only those of ``tenant_id`` when given; oldest application
    first."""
    with _facade.reader.using(context) as session:
        query = _applied(session, module_id, include_clustered, tenant_id)
        if md5:
            query = query.filter(Applied.md5 == md5)
        if not force:
            query = query.filter(Applied.md5 != current_md5)
        rows = query.order_by(Applied.updated, Applied.instance_id)
        return [row.instance_id for row in rows]


@db_api.retry_on_locked
def record_applied(context, instance_id: str, module_id: str,
                   md5: str) -> None:
    """The module is (now) applied to the instance at ``md5``; its update
    time is now, even when the md5 did not change."""
    with _facade.writer.using(context) as session:
        now = models.utcnow()
        updated = session.query(Applied).filter_by(
            instance_id=instance_id, module_id=module_id,
            deleted=False).update({'md5': md5, 'updated': now},
                                  synchronize_session=False)
        if not updated:
            session.add(Applied(id=uuidutils.generate_uuid(),
                                instance_id=instance_id, module_id=module_id,
                                md5=md5, created=now, updated=now,
                                deleted=False))


@db_api.retry_on_locked
def record_removed(context, instance_id: str,
                   module_id: str | None = None) -> None:
    """The module (every module, with None) no longer applies to the
    instance."""
    with _facade.writer.using(context) as session:
        query = session.query(Applied).filter_by(instance_id=instance_id,
                                                 deleted=False)
        if module_id is not None:
            query = query.filter_by(module_id=module_id)
        query.update({'deleted': True, 'deleted_at': models.utcnow()},
                     synchronize_session=False)


def applied_to(context, instance_id: str) -> list[dict]:
    """The modules applied to an instance: each module's row with the
    application's ``applied_md5``, ``applied_created`` and
    ``applied_updated``."""
    with _facade.reader.using(context) as session:
        rows = session.query(Applied, Module).join(
            Module, Module.id == Applied.module_id).filter(
            Applied.instance_id == instance_id, Applied.deleted.is_(False),
            Module.deleted.is_(False)).order_by(Applied.created)
        result = []
        for applied, module in rows:
            data = module.to_dict()
            data.update(applied_md5=applied.md5,
                        applied_created=applied.created,
                        applied_updated=applied.updated)
            result.append(data)
        return result
