"""The API's list reads in SQLAlchemy Core: one statement each, rows as
dicts straight from the result, no ORM objects.

A list route reads tens to hundreds of rows; building an ORM object per
row (identity map, instance state, attribute events), then a dict from
it, cost more than everything else the route does. These functions
select the mapped columns in mapper order and zip each result row with
the attribute names, so each row is the same dict ``Base.to_dict()``
gives, and join in one statement what
the views need (an instance's service status and datastore version, a
group's datastore version) instead of a query per kind.

Statements are built once per shape and reused with bound parameters,
so SQLAlchemy's compiled-statement cache finds them without building a
new cache key each time. Each read runs in an enginefacade reader
transaction on a plain connection (no Session).
"""
import functools

import sqlalchemy as sa

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import models

_facade = db_api.facade
Instance = models.Instance
ServiceStatus = models.ServiceStatus
Version = models.DatastoreVersion
Datastore = models.Datastore
Parameter = models.DatastoreConfigurationParameter
Configuration = models.Configuration


def _columns(model, prefix: str) -> list:
    """Every mapped column of ``model``, labelled ``prefix`` + its
    attribute name."""
    return [getattr(model, attr.key).label(prefix + attr.key)
            for attr in sa.inspect(model).column_attrs]


@functools.lru_cache(maxsize=None)
def _keys(model) -> tuple[str, ...]:
    """The attribute names of ``model``'s columns, in _columns' order."""
    return tuple(attr.key for attr in sa.inspect(model).column_attrs)


@functools.lru_cache(maxsize=None)
def _version_columns() -> list:
    """A version's columns, then its datastore's name and default."""
    return _columns(Version, 'v_') + [
        Datastore.name.label('d_name'),
        Datastore.default_version_id.label('d_default')]


def _version_of(row, start: int) -> dict:
    """The dict ``db_api.datastore_version_get`` gives, from the
    _version_columns of a result row, which begin at ``start``."""
    keys = _keys(Version)
    end = start + len(keys)
    values = dict(zip(keys, row[start:end]))
    values['datastore_name'] = row[end]
    values['default'] = row[end + 1] == values['id']
    return values


# --- datastore versions ----------------------------------------------------

@functools.lru_cache(maxsize=None)
def _versions_statement(by_datastore: bool, only_active: bool):
    statement = sa.select(*_version_columns()).join(
        Datastore, Datastore.id == Version.datastore_id)
    if by_datastore:
        statement = statement.where(
            Version.datastore_id == sa.bindparam('datastore_id'))
    if only_active:
        statement = statement.where(Version.active.is_(True))
    return statement.order_by(Datastore.name, Version.name, Version.version)


def datastore_versions(context, datastore_id: str | None = None,
                       only_active: bool = False) -> list[dict]:
    """What ``db_api.datastore_version_list`` returns, in one statement."""
    statement = _versions_statement(datastore_id is not None, only_active)
    params = {} if datastore_id is None else {'datastore_id': datastore_id}
    with _facade.reader.connection.using(context) as connection:
        return [_version_of(row, 0) for row in
                connection.execute(statement, params)]


# --- configuration parameters ---------------------------------------------

@functools.lru_cache(maxsize=None)
def _parameters_statement():
    return sa.select(*_columns(Parameter, '')).where(
        Parameter.datastore_version_id == sa.bindparam('version_id')
    ).order_by(Parameter.name)


def config_parameters(context, version_id: str) -> list[dict]:
    """What ``db_api.config_parameter_list`` returns, without ORM rows."""
    keys = _keys(Parameter)
    with _facade.reader.connection.using(context) as connection:
        return [dict(zip(keys, row)) for row in connection.execute(
            _parameters_statement(), {'version_id': version_id})]


# --- pages -------------------------------------------------------------------

def _after_marker(model, newest_first: bool):
    """The keyset condition "after the marker row" on (created, id)."""
    created, row_id = sa.bindparam('m_created'), sa.bindparam('m_id')
    if newest_first:
        return sa.or_(model.created < created,
                      sa.and_(model.created == created, model.id < row_id))
    return sa.or_(model.created > created,
                  sa.and_(model.created == created, model.id > row_id))


def _order(model, newest_first: bool) -> tuple:
    if newest_first:
        return model.created.desc(), model.id.desc()
    return model.created, model.id


def _page(connection, statement, anchor_statement, params: dict,
          marker: str | None, not_found) -> list:
    """Run a page's statement; with a marker, first find the marker row
    among the same rows (``not_found(marker)`` is raised without one)."""
    if marker:
        anchor = connection.execute(anchor_statement,
                                    dict(params, marker=marker)).first()
        if anchor is None:
            raise not_found(marker)
        params = dict(params, m_created=anchor.created, m_id=anchor.id)
    return connection.execute(statement, params).all()


# --- instances ---------------------------------------------------------------

def _instance_filters(by_project: bool, include_clustered: bool) -> list:
    conditions = [Instance.deleted.is_(False)]
    if by_project:
        conditions.append(Instance.tenant_id == sa.bindparam('project_id'))
    if not include_clustered:
        conditions.append(Instance.cluster_id.is_(None))
    return conditions


@functools.lru_cache(maxsize=None)
def _instances_statements(by_project: bool, include_clustered: bool,
                          with_marker: bool) -> tuple:
    conditions = _instance_filters(by_project, include_clustered)
    anchor = sa.select(Instance.created, Instance.id).where(
        Instance.id == sa.bindparam('marker'), *conditions)
    if with_marker:
        conditions.append(_after_marker(Instance, newest_first=True))
    statement = sa.select(
        *_columns(Instance, 'i_'),
        ServiceStatus.status_description.label('s_status'),
        ServiceStatus.updated_at.label('s_updated'),
        ServiceStatus.last_sent.label('s_last_sent'),
        *_version_columns(),
    ).select_from(Instance).outerjoin(
        ServiceStatus, ServiceStatus.instance_id == Instance.id
    ).join(Version, Version.id == Instance.datastore_version_id).join(
        Datastore, Datastore.id == Version.datastore_id
    ).where(*conditions).order_by(
        *_order(Instance, newest_first=True)).limit(sa.bindparam('limit'))
    return statement, anchor


def instances_page(context, project_id: str | None, limit: int,
                   marker: str | None = None,
                   include_clustered: bool = False) -> list[dict]:
    """Non-deleted instances, newest first, ``limit`` after ``marker``
    (``project_id`` None: every project), each the dict
    ``db_api.instance_list`` gives with the service status fields of
    ``db_instances.list_with_status`` (none without a status row) and
    its ``datastore_version`` (as ``db_api.datastore_version_get``).

    :raises: InstanceNotFound for a marker that is not such an instance
    """
    statement, anchor = _instances_statements(
        project_id is not None, include_clustered, bool(marker))
    params = {'limit': limit}
    if project_id is not None:
        params['project_id'] = project_id
    with _facade.reader.connection.using(context) as connection:
        rows = _page(connection, statement, anchor, params, marker,
                     lambda id_: exception.InstanceNotFound(instance=id_))
    versions: dict[str, dict] = {}
    keys = _keys(Instance)
    status = len(keys)
    found = []
    for row in rows:
        data = dict(zip(keys, row))
        if row[status] is not None:
            data['service_status'] = row[status]
            data['service_status_updated'] = row[status + 1]
            data['last_sent'] = row[status + 2]
        version_id = data['datastore_version_id']
        if version_id not in versions:
            versions[version_id] = _version_of(row, status + 3)
        data['datastore_version'] = versions[version_id]
        found.append(data)
    return found


# --- configuration groups ----------------------------------------------------

@functools.lru_cache(maxsize=None)
def _configurations_statements(with_marker: bool) -> tuple:
    conditions = [Configuration.deleted.is_(False),
                  Configuration.tenant_id == sa.bindparam('project_id')]
    anchor = sa.select(Configuration.created, Configuration.id).where(
        Configuration.id == sa.bindparam('marker'), *conditions)
    if with_marker:
        conditions.append(_after_marker(Configuration, newest_first=False))
    statement = sa.select(
        *_columns(Configuration, 'c_'), *_version_columns()
    ).select_from(Configuration).join(
        Version, Version.id == Configuration.datastore_version_id).join(
        Datastore, Datastore.id == Version.datastore_id
    ).where(*conditions).order_by(
        *_order(Configuration, newest_first=False)).limit(
        sa.bindparam('limit'))
    return statement, anchor


def configurations_page(context, project_id: str, limit: int,
                        marker: str | None = None) -> list[dict]:
    """Up to ``limit`` live groups of the project after ``marker``,
    oldest first, without their values (as
    ``db_configurations.list_page``), each with its
    ``datastore_version``.

    :raises: ConfigurationNotFound for a marker that is not such a group
    """
    statement, anchor = _configurations_statements(bool(marker))
    with _facade.reader.connection.using(context) as connection:
        rows = _page(connection, statement, anchor,
                     {'limit': limit, 'project_id': project_id}, marker,
                     lambda id_: exception.ConfigurationNotFound(id=id_))
    keys = _keys(Configuration)
    versions: dict[str, dict] = {}
    found = []
    for row in rows:
        data = dict(zip(keys, row))
        version_id = data['datastore_version_id']
        if version_id not in versions:
            versions[version_id] = _version_of(row, len(keys))
        data['datastore_version'] = versions[version_id]
        found.append(data)
    return found
