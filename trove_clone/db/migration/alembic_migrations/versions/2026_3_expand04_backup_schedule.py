"""Scheduled backups: an instance's schedule and its next run
(``instances.backup_schedule``, ``instances.backup_next_run``).

Revision ID: 2026_3_bksched
Revises: 2026_3_pitr
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_3_bksched'
down_revision = '2026_3_pitr'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('instances', sa.Column('backup_schedule', sa.Text(),
                                         nullable=True))
    op.add_column('instances', sa.Column('backup_next_run', sa.DateTime(),
                                         nullable=True))
    op.create_index('ix_instances_backup_next_run', 'instances',
                    ['backup_next_run'])
