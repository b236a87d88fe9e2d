"""Point-in-time recovery: the moment up to which an instance's shipped
logs reach (``instances.restorable_until``).

Revision ID: 2026_3_pitr
Revises: 2026_3_replication
Create Date: 2026-12-07
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_3_pitr'
down_revision = '2026_3_replication'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('instances', sa.Column('restorable_until', sa.DateTime(),
                                         nullable=True))
