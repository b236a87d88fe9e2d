"""Flavors of the local backend, managed with trove-manage.

Revision ID: 2026_1_expand02
Revises: 2026_1_expand01
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_1_expand02'
down_revision = '2026_1_expand01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'flavors',
        sa.Column('id', sa.String(length=255), nullable=False),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('ram', sa.Integer(), nullable=False),
        sa.Column('vcpus', sa.Integer(), nullable=False),
        sa.Column('disk', sa.Integer(), nullable=False),
        sa.Column('ephemeral', sa.Integer(), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flavors')),
        sa.UniqueConstraint('name', name=op.f('uq_flavors_name')))
