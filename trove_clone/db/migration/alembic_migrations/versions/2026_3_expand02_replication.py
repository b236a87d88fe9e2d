"""Replication: the replication status a guest reports with its
heartbeat (role, state, lag), kept beside its service status so that
``instance show`` of a replica shows its lag without asking the guest.

Revision ID: 2026_3_replication
Revises: 2026_3_clusters
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_3_replication'
down_revision = '2026_3_clusters'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('service_statuses',
                  sa.Column('replication', sa.Text(), nullable=True))
