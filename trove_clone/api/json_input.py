"""Strict parsing of request bodies: JSON that every control database,
engine and later reader can take, or a 400 naming what is wrong.

:func:`loads` refuses, beyond malformed JSON:

* a body that is not UTF-8;
* nesting deeper than :data:`MAX_DEPTH`, checked before parsing and
  without recursion (5,000 nested arrays never reach the parser);
* duplicate keys in an object (which one would win is the parser's
  whim);
* ``NaN``, ``Infinity`` and ``-Infinity``, numbers too large for a float
  (``1e400``) and integers outside 64 bits: no column or engine setting
  holds them;
* strings holding NUL (PostgreSQL refuses it in any text) or a lone
  surrogate (``"\\ud800"``, which no UTF-8 encoder takes), in keys and
  values alike.

Errors name the field, as ``instance/users/0/password``.
"""
import json
import math
import re
from typing import Any

from trove_clone.common import exception

#: The deepest nesting of arrays and objects a body may have.
MAX_DEPTH = 32
#: Integers must fit a signed 64-bit column.
MAX_INTEGER = 2 ** 63 - 1
MIN_INTEGER = -2 ** 63

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')
_INNERMOST = re.compile(r'\[\]|\{\}')


class _Constant:
    """What ``NaN`` or ``Infinity`` parses to, so that the check after
    parsing can name the field that holds it."""

    def __init__(self, name: str) -> None:
        self.name = name


def format_path(path) -> str:
    """``('instance', 'users', 0)`` as ``instance/users/0``."""
    return '/'.join(str(part) for part in path) or '(body)'


def too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether arrays and objects in ``text`` nest deeper than ``limit``.

    Strings are blanked, everything but brackets dropped, then innermost
    pairs removed ``limit`` times: brackets left over mean deeper
    nesting. Each pass is one regular-expression substitution, so the
    check is linear in the body and never recurses. Unbalanced brackets
    are left for the parser to report.
    """
    skeleton = _NOT_BRACKET.sub('', _STRING.sub('""', text))
    for _ in range(limit):
        if not skeleton:
            return False
        reduced = _INNERMOST.sub('', skeleton)
        if reduced == skeleton:
            return False
        skeleton = reduced
    return bool(skeleton) and _INNERMOST.search(skeleton) is not None


def _pairs(pairs: list) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise exception.BadRequest(
                'Malformed request body: the key %s appears twice in one '
                'object.' % json.dumps(key)[:80])
        result[key] = value
    return result


def check_text(raw: bytes | str) -> str:
    """``raw`` as text if it is UTF-8 and nests at most :data:`MAX_DEPTH`
    deep (what must hold before any JSON parser sees it).

    :raises: BadRequest
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError as error:
            raise exception.BadRequest(
                'Malformed request body: it is not UTF-8 (byte %d).'
                % error.start)
    else:
        text = raw
    if too_deep(text):
        raise exception.BadRequest(
            'Malformed request body: arrays and objects nest deeper than '
            '%d levels.' % MAX_DEPTH)
    return text


def loads(raw: bytes | str) -> Any:
    """The JSON document in ``raw``, checked as the module says.

    :raises: BadRequest saying what is wrong and, for a value, where
    """
    text = check_text(raw)
    try:
        document = json.loads(text, object_pairs_hook=_pairs,
                              parse_constant=_Constant)
    except RecursionError:
        raise exception.BadRequest(
            'Malformed request body: arrays and objects nest deeper than '
            '%d levels.' % MAX_DEPTH)
    except ValueError as error:
        raise exception.BadRequest('Malformed request body: %s.' % error)
    check_values(document)
    return document


def _string_problem(value: str) -> str | None:
    if '\x00' in value:
        return 'contains a NUL character'
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        return 'contains a lone surrogate (not valid Unicode)'
    return None


def _value_problem(value: Any) -> str | None:
    if isinstance(value, _Constant):
        return 'is %s, which is not a number a field can hold' % value.name
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if not MIN_INTEGER <= value <= MAX_INTEGER:
            return 'is an integer outside the 64-bit range'
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return 'is a number too large to hold'
        return None
    if isinstance(value, str):
        return _string_problem(value)
    return None


def check_values(document: Any) -> None:
    """BadRequest naming the first field whose key or value no store
    can hold (see the module docstring); walks without recursion."""
    stack: list[tuple[tuple, Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                problem = _string_problem(key)
                if problem:
                    raise exception.BadRequest(
                        'The key %r in %s %s.' % (key[:64], format_path(path),
                                                  problem))
                stack.append((path + (key,), item))
        elif isinstance(value, list):
            stack.extend((path + (index,), item)
                         for index, item in enumerate(value))
        else:
            problem = _value_problem(value)
            if problem:
                raise exception.ValidationError(
                    detail='%s %s' % (format_path(path), problem))
