"""Backups and backup strategies (Trove's ``backups`` and
``backup_strategy`` tables, with the guest's metadata, a failure's reason
and the time of the last report beside Trove's columns).

Revision ID: 2026_2_expand06
Revises: 2026_2_expand05
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand06'
down_revision = '2026_2_expand05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'backups',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('description', sa.String(length=512), nullable=True),
        sa.Column('location', sa.String(length=1024), nullable=True),
        sa.Column('backup_type', sa.String(length=32), nullable=True),
        sa.Column('size', sa.Float(), nullable=True),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.Column('state', sa.String(length=32), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=True),
        sa.Column('checksum', sa.String(length=64), nullable=True),
        sa.Column('backup_timestamp', sa.Integer(), nullable=True),
        sa.Column('parent_id', sa.String(length=36), nullable=True),
        sa.Column('datastore_version_id', sa.String(length=36),
                  nullable=True),
        sa.Column('storage_driver', sa.String(length=255), nullable=True),
        sa.Column('backup_metadata', sa.Text(), nullable=True),
        sa.Column('fail_reason', sa.Text(), nullable=True),
        sa.Column('last_sent', sa.Float(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backups')))
    op.create_index('ix_backups_tenant_deleted', 'backups',
                    ['tenant_id', 'deleted'])
    op.create_index('ix_backups_instance_id', 'backups', ['instance_id'])
    op.create_index('ix_backups_parent_id', 'backups', ['parent_id'])
    op.create_table(
        'backup_strategy',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('tenant_id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('backend', sa.String(length=255), nullable=False),
        sa.Column('swift_container', sa.String(length=255), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_strategy')),
        sa.UniqueConstraint('tenant_id', 'instance_id',
                            name='uq_backup_strategy_tenant_instance'))
