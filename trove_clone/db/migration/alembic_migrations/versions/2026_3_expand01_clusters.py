"""Clusters (Trove's ``clusters`` table; the members are instances whose
``cluster_id`` and ``type`` columns exist since the initial schema).

Revision ID: 2026_3_clusters
Revises: 2026_2_expand06
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_3_clusters'
down_revision = '2026_2_expand06'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'clusters',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('datastore_version_id', sa.String(length=36),
                  nullable=False),
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('properties', sa.Text(), nullable=True),
        sa.Column('configuration_id', sa.String(length=36), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['datastore_version_id'], ['datastore_versions.id'],
            name=op.f('fk_clusters_datastore_version_id_datastore_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clusters')))
    op.create_index('ix_clusters_tenant_deleted', 'clusters',
                    ['tenant_id', 'deleted'])
    op.create_index(op.f('ix_clusters_datastore_version_id'), 'clusters',
                    ['datastore_version_id'])
