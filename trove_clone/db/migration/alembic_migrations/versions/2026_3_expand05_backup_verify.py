"""Restore drills: ``backups.verified_at``, ``verify_fault``,
``verify_instance_id`` and ``verify_started``.

Revision ID: 2026_3_bkverify
Revises: 2026_3_bksched
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_3_bkverify'
down_revision = '2026_3_bksched'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('backups', sa.Column('verified_at', sa.DateTime(),
                                       nullable=True))
    op.add_column('backups', sa.Column('verify_fault', sa.Text(),
                                       nullable=True))
    op.add_column('backups', sa.Column('verify_instance_id',
                                       sa.String(length=36), nullable=True))
    op.add_column('backups', sa.Column('verify_started', sa.DateTime(),
                                       nullable=True))
