"""SQLAlchemy models of the control database: the single source of truth.

Alembic migrations under ``db/migration`` must produce exactly this schema;
a test compares the two on SQLite, MariaDB and PostgreSQL.
"""
import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy import orm
from taskflow.persistence.backends.sqlalchemy import tables as taskflow_tables


def utcnow() -> datetime.datetime:
    """Naive UTC timestamps, as every supported backend stores them."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


NAMING_CONVENTION = {
    'ix': 'ix_%(table_name)s_%(column_0_N_name)s',
    'uq': 'uq_%(table_name)s_%(column_0_N_name)s',
    'fk': 'fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s',
    'pk': 'pk_%(table_name)s',
}


class Base(orm.DeclarativeBase):
    """Declarative base; rows convert to plain dicts for views and RPC.

    Every constraint and index has a predictable name, so that contract
    migrations can drop them by name on every backend.
    """

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

    def to_dict(self) -> dict:
        return {column.key: getattr(self, column.key)
                for column in sa.inspect(self).mapper.column_attrs}


ID = sa.String(36)


class SoftDeleted:
    """Created and updated times, and a deleted flag with its time: rows
    of these tables are marked deleted, never removed, as in Trove."""

    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)
    updated = sa.Column(sa.DateTime(), nullable=False, default=utcnow,
                        onupdate=utcnow)
    deleted = sa.Column(sa.Boolean(), nullable=False, default=False)
    deleted_at = sa.Column(sa.DateTime(), nullable=True)


class Datastore(Base):
    __tablename__ = 'datastores'

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(255), nullable=False, unique=True)
    default_version_id = sa.Column(ID, nullable=True)


class DatastoreVersion(Base):
    __tablename__ = 'datastore_versions'
    __table_args__ = (
        sa.UniqueConstraint('datastore_id', 'name', 'version',
                            name='uq_datastore_versions_ds_name_version'),
    )

    id = sa.Column(ID, primary_key=True)
    datastore_id = sa.Column(ID, sa.ForeignKey('datastores.id'),
                             nullable=False, index=True)
    name = sa.Column(sa.String(255), nullable=False)
    #: The version number (Trove's ``version`` column), e.g. "5.7.29".
    version = sa.Column(sa.String(255), nullable=False)
    manager = sa.Column(sa.String(255), nullable=False)
    image_id = sa.Column(ID, nullable=True)
    #: Comma-separated Glance tags; the image is the newest one with all.
    image_tags = sa.Column(sa.String(255), nullable=True)
    packages = sa.Column(sa.String(511), nullable=True)
    active = sa.Column(sa.Boolean(), nullable=False, default=True)
    registry_ext = sa.Column(sa.Text(), nullable=True)
    repl_strategy = sa.Column(sa.Text(), nullable=True)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)
    updated = sa.Column(sa.DateTime(), nullable=False, default=utcnow,
                        onupdate=utcnow)


class DatastoreVersionMetadata(Base):
    """Flavor and volume-type restrictions of a datastore version."""

    __tablename__ = 'datastore_version_metadata'
    __table_args__ = (
        sa.UniqueConstraint('datastore_version_id', 'key', 'value',
                            name='uq_datastore_version_metadata'),
    )

    id = sa.Column(ID, primary_key=True)
    datastore_version_id = sa.Column(ID, sa.ForeignKey(
        'datastore_versions.id', ondelete='CASCADE'), nullable=False,
        index=True)
    #: "flavor" or "volume_type".
    key = sa.Column(sa.String(128), nullable=False)
    value = sa.Column(sa.String(128), nullable=False)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)


class DatastoreConfigurationParameter(Base):
    """A validation rule for one configuration parameter of a version.

    ``min_size``/``max_size`` are kept as text: MySQL's bounds reach
    18446744073709551615, beyond SQLite's 64-bit signed integers.
    """

    __tablename__ = 'datastore_configuration_parameters'
    __table_args__ = (
        sa.UniqueConstraint('datastore_version_id', 'name',
                            name='uq_ds_config_params_version_name'),
    )

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(128), nullable=False)
    datastore_version_id = sa.Column(ID, sa.ForeignKey(
        'datastore_versions.id', ondelete='CASCADE'), nullable=False,
        index=True)
    restart_required = sa.Column(sa.Boolean(), nullable=False, default=False)
    data_type = sa.Column(sa.String(32), nullable=False)
    min_size = sa.Column(sa.String(40), nullable=True)
    max_size = sa.Column(sa.String(40), nullable=True)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)


class Flavor(Base):
    """Flavors of the local backend created with trove-manage."""

    __tablename__ = 'flavors'

    id = sa.Column(sa.String(255), primary_key=True)
    name = sa.Column(sa.String(255), nullable=False, unique=True)
    ram = sa.Column(sa.Integer(), nullable=False)
    vcpus = sa.Column(sa.Integer(), nullable=False)
    disk = sa.Column(sa.Integer(), nullable=False)
    ephemeral = sa.Column(sa.Integer(), nullable=False, default=0)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)


class Quota(Base):
    __tablename__ = 'quotas'
    __table_args__ = (
        sa.UniqueConstraint('tenant_id', 'resource',
                            name='uq_quotas_tenant_resource'),
    )

    id = sa.Column(ID, primary_key=True)
    tenant_id = sa.Column(sa.String(64), nullable=False, index=True)
    resource = sa.Column(sa.String(64), nullable=False)
    hard_limit = sa.Column(sa.Integer(), nullable=False)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)
    updated = sa.Column(sa.DateTime(), nullable=False, default=utcnow,
                        onupdate=utcnow)


class QuotaUsage(Base):
    __tablename__ = 'quota_usages'
    __table_args__ = (
        sa.UniqueConstraint('tenant_id', 'resource',
                            name='uq_quota_usages_tenant_resource'),
    )

    id = sa.Column(ID, primary_key=True)
    tenant_id = sa.Column(sa.String(64), nullable=False, index=True)
    resource = sa.Column(sa.String(64), nullable=False)
    in_use = sa.Column(sa.Integer(), nullable=False, default=0)
    reserved = sa.Column(sa.Integer(), nullable=False, default=0)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)
    updated = sa.Column(sa.DateTime(), nullable=False, default=utcnow,
                        onupdate=utcnow)


class Reservation(Base):
    __tablename__ = 'reservations'

    id = sa.Column(ID, primary_key=True)
    usage_id = sa.Column(ID, sa.ForeignKey('quota_usages.id',
                                           ondelete='CASCADE'),
                         nullable=False, index=True)
    delta = sa.Column(sa.Integer(), nullable=False)
    #: "Reserved", "Committed" or "Rolled Back".
    status = sa.Column(sa.String(36), nullable=False)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)
    updated = sa.Column(sa.DateTime(), nullable=False, default=utcnow,
                        onupdate=utcnow)


class Instance(SoftDeleted, Base):
    __tablename__ = 'instances'
    __table_args__ = (
        sa.Index('ix_instances_tenant_deleted', 'tenant_id', 'deleted'),
    )

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    tenant_id = sa.Column(sa.String(64), nullable=False)
    flavor_id = sa.Column(sa.String(255), nullable=True)
    volume_size = sa.Column(sa.Integer(), nullable=True)
    volume_type = sa.Column(sa.String(255), nullable=True)
    datastore_version_id = sa.Column(ID, sa.ForeignKey(
        'datastore_versions.id'), nullable=False, index=True)
    server_id = sa.Column(sa.String(64), nullable=True)
    volume_id = sa.Column(sa.String(64), nullable=True)
    task_id = sa.Column(sa.Integer(), nullable=False, default=1)
    task_description = sa.Column(sa.String(255), nullable=True)
    task_start_time = sa.Column(sa.DateTime(), nullable=True)
    hostname = sa.Column(sa.String(255), nullable=True)
    region_id = sa.Column(sa.String(255), nullable=True)
    availability_zone = sa.Column(sa.String(255), nullable=True)
    configuration_id = sa.Column(ID, nullable=True)
    slave_of_id = sa.Column(ID, nullable=True)
    cluster_id = sa.Column(ID, nullable=True)
    shard_id = sa.Column(ID, nullable=True)
    type = sa.Column(sa.String(64), nullable=True)
    encrypted_key = sa.Column(sa.String(255), nullable=True)
    #: The compute server's status as the taskmanager last saw it.
    server_status = sa.Column(sa.String(64), nullable=True)
    #: The server's addresses, JSON ``[{"address", "type"}]``.
    addresses = sa.Column(sa.Text(), nullable=True)
    locality = sa.Column(sa.String(64), nullable=True)
    access = sa.Column(sa.Text(), nullable=True)
    #: Point-in-time recovery: every commit up to this moment is in the
    #: logs the guest shipped (its heartbeat's ``pitr_until``).
    restorable_until = sa.Column(sa.DateTime(), nullable=True)
    #: Scheduled backups, JSON ``{"cron": "0 3 * * *", "keep": 7}``.
    backup_schedule = sa.Column(sa.Text(), nullable=True)
    #: When the schedule runs next (claimed by moving it on).
    backup_next_run = sa.Column(sa.DateTime(), nullable=True, index=True)


class ServiceStatus(Base):
    """The database service status a guest reports for its instance."""

    __tablename__ = 'service_statuses'

    id = sa.Column(ID, primary_key=True)
    instance_id = sa.Column(ID, sa.ForeignKey('instances.id',
                                              ondelete='CASCADE'),
                            nullable=False, unique=True)
    status_id = sa.Column(sa.Integer(), nullable=False)
    status_description = sa.Column(sa.String(64), nullable=False)
    updated_at = sa.Column(sa.DateTime(), nullable=False, default=utcnow,
                           onupdate=utcnow)
    #: When the guest sent the heartbeat recorded here (its clock, epoch
    #: seconds): older heartbeats are dropped.
    last_sent = sa.Column(sa.Float(), nullable=True)
    #: The replication status of the last heartbeat (JSON; None when the
    #: instance takes no part in replication).
    replication = sa.Column(sa.Text(), nullable=True)


class InstanceFault(Base):
    __tablename__ = 'instance_faults'

    id = sa.Column(ID, primary_key=True)
    instance_id = sa.Column(ID, sa.ForeignKey('instances.id',
                                              ondelete='CASCADE'),
                            nullable=False, index=True)
    message = sa.Column(sa.String(255), nullable=False)
    details = sa.Column(sa.Text(), nullable=False)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)


class RootEnabledHistory(Base):
    """Who first enabled root on an instance, and when."""

    __tablename__ = 'root_enabled_history'

    instance_id = sa.Column(ID, sa.ForeignKey('instances.id',
                                              ondelete='CASCADE'),
                            primary_key=True)
    user = sa.Column(sa.String(255), nullable=False)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)


class Configuration(SoftDeleted, Base):
    """A configuration group: values for one datastore version."""

    __tablename__ = 'configurations'
    __table_args__ = (
        sa.Index('ix_configurations_tenant_deleted', 'tenant_id',
                 'deleted'),
        sa.Index('uq_configurations_unique_key', 'unique_key', unique=True),
    )

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(64), nullable=False)
    description = sa.Column(sa.String(256), nullable=True)
    tenant_id = sa.Column(sa.String(64), nullable=False)
    datastore_version_id = sa.Column(ID, sa.ForeignKey(
        'datastore_versions.id'), nullable=False)
    #: sha256 of the tenant and name while the group is live, NULL once
    #: deleted: its unique index keeps names unique per tenant.
    unique_key = sa.Column(sa.String(64), nullable=True)


class ConfigurationValue(Base):
    """One value of a configuration group, kept as JSON text so that its
    type (integer, string, boolean, float) comes back as it was given."""

    __tablename__ = 'configuration_values'

    configuration_id = sa.Column(ID, sa.ForeignKey(
        'configurations.id', ondelete='CASCADE'), primary_key=True)
    configuration_key = sa.Column(sa.String(128), primary_key=True)
    configuration_value = sa.Column(sa.Text(), nullable=False)


#: Module contents (encrypted, base64): up to 16 MiB on MySQL/MariaDB,
#: whose plain TEXT stops at 64 KiB.
MODULE_CONTENTS = sa.Text().with_variant(
    mysql.MEDIUMTEXT(), 'mysql', 'mariadb')


class Module(SoftDeleted, Base):
    """A module: a payload a guest driver of its type applies."""

    __tablename__ = 'modules'
    __table_args__ = (
        sa.Index('ix_modules_name_deleted', 'name', 'deleted'),
        sa.Index('ix_modules_tenant_deleted', 'tenant_id', 'deleted'),
        sa.Index('uq_modules_unique_key', 'unique_key', unique=True),
    )

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    type = sa.Column(sa.String(255), nullable=False)
    #: Encrypted with the deployment's module key.
    contents = sa.Column(MODULE_CONTENTS, nullable=False)
    description = sa.Column(sa.String(255), nullable=True)
    #: NULL: the module is for all tenants.
    tenant_id = sa.Column(sa.String(64), nullable=True)
    #: NULL: for every datastore (version).
    datastore_id = sa.Column(ID, nullable=True)
    datastore_version_id = sa.Column(ID, nullable=True)
    auto_apply = sa.Column(sa.Boolean(), nullable=False, default=False)
    visible = sa.Column(sa.Boolean(), nullable=False, default=True)
    live_update = sa.Column(sa.Boolean(), nullable=False, default=False)
    priority_apply = sa.Column(sa.Boolean(), nullable=False, default=False)
    apply_order = sa.Column(sa.Integer(), nullable=False, default=5)
    is_admin = sa.Column(sa.Boolean(), nullable=False, default=False)
    #: MD5 of the contents as the client sent them.
    md5 = sa.Column(sa.String(32), nullable=False)
    #: sha256 of Trove's identity of a module (tenant, name, type,
    #: datastore, version) while it is live, NULL once deleted: its unique
    #: index keeps that identity unique.
    unique_key = sa.Column(sa.String(64), nullable=True)


class InstanceModule(SoftDeleted, Base):
    """A module applied to an instance, with the md5 applied."""

    __tablename__ = 'instance_modules'

    id = sa.Column(ID, primary_key=True)
    instance_id = sa.Column(ID, sa.ForeignKey('instances.id',
                                              ondelete='CASCADE'),
                            nullable=False, index=True)
    module_id = sa.Column(ID, sa.ForeignKey('modules.id',
                                            ondelete='CASCADE'),
                          nullable=False, index=True)
    md5 = sa.Column(sa.String(32), nullable=False)


class Backup(SoftDeleted, Base):
    """A backup of an instance: Trove's columns, plus what the guest
    reports beside them (the engine's metadata an incremental child
    needs, the reason of a failure) and when it last reported."""

    __tablename__ = 'backups'
    __table_args__ = (
        sa.Index('ix_backups_tenant_deleted', 'tenant_id', 'deleted'),
        sa.Index('ix_backups_instance_id', 'instance_id'),
        sa.Index('ix_backups_parent_id', 'parent_id'),
    )

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    description = sa.Column(sa.String(512), nullable=True)
    #: Where the storage driver keeps the object (the API's locationRef).
    location = sa.Column(sa.String(1024), nullable=True)
    #: The engine's name of the stream ("mariabackup", "pg_basebackup"...).
    backup_type = sa.Column(sa.String(32), nullable=True)
    #: In GB, as the guest reports it.
    size = sa.Column(sa.Float(), nullable=True)
    tenant_id = sa.Column(sa.String(36), nullable=False)
    #: NEW, BUILDING, SAVING, COMPLETED, FAILED, DELETE_FAILED.
    state = sa.Column(sa.String(32), nullable=False)
    #: Kept when the instance is deleted: its backups stay.
    instance_id = sa.Column(ID, nullable=True)
    checksum = sa.Column(sa.String(64), nullable=True)
    backup_timestamp = sa.Column(sa.Integer(), nullable=True)
    parent_id = sa.Column(ID, nullable=True)
    datastore_version_id = sa.Column(ID, nullable=True)
    #: The storage strategy it was written with ("local" or "swift").
    storage_driver = sa.Column(sa.String(255), nullable=True)
    #: JSON of the engine's metadata (LSN, WAL position, format).
    backup_metadata = sa.Column(sa.Text(), nullable=True)
    #: Why a backup failed, one line for the user.
    fail_reason = sa.Column(sa.Text(), nullable=True)
    #: When the guest sent the report recorded last (its clock).
    last_sent = sa.Column(sa.Float(), nullable=True)
    #: Restore drills: when one last succeeded, why the last failed, and
    #: the throwaway instance of the one running.
    verified_at = sa.Column(sa.DateTime(), nullable=True)
    verify_fault = sa.Column(sa.Text(), nullable=True)
    verify_instance_id = sa.Column(ID, nullable=True)
    verify_started = sa.Column(sa.DateTime(), nullable=True)


class BackupStrategy(Base):
    """The container backups of a project (``instance_id`` '') or of one
    of its instances go to."""

    __tablename__ = 'backup_strategy'
    __table_args__ = (
        sa.UniqueConstraint('tenant_id', 'instance_id',
                            name='uq_backup_strategy_tenant_instance'),
    )

    id = sa.Column(ID, primary_key=True)
    tenant_id = sa.Column(sa.String(36), nullable=False)
    instance_id = sa.Column(sa.String(36), nullable=False, default='')
    backend = sa.Column(sa.String(255), nullable=False)
    swift_container = sa.Column(sa.String(255), nullable=True)
    created = sa.Column(sa.DateTime(), nullable=False, default=utcnow)


#: The state of the taskmanager's flows (logbooks, flowdetails,
#: atomdetails), as taskflow's SQLAlchemy persistence defines and queries
#: them; migration 2026_2_expand05 creates them.
FLOW_TABLES = taskflow_tables.fetch(Base.metadata)
# taskflow marks each primary key unique as well; no database keeps that
# as a constraint of its own, so the model does not either (migrations
# and models compare equal).
for _table in FLOW_TABLES:
    for _column in _table.columns:
        _column.unique = False
    for _constraint in [c for c in _table.constraints
                        if isinstance(c, sa.UniqueConstraint)]:
        _table.constraints.discard(_constraint)


class Cluster(SoftDeleted, Base):
    """A cluster: its members are instances whose ``cluster_id`` is its
    id (their ``type`` is the member's role)."""

    __tablename__ = 'clusters'
    __table_args__ = (
        sa.Index('ix_clusters_tenant_deleted', 'tenant_id', 'deleted'),
    )

    id = sa.Column(ID, primary_key=True)
    name = sa.Column(sa.String(255), nullable=False)
    tenant_id = sa.Column(sa.String(64), nullable=False)
    datastore_version_id = sa.Column(ID, sa.ForeignKey(
        'datastore_versions.id'), nullable=False, index=True)
    task_id = sa.Column(sa.Integer(), nullable=False)
    #: JSON ``{"locality": ..., "extended_properties": ...}``.
    properties = sa.Column(sa.Text(), nullable=True)
    configuration_id = sa.Column(ID, nullable=True)
