"""The state of the taskmanager's flows: taskflow's logbooks, flowdetails
and atomdetails tables, which its SQLAlchemy persistence backend reads
and writes.

taskflow ships its own alembic migrations for these tables, but they
keep their revision in the default ``alembic_version`` table, which is
ours: so this revision creates the tables, from taskflow's own table
definitions (the schema it queries), and taskflow's migrations are never
run against the control database.

Revision ID: 2026_2_expand05
Revises: 2026_2_expand04
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa
from taskflow.persistence.backends.sqlalchemy import tables

revision = '2026_2_expand05'
down_revision = '2026_2_expand04'
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata = sa.MetaData()
    for table in tables.fetch(metadata):
        # Each primary key is also marked unique there: a second index
        # on MySQL only, which nothing needs.
        for column in table.columns:
            column.unique = False
        for constraint in [c for c in table.constraints
                           if isinstance(c, sa.UniqueConstraint)]:
            table.constraints.discard(constraint)
    metadata.create_all(op.get_bind(), checkfirst=True)
