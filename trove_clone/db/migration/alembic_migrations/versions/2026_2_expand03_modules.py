"""Modules and the modules applied to instances.

Revision ID: 2026_2_expand03
Revises: 2026_2_expand02
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '2026_2_expand03'
down_revision = '2026_2_expand02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'modules',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('type', sa.String(length=255), nullable=False),
        sa.Column('contents', sa.Text().with_variant(
            mysql.MEDIUMTEXT(), 'mysql', 'mariadb'), nullable=False),
        sa.Column('description', sa.String(length=255), nullable=True),
        sa.Column('tenant_id', sa.String(length=64), nullable=True),
        sa.Column('datastore_id', sa.String(length=36), nullable=True),
        sa.Column('datastore_version_id', sa.String(length=36),
                  nullable=True),
        sa.Column('auto_apply', sa.Boolean(), nullable=False),
        sa.Column('visible', sa.Boolean(), nullable=False),
        sa.Column('live_update', sa.Boolean(), nullable=False),
        sa.Column('priority_apply', sa.Boolean(), nullable=False),
        sa.Column('apply_order', sa.Integer(), nullable=False),
        sa.Column('is_admin', sa.Boolean(), nullable=False),
        sa.Column('md5', sa.String(length=32), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_modules')))
    op.create_index('ix_modules_name_deleted', 'modules',
                    ['name', 'deleted'])
    op.create_table(
        'instance_modules',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('module_id', sa.String(length=36), nullable=False),
        sa.Column('md5', sa.String(length=32), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.Column('updated', sa.DateTime(), nullable=False),
        sa.Column('deleted', sa.Boolean(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['instance_id'], ['instances.id'],
            name=op.f('fk_instance_modules_instance_id_instances'),
            ondelete='CASCADE'),
        sa.ForeignKeyConstraint(
            ['module_id'], ['modules.id'],
            name=op.f('fk_instance_modules_module_id_modules'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instance_modules')))
    op.create_index('ix_instance_modules_instance_id', 'instance_modules',
                    ['instance_id'])
    op.create_index('ix_instance_modules_module_id', 'instance_modules',
                    ['module_id'])
