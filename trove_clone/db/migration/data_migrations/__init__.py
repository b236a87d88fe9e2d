"""Data migrations, run by ``trove-manage db_migrate``.

Between ``db_expand`` (new columns and tables appear) and ``db_contract``
(old ones go), rows are moved from the old shape to the new one while old
and new services run side by side. Each migration module in
``MIGRATIONS`` provides:

* ``REVISION``: the expand revision that made the new shape;
* ``has_migrations(connection) -> bool``: rows are left to move;
* ``migrate(connection) -> int``: move them, return how many moved.

Migrations must be idempotent: ``db_migrate`` may run several times.
"""
import importlib
from types import ModuleType

#: Module names (in this package), in the order they must run.
MIGRATIONS: list[str] = []


def load(names: list[str] | None = None) -> list[ModuleType]:
    """The migration modules, in order."""
    return [importlib.import_module('%s.%s' % (__name__, name))
            for name in (MIGRATIONS if names is None else names)]
