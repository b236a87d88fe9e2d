"""Instances end to end: the server status, heartbeat ordering, root
history.

Revision ID: 2026_2_expand01
Revises: 2026_1_expand02
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand01'
down_revision = '2026_1_expand02'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('instances', sa.Column('server_status',
                                         sa.String(length=64),
                                         nullable=True))
    op.add_column('instances', sa.Column('addresses', sa.Text(),
                                         nullable=True))
    op.add_column('service_statuses', sa.Column('last_sent', sa.Float(),
                                                nullable=True))
    op.create_table(
        'root_enabled_history',
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('user', sa.String(length=255), nullable=False),
        sa.Column('created', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['instance_id'], ['instances.id'],
            name=op.f('fk_root_enabled_history_instance_id_instances'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instance_id',
                                name=op.f('pk_root_enabled_history')))
