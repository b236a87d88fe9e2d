"""Persistence of configuration groups and their values."""
import hashlib
import json

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone.db import models

_facade = db_api.facade
Configuration = models.Configuration
Value = models.ConfigurationValue


def _view(session, row: models.Configuration) -> dict:
    data = row.to_dict()
    values = session.query(Value).filter_by(configuration_id=row.id)
    data['values'] = {value.configuration_key:
                      json.loads(value.configuration_value)
                      for value in values}
    data['instance_count'] = session.query(models.Instance).filter_by(
        configuration_id=row.id, deleted=False).count()
    return data


QUOTA_RESOURCE = 'configurations'


def unique_key(tenant_id: str, name: str) -> str:
    """The ``unique_key`` of a live group: one name per tenant."""
    return hashlib.sha256(json.dumps([tenant_id, name]).encode(
        'utf-8')).hexdigest()


def _live_count(session, tenant_id: str) -> int:
    return session.query(Configuration).filter_by(tenant_id=tenant_id,
                                                  deleted=False).count()


@db_api.retry_on_locked
@oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
def create(context, values: dict, settings: dict, limit: int = -1) -> dict:
    """Record a group and its values, counted against the tenant's
    ``configurations`` quota (``limit``, -1: none) in the same
    transaction.

    :raises: ConfigurationAlreadyExists for a live group of the tenant
        with that name (the unique index decides), QuotaExceeded
    """
    tenant_id = values['tenant_id']
    db_api.quota_usage_ensure(context, tenant_id, QUOTA_RESOURCE,
                              _live_count)
    try:
        with _facade.writer.using(context) as session:
            db_instances._use_quota(session, tenant_id, {QUOTA_RESOURCE: 1},
                                    {QUOTA_RESOURCE: limit})
            now = models.utcnow()
            row = Configuration(
                id=uuidutils.generate_uuid(), created=now, updated=now,
                deleted=False,
                unique_key=unique_key(tenant_id, values['name']), **values)
            session.add(row)
            session.flush()
            for key, value in settings.items():
                session.add(Value(configuration_id=row.id,
                                  configuration_key=key,
                                  configuration_value=json.dumps(value)))
            session.flush()
            return _view(session, row)
    except db_exc.DBDuplicateEntry:
        raise exception.ConfigurationAlreadyExists(name=values['name'])


def get(context, configuration_id: str,
        project_id: str | None = None) -> dict:
    """One group with its values and instance_count.

    :raises: ConfigurationNotFound (also for another project's group)
    """
    with _facade.reader.using(context) as session:
        query = session.query(Configuration).filter_by(
            id=configuration_id, deleted=False)
        if project_id is not None:
            query = query.filter_by(tenant_id=project_id)
        row = query.first()
        if row is None:
            raise exception.ConfigurationNotFound(id=configuration_id)
        return _view(session, row)


def list_page(context, project_id: str, limit: int,
              marker: str | None = None) -> list[dict]:
    """Up to ``limit`` live groups of the project after ``marker`` (an
    id), oldest first, without their values.

    :raises: ConfigurationNotFound for a marker that is not such a group
    """
    with _facade.reader.using(context) as session:
        query = session.query(Configuration).filter_by(
            deleted=False, tenant_id=project_id)
        rows = db_api.page(
            query, Configuration, marker, limit,
            lambda id_: exception.ConfigurationNotFound(id=id_))
        return [row.to_dict() for row in rows]


@db_api.retry_on_locked
def replace(context, configuration_id: str, settings: dict,
            changes: dict | None = None, merge: bool = False) -> dict:
    """Set the group's values (all of them, or merged with ``merge``) and
    its name/description from ``changes``."""
    try:
        with _facade.writer.using(context) as session:
            return _replace(session, configuration_id, settings,
                            changes or {}, merge)
    except db_exc.DBDuplicateEntry:
        raise exception.ConfigurationAlreadyExists(
            name=(changes or {}).get('name'))


def _replace(session, configuration_id: str, settings: dict,
             changes: dict, merge: bool) -> dict:
    row = session.get(Configuration, configuration_id)
    if row is None or row.deleted:
        raise exception.ConfigurationNotFound(id=configuration_id)
    for key, value in changes.items():
        setattr(row, key, value)
    row.unique_key = unique_key(row.tenant_id, row.name)
    row.updated = models.utcnow()
    session.flush()
    if not merge:
        session.query(Value).filter_by(
            configuration_id=configuration_id).delete()
        session.flush()
    for key, value in settings.items():
        existing = session.get(Value, (configuration_id, key))
        if existing is None:
            session.add(Value(configuration_id=configuration_id,
                              configuration_key=key,
                              configuration_value=json.dumps(value)))
        else:
            existing.configuration_value = json.dumps(value)
    session.flush()
    return _view(session, row)


@db_api.retry_on_locked
def delete(context, configuration_id: str) -> None:
    """Delete a group no instance uses (its name free again, its quota
    use given back); ConfigurationInUse otherwise."""
    with _facade.writer.using(context) as session:
        row = session.get(Configuration, configuration_id)
        if row is None or row.deleted:
            raise exception.ConfigurationNotFound(id=configuration_id)
        used = session.query(models.Instance).filter_by(
            configuration_id=configuration_id, deleted=False).count()
        if used:
            raise exception.ConfigurationInUse(id=configuration_id,
                                               count=used)
        row.deleted = True
        row.deleted_at = models.utcnow()
        row.unique_key = None
        db_instances._release_quota(session, row.tenant_id,
                                    {QUOTA_RESOURCE: 1})


def instances_of(context, configuration_id: str) -> list[dict]:
    with _facade.reader.using(context) as session:
        rows = session.query(models.Instance).filter_by(
            configuration_id=configuration_id, deleted=False).order_by(
            models.Instance.created)
        return [{'id': row.id, 'name': row.name} for row in rows]
