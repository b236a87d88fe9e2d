"""Replication: the replication status a guest reports with its
heartbeat (role, state, lag), kept beside its service status so that
``instance show`` of a replica shows its lag without asking the guest.

Revision ID: 2026_3_expand01_replication
Revises: 2026_2_expand06
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_3_expand01_replication'
down_revision = '2026_2_expand06'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('service_statuses',
                  sa.Column('replication', sa.Text(), nullable=True))
