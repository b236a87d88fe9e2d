"""The configuration-group capability of a datastore.

A configuration group is a set of ``{parameter: value}`` the control plane
validated against the datastore version's rules
(templates/<datastore>/validation-rules.json). The guest agent keeps the
values of the group attached to the instance in an *overrides file* on the
volume, which the engine reads after the configuration the agent renders
from the template at every start, so that they win over it and survive
restarts and new flavors; the dynamic ones (``restart_required`` false)
are also applied to the running engine.

Values arrive as JSON types (bool, int, float, str); each engine converts
them to its own syntax. Parameter names are checked again here (letters,
digits, ``_``, ``-`` and ``.``): they become part of statements and
configuration lines.
"""
import abc
import math
import os
import re
import tempfile

from trove_clone.common import exception

#: A plain parameter name: a letter or ``_`` first, then letters, digits,
#: ``_``, ``-`` or ``.``.
NAME_PATTERN = re.compile(r'[A-Za-z_][A-Za-z0-9_.-]{0,127}')
#: The JSON types a value may have (bool is a subclass of int).
VALUE_TYPES = (bool, int, float, str)


def check_name(name: str) -> str:
    """``name`` unchanged if it is a plain parameter name; BadRequest
    otherwise."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise exception.BadRequest(
            'Invalid configuration parameter name %r: only letters, digits, '
            '"_", "-" and "." are allowed.' % (name,))
    return name


def check_value(name: str, value) -> None:
    """BadRequest unless ``value`` is a JSON scalar a configuration file
    can hold: no null, list or object, no infinite number, no control
    character in a string."""
    if not isinstance(value, VALUE_TYPES):
        raise exception.BadRequest(
            'Invalid value for configuration parameter %s: %r is not a '
            'boolean, number or string.' % (name, value))
    if isinstance(value, float) and not math.isfinite(value):
        raise exception.BadRequest(
            'Invalid value for configuration parameter %s: %r.'
            % (name, value))
    if isinstance(value, str) and any(
            not char.isprintable() for char in value):
        raise exception.BadRequest(
            'Invalid value for configuration parameter %s: control '
            'characters are not allowed.' % name)


def checked(values: dict) -> dict:
    """``values`` after :func:`check_name` and :func:`check_value` of
    every item; BadRequest for the first bad one."""
    if not isinstance(values, dict):
        raise exception.BadRequest('Configuration values must be an '
                                   'object of {parameter: value}.')
    for name, value in values.items():
        check_name(name)
        check_value(name, value)
    return dict(values)


def number_text(value: int | float) -> str:
    """An int or float as configuration files write it."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def replace_file(path: str, text: str,
                 owner: tuple[int, int] | None = None) -> None:
    """Make ``path`` hold ``text``, atomically (an engine never reads half
    a file), mode 0600 and owned by ``owner`` (uid, gid) when given: the
    engine's user reads its own files, nobody else needs to."""
    descriptor, temporary = tempfile.mkstemp(
        prefix='.%s.' % os.path.basename(path),
        dir=os.path.dirname(path))
    try:
        with os.fdopen(descriptor, 'w') as target:
            target.write(text)
            target.flush()
            os.fsync(target.fileno())
        os.chmod(temporary, 0o600)
        if owner is not None:
            os.chown(temporary, *owner)
        os.rename(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def header(included_by: str) -> list[str]:
    """The comment lines that open every overrides file."""
    return ['# The configuration group attached to this instance, written',
            '# by the trove_clone guest agent; included last by %s.'
            % included_by]


class Overrides(abc.ABC):
    """The configuration group of one running engine.

    :param engine: the datastore's :class:`base.Lifecycle`, started; it
        names the overrides file (``overrides_path``) its configuration
        includes.
    """

    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def path(self) -> str:
        """The overrides file on the volume."""
        return self.engine.overrides_path

    @staticmethod
    @abc.abstractmethod
    def render(values: dict) -> str:
        """The overrides file holding ``values`` (checked)."""

    def write(self, values: dict) -> None:
        """Make the overrides file hold exactly ``values`` (all the
        parameters of the attached group; ``{}`` when none is attached),
        for the engine to read at its next start (or reload)."""
        replace_file(self.path, self.render(values), self.engine._user())

    @abc.abstractmethod
    def apply(self, values: dict) -> None:
        """Give the running engine these (dynamic) values now, without a
        restart; BadRequest when the engine refuses one."""

    @abc.abstractmethod
    def current(self, names: list[str]) -> dict:
        """The engine's live values of ``names`` as strings, as the engine
        shows them; names it does not know are left out."""

    @abc.abstractmethod
    def defaults(self) -> dict:
        """The configuration the agent rendered from the template (without
        the overrides), as ``{name: value}`` strings."""
