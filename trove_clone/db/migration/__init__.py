"""Schema migrations of the control database: alembic, expand and contract.

Two branches make zero-downtime upgrades possible, as Glance does:

* ``expand`` revisions only add (tables, nullable columns, indexes), so old
  services keep working;
* data migrations (``data_migrations``) move rows to the new shape;
* ``contract`` revisions remove what the new code no longer uses, once
  every service runs the new code.

``sync`` runs the three phases; the database version is the pair of
branch heads. Downgrades are not supported: restore a backup instead.
"""
import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from alembic import script as alembic_script
import sqlalchemy as sa

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db.migration import data_migrations

EXPAND = 'expand'
CONTRACT = 'contract'
BRANCHES = (EXPAND, CONTRACT)
_SCRIPT_LOCATION = os.path.join(os.path.dirname(__file__),
                                'alembic_migrations')


def _config(connection=None) -> alembic_config.Config:
    config = alembic_config.Config()
    config.set_main_option('script_location', _SCRIPT_LOCATION)
    if connection is not None:
        config.attributes['connection'] = connection
    return config


def _scripts() -> alembic_script.ScriptDirectory:
    return alembic_script.ScriptDirectory.from_config(_config())


def _engine(engine: sa.engine.Engine | None) -> sa.engine.Engine:
    return engine if engine is not None else db_api.get_engine()


def latest_heads() -> dict[str, str]:
    """The newest revision of each branch in this code."""
    scripts = _scripts()
    heads = {}
    for branch in BRANCHES:
        heads[branch] = scripts.get_revision('%s@head' % branch).revision
    return heads


def branch_of(revision: str) -> str:
    """``expand`` or ``contract``: the branch a revision belongs to."""
    scripts = _scripts()
    for branch in BRANCHES:
        for script in scripts.iterate_revisions('%s@head' % branch, 'base'):
            if script.revision == revision:
                return branch
    raise exception.DatabaseMigrationError(
        reason='unknown revision %s' % revision)


def current_heads(engine: sa.engine.Engine | None = None
                  ) -> dict[str, str | None]:
    """The revision each branch of the database is at (None: not yet)."""
    with _engine(engine).connect() as connection:
        context = alembic_migration.MigrationContext.configure(connection)
        revisions = context.get_current_heads()
    heads: dict[str, str | None] = {branch: None for branch in BRANCHES}
    for revision in revisions:
        heads[branch_of(revision)] = revision
    if heads[EXPAND] is None and heads[CONTRACT] is not None:
        # A contract revision depends on an expand revision; alembic then
        # records only the contract one, the expand one being implied.
        heads[EXPAND] = _implied_expand(heads[CONTRACT])
    return heads


def _implied_expand(contract_revision: str) -> str | None:
    scripts = _scripts()
    needed = {script.revision for script in
              scripts.iterate_revisions(contract_revision, 'base')}
    for script in scripts.iterate_revisions('%s@head' % EXPAND, 'base'):
        if script.revision in needed:
            return script.revision
    return None


def version_string(engine: sa.engine.Engine | None = None) -> str | None:
    """``"<expand head>, <contract head>"``, or None when unmanaged."""
    heads = current_heads(engine)
    if not any(heads.values()):
        return None
    return '%s, %s' % (heads[EXPAND] or 'base', heads[CONTRACT] or 'base')


def _upgrade(target: str, engine: sa.engine.Engine | None) -> None:
    with _engine(engine).begin() as connection:
        alembic_command.upgrade(_config(connection), target)


def expand(engine: sa.engine.Engine | None = None) -> None:
    """Run every expand revision."""
    _upgrade('%s@head' % EXPAND, engine)


def pending_data_migrations(engine: sa.engine.Engine | None = None
                            ) -> list[str]:
    """Names of data migrations that still have rows to move."""
    applied = current_heads(engine)[EXPAND]
    if applied is None:
        return []
    reached = {script.revision for script in _scripts().iterate_revisions(
        applied, 'base')}
    pending = []
    with _engine(engine).connect() as connection:
        for module in data_migrations.load():
            if module.REVISION in reached and \
                    module.has_migrations(connection):
                pending.append(module.__name__.rsplit('.', 1)[-1])
    return pending


def migrate(engine: sa.engine.Engine | None = None,
            modules: list | None = None) -> int:
    """Run the data migrations whose expand revision is applied.

    :returns: the number of rows migrated
    """
    applied = current_heads(engine)[EXPAND]
    if applied is None:
        raise exception.DatabaseMigrationError(
            reason='the database is not expanded yet: run db_expand first')
    reached = {script.revision for script in _scripts().iterate_revisions(
        applied, 'base')}
    moved = 0
    modules = data_migrations.load() if modules is None else modules
    with _engine(engine).begin() as connection:
        for module in modules:
            if module.REVISION in reached and \
                    module.has_migrations(connection):
                moved += module.migrate(connection)
    return moved


def contract(engine: sa.engine.Engine | None = None) -> None:
    """Run every contract revision, once no data migration is pending."""
    pending = pending_data_migrations(engine)
    if pending:
        raise exception.DatabaseMigrationError(
            reason='data migrations %s are pending: run db_migrate first'
            % ', '.join(pending))
    _upgrade('%s@head' % CONTRACT, engine)


def upgrade(version: str, engine: sa.engine.Engine | None = None) -> None:
    """Upgrade to one revision (and what it depends on)."""
    try:
        branch_of(version)
    except exception.DatabaseMigrationError:
        if version not in ('heads', 'head'):
            raise
        sync(engine=engine)
        return
    _upgrade(version, engine)


def sync(version: str | None = None,
         engine: sa.engine.Engine | None = None) -> None:
    """Expand, migrate data, contract; or upgrade to ``version``."""
    if version:
        upgrade(version, engine)
        return
    expand(engine)
    migrate(engine)
    contract(engine)
