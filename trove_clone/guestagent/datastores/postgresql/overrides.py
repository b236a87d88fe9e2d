"""Configuration groups of PostgreSQL.

The overrides are ``pgdata/overrides.conf``, included by the last line of
trove.conf (itself included at the end of postgresql.conf), so that they
win over the template's settings. Values only ever live in configuration
files, never in ALTER SYSTEM's postgresql.auto.conf: writing ``{}`` and
reloading gives the template's values back. Applying is reloading the
files (``pg_reload_conf()``); ``postmaster`` parameters wait for a
restart, as PostgreSQL itself says (``pending_restart``).
"""
import contextlib
import os
import time
from typing import Iterator

import psycopg

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides

#: How long a reload may take to reach the agent's session.
RELOAD_TIMEOUT = 10.0


def setting_value(value) -> str:
    """A JSON value as a configuration file writes it: booleans on/off,
    numbers plain, strings single-quoted (``'`` doubled, ``\\``
    escaped)."""
    if isinstance(value, bool):
        return 'on' if value else 'off'
    if isinstance(value, (int, float)):
        return overrides.number_text(value)
    return "'%s'" % value.replace('\\', '\\\\').replace("'", "''")


def render(values: dict) -> str:
    """The overrides file holding ``values`` (checked)."""
    lines = overrides.header('trove.conf')
    for name, value in overrides.checked(values).items():
        lines.append('%s = %s' % (name.lower(), setting_value(value)))
    return '\n'.join(lines) + '\n'


def _unquote(value: str) -> str:
    """A setting's value without its quotes and escapes."""
    if len(value) < 2 or value[0] != "'" or value[-1] != "'":
        return value
    chars, inner, index = [], value[1:-1], 0
    while index < len(inner):
        char = inner[index]
        if char in "\\'" and index + 1 < len(inner):
            index += 1
            char = inner[index]
        chars.append(char)
        index += 1
    return ''.join(chars)


def _strip_comment(line: str) -> str:
    """``line`` without a ``#`` comment outside quotes."""
    quoted = False
    for index, char in enumerate(line):
        if char == "'":
            quoted = not quoted
        elif char == '#' and not quoted:
            return line[:index]
    return line


def parse_settings(text: str) -> dict:
    """The ``name = value`` settings of a configuration file (the ``=`` is
    optional there), unquoted; includes and comments left out."""
    found = {}
    for line in text.splitlines():
        line = _strip_comment(line).strip()
        if not line:
            continue
        if '=' in line:
            name, _, value = line.partition('=')
        else:
            name, _, value = line.partition(' ')
        name = name.strip().lower()
        if name in ('include', 'include_if_exists', 'include_dir'):
            continue
        found[name] = _unquote(value.strip())
    return found


class PostgresqlOverrides(overrides.Overrides):
    """Configuration groups of a running PostgreSQL (a
    :class:`PostgresqlLifecycle`)."""

    render = staticmethod(render)

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A superuser connection; engine failures become
        :class:`base.EngineError`."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except psycopg.Error as error:
            raise base.EngineError('PostgreSQL failed: %s'
                                   % error) from error

    def _text(self) -> str | None:
        """The overrides file, None when there is none."""
        try:
            with open(self.path) as source:
                return source.read()
        except FileNotFoundError:
            return None

    def apply(self, values: dict) -> None:
        """Reload the configuration files and see ``values`` live.

        PostgreSQL takes live values from its files only (ALTER SYSTEM
        would outlive a detach). After a reload, a value that is neither in
        the overrides file (:meth:`write`) nor live as given (the
        template's or the built-in one, restored after a detach) is added
        to the overrides file, and the files reloaded again. What
        PostgreSQL cannot apply (a bad value) is a BadRequest and leaves
        the file as it was; a ``postmaster`` parameter waits for a
        restart.
        """
        values = {name.lower(): value
                  for name, value in overrides.checked(values).items()}
        if not values:
            return
        previous = self._text()
        written = parse_settings(previous or '')
        wanted = {name: _unquote(setting_value(value))
                  for name, value in values.items()}
        errors = self._reload(list(values))
        if not errors:
            live = self.current(list(values))
            missing = {name: values[name] for name in values
                       if wanted[name] not in (written.get(name),
                                               live.get(name))}
            if missing:
                # The file's values are strings, which PostgreSQL takes
                # quoted for any parameter.
                self.write(dict(written, **missing))
                errors = self._reload(list(values))
                if errors:
                    # Leave no value PostgreSQL refuses in the file: it
                    # would refuse to start on it.
                    if previous is None:
                        os.unlink(self.path)
                    else:
                        overrides.replace_file(self.path, previous,
                                               self.engine._user())
                    self._reload([])
        if errors:
            raise exception.BadRequest('PostgreSQL could not apply %s.' % (
                ', '.join('%s (%s)' % row for row in errors)))

    def _reload(self, names: list[str]) -> list[tuple]:
        """Reload the configuration files, wait until the agent's session
        has, and return the ``(name, error)`` of ``names`` PostgreSQL
        could not apply (leaving out those waiting for a restart)."""
        with self._connection() as connection:
            loaded = connection.execute(
                'SELECT pg_conf_load_time()').fetchone()[0]
            connection.execute('SELECT pg_reload_conf()')
            deadline = time.monotonic() + RELOAD_TIMEOUT
            # The session re-reads the files when the postmaster passes the
            # reload on, before one of its next queries.
            while connection.execute('SELECT pg_conf_load_time()'
                                     ).fetchone()[0] <= loaded:
                if time.monotonic() > deadline:
                    raise base.EngineError('PostgreSQL did not reload its '
                                           'configuration.')
                time.sleep(0.05)
            return connection.execute(
                'SELECT f.name, f.error FROM pg_file_settings f '
                'LEFT JOIN pg_settings s ON s.name = f.name '
                'WHERE f.error IS NOT NULL '
                'AND NOT coalesce(s.pending_restart, false) '
                'AND f.name = ANY(%s)', (names,)).fetchall()

    def current(self, names: list[str]) -> dict:
        wanted = {overrides.check_name(name).lower(): name
                  for name in names}
        if not wanted:
            return {}
        with self._connection() as connection:
            rows = connection.execute(
                'SELECT name, current_setting(name) FROM pg_settings '
                'WHERE name = ANY(%s)', (list(wanted),)).fetchall()
        return {wanted[name]: value for name, value in rows}

    def defaults(self) -> dict:
        with open(self.engine.conf_path) as conf:
            return parse_settings(conf.read())
