"""Configuration groups and their values.

Revision ID: 2026_2_expand02
Revises: 2026_2_expand01
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand02'
down_revision = '2026_2_expand01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'configurations',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=256), nullable=True),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('datastore_version_id', sa.String(length=36),
                  nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['datastore_version_id'], ['datastore_versions.id'],
            name=op.f('fk_configurations_datastore_version_id_'
                      'datastore_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_configurations')))
    op.create_index('ix_configurations_tenant_deleted', 'configurations',
                    ['tenant_id', 'deleted'])
    op.create_table(
        'configuration_values',
        sa.Column('configuration_id', sa.String(length=36), nullable=False),
        sa.Column('configuration_key', sa.String(length=128),
                  nullable=False),
        sa.Column('configuration_value', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['configuration_id'], ['configurations.id'],
            name=op.f('fk_configuration_values_configuration_id_'
                      'configurations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('configuration_id', 'configuration_key',
                                name=op.f('pk_configuration_values')))
