"""Unique module and configuration group names: a ``unique_key`` column
(sha256 of the identity while the row is live, NULL once deleted) with a
unique index, and an index for the per-tenant module list.

Live duplicates made before this revision keep the oldest row's key; each
later one gets a key that includes its id, so it stays reachable and
can be renamed or deleted.

Revision ID: 2026_2_expand04
Revises: 2026_2_expand03
Create Date: 2026-12-03
"""
import hashlib
import json

from alembic import op
import sqlalchemy as sa

revision = '2026_2_expand04'
down_revision = '2026_2_expand03'
branch_labels = None
depends_on = None

#: The identity of a row, as trove_clone.db.modules/configurations hash it
#: (frozen here: a migration never imports the code it migrates for).
_IDENTITY = {
    'modules': ('tenant_id', 'name', 'type', 'datastore_id',
                'datastore_version_id'),
    'configurations': ('tenant_id', 'name'),
}


def _key(parts: list) -> str:
    return hashlib.sha256(json.dumps(parts).encode('utf-8')).hexdigest()


def _backfill(table_name: str) -> None:
    columns = _IDENTITY[table_name]
    table = sa.table(table_name, sa.column('id'), sa.column('created'),
                     sa.column('deleted'), sa.column('unique_key'),
                     *[sa.column(name) for name in columns])
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(table.c.id, *[table.c[name] for name in columns])
        .where(table.c.deleted == sa.false())
        .order_by(table.c.created, table.c.id)).fetchall()
    seen = set()
    for row in rows:
        key = _key([row._mapping[name] for name in columns])
        if key in seen:
            key = _key([row._mapping[name] for name in columns] + [row.id])
        seen.add(key)
        connection.execute(table.update().where(table.c.id == row.id)
                           .values(unique_key=key))


def upgrade() -> None:
    for table_name in ('modules', 'configurations'):
        op.add_column(table_name, sa.Column('unique_key',
                                            sa.String(length=64),
                                            nullable=True))
        _backfill(table_name)
        op.create_index('uq_%s_unique_key' % table_name, table_name,
                        ['unique_key'], unique=True)
    op.create_index('ix_modules_tenant_deleted', 'modules',
                    ['tenant_id', 'deleted'])
