"""The ``sql`` module type: statements run on the engine by the agent as
the engine's administrative user.

The contents have two sections::

    -- apply
    CREATE DATABASE audit;
    -- remove
    DROP DATABASE audit;

Lines before any marker belong to ``apply``; a marker is a line
``-- apply`` or ``-- remove`` (case and spaces ignored). Other lines that
start with ``--`` are comments and dropped.

* mysql / mariadb: a statement ends with ``;`` at the end of a line. They
  run in one root session over the local socket
  (:meth:`MariadbLifecycle.cursor`), so a ``USE`` carries over.
* postgresql: the same statements, in one session of the ``postgres``
  superuser on the maintenance database ``postgres``
  (:meth:`PostgresqlLifecycle.connect`), in autocommit so that
  ``CREATE DATABASE`` works.
* redis: each line is one command, split as a shell would (quotes keep
  spaces); lines starting with ``#`` are comments.

Statements run in order, each committed on its own: the first failure
stops the run and the result is ERROR with the engine's message; the
statements before it stay done (MariaDB cannot roll DDL back), so write
remove statements that tolerate a partial apply (``IF EXISTS``).
"""
import dataclasses
import re
import shlex
from typing import Any, Callable

import psycopg
import redis

from trove_clone.guestagent.datastores import base as lifecycle_base
from trove_clone.guestagent.datastores import mariadb
from trove_clone.guestagent.datastores import postgresql
from trove_clone.guestagent.datastores import redis as redis_lifecycle
from trove_clone.guestagent.modules import base

MARKER = re.compile(r'^\s*--\s*(apply|remove)\s*$', re.IGNORECASE)
#: Seconds a Redis command may take.
REDIS_TIMEOUT = 30


class StatementFailed(Exception):
    """Statement ``number`` (1-based; 0: before the first one) failed."""

    def __init__(self, number: int, reason: str) -> None:
        self.number = number
        self.reason = reason
        super().__init__(reason)


def sections(text: str) -> dict[str, list[str]]:
    """``{'apply': lines, 'remove': lines}`` of the contents ``text``."""
    found: dict[str, list[str]] = {'apply': [], 'remove': []}
    current = 'apply'
    for line in text.splitlines():
        marker = MARKER.match(line)
        if marker:
            current = marker.group(1).lower()
        else:
            found[current].append(line)
    return found


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


def redis_commands(lines: list[str]) -> list[list[str]]:
    """One command (its words, shell-split) per line that is neither
    blank nor a ``#`` / ``--`` comment; ValueError for bad quoting."""
    commands = []
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith(('#', '--')):
            commands.append(shlex.split(stripped))
    return commands


def _run_mariadb(engine: mariadb.MariadbLifecycle,
                 statements: list[str]) -> None:
    number = 0
    try:
        with engine.cursor() as cursor:
            for number, statement in enumerate(statements, 1):
                # No arguments: PyMySQL leaves '%' in the statement alone.
                cursor.execute(statement)
    except lifecycle_base.EngineError as error:
        raise StatementFailed(number, error.message) from error


def _run_postgresql(engine: postgresql.PostgresqlLifecycle,
                    statements: list[str]) -> None:
    number = 0
    try:
        with engine.connect() as connection:
            for number, statement in enumerate(statements, 1):
                connection.execute(statement)
    except psycopg.Error as error:
        raise StatementFailed(number, 'PostgreSQL failed: %s'
                              % str(error).strip()) from error


def _run_redis(engine: redis_lifecycle.RedisLifecycle,
               commands: list[list[str]]) -> None:
    client = engine.client(timeout=REDIS_TIMEOUT)
    number = 0
    try:
        for number, command in enumerate(commands, 1):
            client.execute_command(*command)
    except redis.RedisError as error:
        raise StatementFailed(number, 'Redis failed: %s' % error) from error
    finally:
        client.close()


@dataclasses.dataclass(frozen=True)
class Dialect:
    """How statements are split and run on one kind of engine."""
    lifecycle: type
    noun: str
    split: Callable[[list[str]], list[Any]]
    run: Callable[[Any, list[Any]], None]


DIALECTS = (
    Dialect(mariadb.MariadbLifecycle, 'statement', sql_statements,
            _run_mariadb),
    Dialect(postgresql.PostgresqlLifecycle, 'statement', sql_statements,
            _run_postgresql),
    Dialect(redis_lifecycle.RedisLifecycle, 'command', redis_commands,
            _run_redis),
)


def dialect(engine: lifecycle_base.Lifecycle) -> Dialect | None:
    """The dialect of ``engine``, None for an engine without one."""
    for candidate in DIALECTS:
        if isinstance(engine, candidate.lifecycle):
            return candidate
    return None


class SqlDriver(base.ModuleDriver):

    description = ('Runs the statements of its "-- apply" section as the '
                   "engine's administrative user; removing runs its "
                   '"-- remove" section (mysql, mariadb, postgresql, redis).')

    def apply(self, payload: dict, data: bytes,
              engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Run the apply statements; OK, or ERROR with the engine's
        message for the first that fails (and for no statements)."""
        return self._run('apply', data, engine)

    def remove(self, payload: dict, data: bytes,
               engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Run the remove statements (none: nothing to undo, OK)."""
        return self._run('remove', data, engine)

    @staticmethod
    def _run(section: str, data: bytes,
             engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        chosen = dialect(engine)
        if chosen is None:
            return base.ERROR, ('The sql module type cannot run statements '
                                'on this datastore (%s).'
                                % type(engine).__name__)
        try:
            statements = chosen.split(sections(data.decode('utf-8'))[section])
        except UnicodeDecodeError:
            return base.ERROR, "The sql module's contents are not UTF-8."
        except ValueError as error:
            return base.ERROR, ('The %s section cannot be read: %s'
                                % (section, error))
        if not statements:
            if section == 'remove':
                return base.OK, 'Module removed (no remove statements).'
            return base.ERROR, ('The module has no statements to apply: '
                                'write them before or after "-- apply".')
        try:
            chosen.run(engine, statements)
        except StatementFailed as failure:
            if not failure.number:
                return base.ERROR, failure.reason
            return base.ERROR, ('%s %d of %d failed: %s' % (
                chosen.noun.capitalize(), failure.number, len(statements),
                failure.reason))
        return base.OK, '%s: ran %d %s(s).' % (
            'Applied' if section == 'apply' else 'Removed', len(statements),
            chosen.noun)
