"""Persistence of configuration groups and their values."""
import json

from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.db import api as db_api
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


@db_api.retry_on_locked
def create(context, values: dict, settings: dict) -> dict:
    with _facade.writer.using(context) as session:
        now = models.utcnow()
        row = Configuration(id=uuidutils.generate_uuid(), created=now,
                            updated=now, deleted=False, **values)
        session.add(row)
        session.flush()
        for key, value in settings.items():
            session.add(Value(configuration_id=row.id,
                              configuration_key=key,
                              configuration_value=json.dumps(value)))
        session.flush()
        return _view(session, row)


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


def list_for(context, project_id: str | None) -> list[dict]:
    with _facade.reader.using(context) as session:
        query = session.query(Configuration).filter_by(deleted=False)
        if project_id is not None:
            query = query.filter_by(tenant_id=project_id)
        return [_view(session, row) for row in
                query.order_by(Configuration.created, Configuration.id)]


@db_api.retry_on_locked
def replace(context, configuration_id: str, settings: dict,
            changes: dict | None = None, merge: bool = False) -> dict:
    """Set the group's values (all of them, or merged with ``merge``) and
    its name/description from ``changes``."""
    with _facade.writer.using(context) as session:
        row = session.get(Configuration, configuration_id)
        if row is None or row.deleted:
            raise exception.ConfigurationNotFound(id=configuration_id)
        for key, value in (changes or {}).items():
            setattr(row, key, value)
        row.updated = models.utcnow()
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
    """Delete a group no instance uses; ConfigurationInUse otherwise."""
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


def instances_of(context, configuration_id: str) -> list[dict]:
    with _facade.reader.using(context) as session:
        rows = session.query(models.Instance).filter_by(
            configuration_id=configuration_id, deleted=False).order_by(
            models.Instance.created)
        return [{'id': row.id, 'name': row.name} for row in rows]
