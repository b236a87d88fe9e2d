"""Initial schema: datastores, versions, parameters, quotas, instances.

Revision ID: 2026_1_expand01
Revises:
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_1_expand01'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade() -> None:
    op.create_table('datastores',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('default_version_id', sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_datastores')),
        sa.UniqueConstraint('name', name=op.f('uq_datastores_name'))
    )
    op.create_table('quota_usages',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('resource', sa.String(length=64), nullable=False),
        sa.Column('in_use', sa.Integer(), nullable=False),
        sa.Column('reserved', sa.Integer(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quota_usages')),
        sa.UniqueConstraint('tenant_id', 'resource', name='uq_quota_usages_tenant_resource')
    )
    op.create_index(op.f('ix_quota_usages_tenant_id'), 'quota_usages', ['tenant_id'], unique=False)
    op.create_table('quotas',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('resource', sa.String(length=64), nullable=False),
        sa.Column('hard_limit', sa.Integer(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_quotas')),
        sa.UniqueConstraint('tenant_id', 'resource', name='uq_quotas_tenant_resource')
    )
    op.create_index(op.f('ix_quotas_tenant_id'), 'quotas', ['tenant_id'], unique=False)
    op.create_table('datastore_versions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('datastore_id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('version', sa.String(length=255), nullable=False),
        sa.Column('manager', sa.String(length=255), nullable=False),
        sa.Column('image_id', sa.String(length=36), nullable=True),
        sa.Column('image_tags', sa.String(length=255), nullable=True),
        sa.Column('packages', sa.String(length=511), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('registry_ext', sa.Text(), nullable=True),
        sa.Column('repl_strategy', sa.Text(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['datastore_id'], ['datastores.id'], name=op.f('fk_datastore_versions_datastore_id_datastores')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_datastore_versions')),
        sa.UniqueConstraint('datastore_id', 'name', 'version', name='uq_datastore_versions_ds_name_version')
    )
    op.create_index(op.f('ix_datastore_versions_datastore_id'), 'datastore_versions', ['datastore_id'], unique=False)
    op.create_table('reservations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('usage_id', sa.String(length=36), nullable=False),
        sa.Column('delta', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=36), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['usage_id'], ['quota_usages.id'], name=op.f('fk_reservations_usage_id_quota_usages'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations'))
    )
    op.create_index(op.f('ix_reservations_usage_id'), 'reservations', ['usage_id'], unique=False)
    op.create_table('datastore_configuration_parameters',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('datastore_version_id', sa.String(length=36), nullable=False),
        sa.Column('restart_required', sa.Boolean(), nullable=False),
        sa.Column('data_type', sa.String(length=32), nullable=False),
        sa.Column('min_size', sa.String(length=40), nullable=True),
        sa.Column('max_size', sa.String(length=40), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['datastore_version_id'], ['datastore_versions.id'], name=op.f('fk_datastore_configuration_parameters_datastore_version_id_datastore_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_datastore_configuration_parameters')),
        sa.UniqueConstraint('datastore_version_id', 'name', name='uq_ds_config_params_version_name')
    )
    op.create_index(op.f('ix_datastore_configuration_parameters_datastore_version_id'), 'datastore_configuration_parameters', ['datastore_version_id'], unique=False)
    op.create_table('datastore_version_metadata',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('datastore_version_id', sa.String(length=36), nullable=False),
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('value', sa.String(length=128), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['datastore_version_id'], ['datastore_versions.id'], name=op.f('fk_datastore_version_metadata_datastore_version_id_datastore_versions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_datastore_version_metadata')),
        sa.UniqueConstraint('datastore_version_id', 'key', 'value', name='uq_datastore_version_metadata')
    )
    op.create_index(op.f('ix_datastore_version_metadata_datastore_version_id'), 'datastore_version_metadata', ['datastore_version_id'], unique=False)
    op.create_table('instances',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('flavor_id', sa.String(length=255), nullable=True),
        sa.Column('volume_size', sa.Integer(), nullable=True),
        sa.Column('volume_type', sa.String(length=255), nullable=True),
        sa.Column('datastore_version_id', sa.String(length=36), nullable=False),
        sa.Column('server_id', sa.String(length=64), nullable=True),
        sa.Column('volume_id', sa.String(length=64), nullable=True),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('task_description', sa.String(length=255), nullable=True),
        sa.Column('task_start_time', sa.DateTime(), nullable=True),
        sa.Column('hostname', sa.String(length=255), nullable=True),
        sa.Column('region_id', sa.String(length=255), nullable=True),
        sa.Column('availability_zone', sa.String(length=255), nullable=True),
        sa.Column('configuration_id', sa.String(length=36), nullable=True),
        sa.Column('slave_of_id', sa.String(length=36), nullable=True),
        sa.Column('cluster_id', sa.String(length=36), nullable=True),
        sa.Column('shard_id', sa.String(length=36), nullable=True),
        sa.Column('type', sa.String(length=64), nullable=True),
        sa.Column('encrypted_key', sa.String(length=255), nullable=True),
        sa.Column('locality', sa.String(length=64), nullable=True),
        sa.Column('access', sa.Text(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['datastore_version_id'], ['datastore_versions.id'], name=op.f('fk_instances_datastore_version_id_datastore_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instances'))
    )
    op.create_index(op.f('ix_instances_datastore_version_id'), 'instances', ['datastore_version_id'], unique=False)
    op.create_index('ix_instances_tenant_deleted', 'instances', ['tenant_id', 'deleted'], unique=False)
    op.create_table('instance_faults',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('message', sa.String(length=255), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_instance_faults_instance_id_instances'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_faults'))
    )
    op.create_index(op.f('ix_instance_faults_instance_id'), 'instance_faults', ['instance_id'], unique=False)
    op.create_table('service_statuses',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('status_id', sa.Integer(), nullable=False),
        sa.Column('status_description', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instance_id'], ['instances.id'], name=op.f('fk_service_statuses_instance_id_instances'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_service_statuses')),
        sa.UniqueConstraint('instance_id', name=op.f('uq_service_statuses_instance_id'))
    )
