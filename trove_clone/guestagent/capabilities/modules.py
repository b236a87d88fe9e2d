"""The modules capability of a datastore: running the statements of a
module of the ``sql`` type (:mod:`trove_clone.guestagent.modules.drivers.
sql`) on the engine.

The sql driver reads the module's contents (sections, directives) and
gives an engine's :class:`Statements` the lines of one section; the engine
says how they split into units (:meth:`Statements.split`: statements ended
by ``;`` by default; the descriptor's ``statement_noun`` names them) and
runs them in order (:meth:`Statements.run`), each committed on its own:

* as :data:`MODULE_ROLE`, a restricted role of the agent's with a random
  password set just before the run (:func:`new_password`) and taken away
  after it; or, when ``options.superuser``, as the engine's administrator;
* the first failure stops the run with :class:`StatementFailed`, naming the
  unit (1-based; 0 when the session could not even start) and carrying the
  engine's message; the units before it stay done.
"""
import abc
import dataclasses
import secrets
from typing import Any

#: The restricted role modules run as (``os_``: reserved to the agent).
MODULE_ROLE = 'os_module'


class StatementFailed(Exception):
    """Statement ``number`` (1-based; 0: before the first one) failed."""

    def __init__(self, number: int, reason: str) -> None:
        self.number = number
        self.reason = reason
        super().__init__(reason)


@dataclasses.dataclass(frozen=True)
class Options:
    """How one run logs in: as the superuser or the module role, and
    the database it opens (postgresql; None: the maintenance one)."""
    superuser: bool = False
    database: str | None = None


def new_password() -> str:
    """A random password for one run of the module role."""
    return secrets.token_urlsafe(32)


def sql_statements(lines: list[str]) -> list[str]:
    """The statements of ``lines``: each ends with ``;`` at the end of a
    line (the ``;`` left out); a last one may lack it. ``--`` comment
    lines and blank statements are dropped."""
    statements, pending = [], []
    for line in lines:
        if line.strip().startswith('--'):
            continue
        pending.append(line)
        if line.rstrip().endswith(';'):
            statements.append('\n'.join(pending).rstrip()[:-1])
            pending = []
    statements.append('\n'.join(pending))
    return [statement.strip() for statement in statements
            if statement.strip()]


class Statements(abc.ABC):
    """Runs the statements of sql modules on one running engine.

    :param engine: the datastore's lifecycle, started
    """

    def __init__(self, engine) -> None:
        self.engine = engine

    def split(self, lines: list[str]) -> list[Any]:
        """The units of ``lines``, in order (:func:`sql_statements` by
        default); ValueError when they cannot be read."""
        return sql_statements(lines)

    @abc.abstractmethod
    def run(self, statements: list[Any], options: Options = Options()
            ) -> None:
        """Run ``statements`` in order, in one session logged in as
        ``options`` says; StatementFailed for the first that fails."""
