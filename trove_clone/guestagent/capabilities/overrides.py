"""The configuration-group capability of a datastore.

A configuration group is a set of ``{parameter: value}`` the control plane
validated against the datastore version's rules
(templates/<datastore>/validation-rules.json). The guest agent keeps the
values of the group attached to the instance in an *overrides file* on the
volume, which the engine reads after the configuration the agent renders
from the template at every start, so that they win over it and survive
restarts and new flavors; the dynamic ones (``restart_required`` false)
are also applied to the running engine.

:meth:`Overrides.update` is what the agent calls with the whole group: it
writes the file, applies the dynamic values that changed, and gives the
engine back its own live value of a dynamic parameter the group no longer
sets (the value it had before the group first changed it, kept with the
group's values in :data:`STATE_FILE` on the volume).

Values arrive as JSON types (bool, int, float, str); each engine converts
them to its own syntax. Parameter names are checked again here (letters,
digits, ``_``, ``-`` and ``.``): they become part of statements and
configuration lines.
"""
import abc
import json
import math
import os
import re
import tempfile

from oslo_log import log as logging

from trove_clone.common import exception

LOG = logging.getLogger(__name__)
#: The group's values and the live values they replaced, beside the data
#: directory (on the volume).
STATE_FILE = 'trove-overrides.json'

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


def typed(text):
    """A live value read back as text, as the type it looks like."""
    if not isinstance(text, str):
        return text
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def header(included_by: str) -> list[str]:
    """The comment lines that open every overrides file."""
    return ['# The configuration group attached to this instance, written',
            '# by the trove_clone guest agent; included last by %s.'
            % included_by]


class Overrides(abc.ABC):
    """The configuration group of one running engine.

    :param engine: the datastore's :class:`lifecycle.Lifecycle`, started; it
        names the overrides file (``overrides_path``) its configuration
        includes.
    """

    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def path(self) -> str:
        """The overrides file on the volume."""
        return self.engine.overrides_path

    @property
    def state_path(self) -> str:
        """:data:`STATE_FILE`, beside the data directory."""
        return os.path.join(os.path.dirname(self.engine.data_dir),
                            STATE_FILE)

    def _state(self) -> dict:
        try:
            with open(self.state_path) as source:
                return json.load(source)
        except (OSError, ValueError):
            return {'values': {}, 'originals': {}}

    def _save_state(self, state: dict) -> None:
        replace_file(self.state_path, json.dumps(state))

    def update(self, values: dict, dynamic: list[str]) -> list[str]:
        """Make ``values`` the engine's configuration group.

        :param values: every parameter of the attached group (``{}``:
            none attached)
        :param dynamic: the names the engine takes without a restart
        :returns: the names whose value changed, sorted
        :raises BadRequest: a name or value is refused (by the checks or
            the engine)
        """
        state = self._state()
        previous = state['values']
        changed = sorted(name for name in set(previous) | set(values)
                         if previous.get(name) != values.get(name))
        live = {}
        for name in changed:
            if name not in dynamic:
                continue
            if name in values:
                if name not in state['originals']:
                    state['originals'][name] = self.current(
                        [name]).get(name)
                live[name] = values[name]
            elif state['originals'].get(name) is not None:
                live[name] = typed(state['originals'].pop(name))
        self.write(values)
        if live:
            self.apply(live)
        state['values'] = values
        self._save_state(state)
        LOG.info('Configuration overrides changed: %s (live: %s).',
                 ', '.join(changed) or 'none', ', '.join(sorted(live)))
        return changed

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
