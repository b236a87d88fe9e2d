"""Configuration groups of Redis.

The overrides are ``<data_dir>/overrides.conf``, included by the last line
of redis.conf (after trove.conf at its top and any line CONFIG REWRITE
kept): Redis takes the last value it reads, so they win. Dynamic values
are applied with one ``CONFIG SET`` (all or none). There is no reload:
once the group is detached (``{}`` written), the caller applies the
template's values (:meth:`RedisOverrides.defaults`) to restore them live.
"""
import contextlib
import re
from typing import Iterator

import redis

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides

#: A value a configuration line can hold without quotes.
_BARE = re.compile(r'[A-Za-z0-9_.:/@,+-]+')


def config_value(value) -> str:
    """A JSON value as CONFIG SET takes it: booleans yes/no, numbers
    plain, strings as they are."""
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, (int, float)):
        return overrides.number_text(value)
    return value


def line_value(value) -> str:
    """A JSON value as a configuration line writes it: a string with
    spaces, quotes or other symbols is double-quoted, ``\\`` and ``"``
    escaped (a multi-argument one, ``save "3600 1 300 100"``, is split
    again by Redis)."""
    text = config_value(value)
    if _BARE.fullmatch(text):
        return text
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


def render(values: dict) -> str:
    """The overrides file holding ``values`` (checked)."""
    lines = overrides.header('redis.conf')
    for name, value in overrides.checked(values).items():
        lines.append('%s %s' % (name.lower(), line_value(value)))
    return '\n'.join(lines) + '\n'


def parse_directives(text: str) -> dict:
    """The ``name value...`` lines of a configuration file, the value the
    rest of the line; comments and includes left out."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        name, _, value = line.partition(' ')
        name = name.lower()
        if name == 'include':
            continue
        found[name] = value.strip()
    return found


class RedisOverrides(overrides.Overrides):
    """Configuration groups of a running Redis (a
    :class:`RedisLifecycle`)."""

    render = staticmethod(render)

    @contextlib.contextmanager
    def _client(self) -> Iterator[redis.Redis]:
        """A client of the default user; values Redis refuses become
        BadRequest, other failures :class:`base.EngineError`."""
        client = self.engine.client(decode_responses=True)
        try:
            yield client
        except redis.ResponseError as error:
            raise exception.BadRequest('Redis refused the configuration: '
                                       '%s' % error) from error
        except redis.RedisError as error:
            raise base.EngineError('Redis failed: %s' % error) from error
        finally:
            client.close()

    def apply(self, values: dict) -> None:
        values = overrides.checked(values)
        if not values:
            return
        arguments = []
        for name, value in values.items():
            arguments.extend((name.lower(), config_value(value)))
        with self._client() as client:
            client.execute_command('CONFIG', 'SET', *arguments)

    def current(self, names: list[str]) -> dict:
        found = {}
        with self._client() as client:
            for name in names:
                # A checked name has no glob characters: one parameter.
                key = overrides.check_name(name).lower()
                value = client.config_get(key).get(key)
                if value is not None:
                    found[name] = value
        return found

    def defaults(self) -> dict:
        with open(self.engine.generated_conf_path) as conf:
            return parse_directives(conf.read())
