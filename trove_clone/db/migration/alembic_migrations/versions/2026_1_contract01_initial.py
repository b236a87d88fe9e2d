"""Initial contract revision: nothing to remove yet.

Revision ID: 2026_1_contract01
Revises:
Create Date: 2026-11-22
"""

revision = '2026_1_contract01'
down_revision = None
branch_labels = ('contract',)
depends_on = '2026_1_expand01'


def upgrade() -> None:
    pass
