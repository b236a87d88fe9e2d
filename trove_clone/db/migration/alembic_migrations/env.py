"""Alembic environment of the control database.

The caller (trove_clone.db.migration) passes an open connection in
``config.attributes['connection']``; there is no alembic.ini.
"""
from alembic import context

from trove_clone.db import models

config = context.config


def run_migrations() -> None:
    connection = config.attributes['connection']
    context.configure(
        connection=connection,
        target_metadata=models.Base.metadata,
        render_as_batch=connection.dialect.name == 'sqlite',
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError('Offline (SQL script) migrations are not supported.')
run_migrations()
