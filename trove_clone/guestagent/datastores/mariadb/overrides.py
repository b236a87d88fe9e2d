"""Configuration groups of MariaDB (the mysql and mariadb managers).

The overrides are a ``[mysqld]`` option file, ``<data_dir>/overrides.cnf``,
that my.cnf includes on its last line (``!include``): its options come
after the template's and win. Dynamic values are applied with ``SET
GLOBAL`` over the root connection, the value a query parameter. In option
files ``-`` and ``_`` are the same in a name; system variables only know
``_``, so names are given with ``_`` to the engine and the views.
"""
import re

from trove_clone.guestagent.capabilities import overrides

#: The section of the server's options.
SECTION = 'mysqld'
#: Engine errors a value or name causes: unknown variable (1193), wrong
#: value (1231), wrong type (1232), read-only variable (1238), global-only
#: or session-only (1228, 1229), value out of range (1690).
_REQUEST_ERRORS = frozenset({1193, 1228, 1229, 1231, 1232, 1238, 1690})
#: A size as option files write it: digits and a K/M/G/T/P/E suffix.
_SIZE = re.compile(r'(\d+)([KMGTPE])', re.IGNORECASE)
_SIZE_POWERS = {suffix: 1024 ** power
                for power, suffix in enumerate('KMGTPE', start=1)}
_INTEGER = re.compile(r'-?\d+')
_DECIMAL = re.compile(r'-?\d+\.\d*')


def variable_name(name: str) -> str:
    """``name`` as the engine's system variable (``_``, lower case)."""
    return overrides.check_name(name).replace('-', '_').lower()


def option_value(value) -> str:
    """A JSON value as an option file writes it: booleans ON/OFF, numbers
    plain, strings double-quoted (``\\`` and ``"`` escaped) so that ``#``
    and spaces keep their meaning."""
    if isinstance(value, bool):
        return 'ON' if value else 'OFF'
    if isinstance(value, (int, float)):
        return overrides.number_text(value)
    escaped = value.replace('\\', '\\\\').replace('"', '\\"')
    return '"%s"' % escaped


def sql_value(value) -> int | float | str:
    """A JSON value as ``SET GLOBAL`` takes it: numeric variables refuse
    strings, so a string that is a number or a size (``'256M'``, as
    :meth:`MariadbOverrides.defaults` gives) becomes one; booleans become
    ON/OFF."""
    if isinstance(value, bool):
        return 'ON' if value else 'OFF'
    if not isinstance(value, str):
        return value
    text = value.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    size = _SIZE.fullmatch(text)
    if size:
        return int(size.group(1)) * _SIZE_POWERS[size.group(2).upper()]
    return value


def render(values: dict) -> str:
    """The overrides file holding ``values`` (checked)."""
    lines = overrides.header('my.cnf') + ['[%s]' % SECTION]
    for name, value in overrides.checked(values).items():
        lines.append('%s = %s' % (variable_name(name), option_value(value)))
    return '\n'.join(lines) + '\n'


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] in '\'"' and value[-1] == value[0]:
        return re.sub(r'\\(.)', r'\1', value[1:-1])
    return value


def parse_options(text: str, section: str = SECTION) -> dict:
    """The options of ``section`` in an option file, names with ``_``; a
    bare option (``skip-name-resolve``) is ``'ON'``. Directives
    (``!include``) and comments are left out."""
    found: dict = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(('#', ';', '!')):
            continue
        if line.startswith('[') and line.endswith(']'):
            current = line[1:-1].strip()
            continue
        if current != section:
            continue
        name, separator, value = line.partition('=')
        name = name.strip().replace('-', '_').lower()
        found[name] = _unquote(value.strip()) if separator else 'ON'
    return found


class MariadbOverrides(overrides.Overrides):
    """Configuration groups of a running MariaDB (a
    :class:`MariadbLifecycle`)."""

    render = staticmethod(render)

    def _cursor(self):
        """A root cursor; see MariadbLifecycle.cursor."""
        return self.engine.cursor(_REQUEST_ERRORS)

    def apply(self, values: dict) -> None:
        values = overrides.checked(values)
        if not values:
            return
        with self._cursor() as cursor:
            for name, value in values.items():
                # The name is checked: letters, digits, '_' and '.'.
                cursor.execute('SET GLOBAL %s = %%s' % variable_name(name),
                               (sql_value(value),))

    def current(self, names: list[str]) -> dict:
        wanted = {variable_name(name): name for name in names}
        if not wanted:
            return {}
        with self._cursor() as cursor:
            cursor.execute(
                'SHOW GLOBAL VARIABLES WHERE Variable_name IN (%s)'
                % ', '.join(['%s'] * len(wanted)), tuple(wanted))
            rows = cursor.fetchall()
        return {wanted[variable.lower()]: '' if value is None else str(value)
                for variable, value in rows if variable.lower() in wanted}

    def defaults(self) -> dict:
        with open(self.engine.conf_path) as conf:
            return parse_options(conf.read())
