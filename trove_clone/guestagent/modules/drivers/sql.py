"""The ``sql`` module type: statements run on the engine by the agent as
a restricted role of its own (``os_module``), never as the engine's
superuser unless an administrator's module asks for it.

The contents have two sections::

    -- apply
    CREATE TABLE appdb.audit (id INT);
    -- remove
    DROP TABLE appdb.audit;

Lines before any marker belong to ``apply``; a marker is a line
``-- apply`` or ``-- remove`` (case and spaces ignored). Other lines that
start with ``--`` are comments and dropped.

Directives are ``-- trove:`` comment lines at the top of the contents
(before any statement or marker; :func:`directives`):

* ``-- trove: run_as_superuser``: run as the engine's administrator.
  Honoured only in a module created by an administrator (its payload's
  ``is_admin``); in any other module the run is refused with ERROR.
* ``-- trove: database NAME`` (postgresql): the database the session
  opens (default ``postgres``).

How a section splits into statements and how they run (the role, its
privileges, the session) is the engine's ``modules`` capability
(:mod:`trove_clone.guestagent.capabilities.modules`; for each engine
``datastores/<engine>/modules.py`` says what its role may do). Without
``run_as_superuser`` the statements run on a connection of their own,
logged in as the restricted role with a random password set just before
the run and taken away after it (``SET ROLE`` inside a superuser session
would not do: the module could ``RESET ROLE``). ``os_`` names are the
agent's: tenants cannot see, create or drop them.

Statements run in order, each committed on its own: the first failure
stops the run and the result is ERROR with the engine's message; the
statements before it stay done (MariaDB cannot roll DDL back), so write
remove statements that tolerate a partial apply (``IF EXISTS``). An
engine without the capability gets ERROR.
"""
import re

from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.capabilities import modules
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent.modules import base

MARKER = re.compile(r'^\s*--\s*(apply|remove)\s*$', re.IGNORECASE)
#: A directive line: ``-- trove: NAME [VALUE]``.
DIRECTIVE = re.compile(r'^\s*--\s*trove:\s*([A-Za-z_]+)(?:\s+(\S+))?\s*$',
                       re.IGNORECASE)
#: The directive that asks for the engine's superuser.
RUN_AS_SUPERUSER = 'run_as_superuser'
#: The directives the driver knows (others are an error: a typo must not
#: silently change what runs).
KNOWN_DIRECTIVES = frozenset({RUN_AS_SUPERUSER, 'database'})


class RefusedDirective(Exception):
    """The contents hold a directive this module may not use."""


def directives(text: str) -> dict[str, str]:
    """The ``-- trove:`` directive lines at the top of ``text`` (before
    the first line that is neither blank nor one), ``{name: value}``
    (value ``''`` for a flag); ValueError for an unknown one."""
    found = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        directive = DIRECTIVE.match(line)
        if directive is None:
            break
        name = directive.group(1).lower()
        if name not in KNOWN_DIRECTIVES:
            raise ValueError('unknown directive "-- trove: %s" (known: %s)'
                             % (name, ', '.join(sorted(KNOWN_DIRECTIVES))))
        found[name] = directive.group(2) or ''
    return found


def runs_as_superuser(payload: dict, found: dict[str, str]) -> bool:
    """Whether the module runs as the engine's superuser: it says
    ``-- trove: run_as_superuser`` and an administrator made it
    (``is_admin``, which only an administrator can set or keep).

    :raises RefusedDirective: the directive in a module that is not an
        administrator's
    """
    if RUN_AS_SUPERUSER not in found:
        return False
    if payload.get('is_admin') is not True:
        raise RefusedDirective(
            'The directive "-- trove: %s" is honoured only in a module '
            'created by an administrator (without full_access); this '
            'module is not one, so nothing ran.' % RUN_AS_SUPERUSER)
    return True


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


class SqlDriver(base.ModuleDriver):

    description = ('Runs the statements of its "-- apply" section as a '
                   'restricted role of the agent (the engine\'s '
                   'administrative user for an administrator\'s module '
                   'that starts with "-- trove: run_as_superuser"); '
                   'removing runs its "-- remove" section (mysql, mariadb, '
                   'postgresql, redis).')

    def apply(self, payload: dict, data: bytes,
              engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Run the apply statements; OK, or ERROR with the engine's
        message for the first that fails (and for no statements)."""
        return self._run('apply', payload, data, engine)

    def remove(self, payload: dict, data: bytes,
               engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Run the remove statements (none: nothing to undo, OK)."""
        return self._run('remove', payload, data, engine)

    @staticmethod
    def _run(section: str, payload: dict, data: bytes,
             engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        descriptor = loader.descriptor_of(engine)
        if descriptor is None or not descriptor.supports('modules'):
            return base.ERROR, ('The sql module type cannot run statements '
                                'on this datastore (%s).'
                                % type(engine).__name__)
        runner = loader.implementation(descriptor, 'modules')(engine)
        noun = descriptor.statement_noun
        try:
            text = data.decode('utf-8')
        except UnicodeDecodeError:
            return base.ERROR, "The sql module's contents are not UTF-8."
        try:
            found = directives(text)
            options = modules.Options(
                superuser=runs_as_superuser(payload, found),
                database=found.get('database') or None)
        except RefusedDirective as refused:
            return base.ERROR, str(refused)
        except ValueError as error:
            return base.ERROR, 'The module cannot be read: %s' % error
        try:
            statements = runner.split(sections(text)[section])
        except ValueError as error:
            return base.ERROR, ('The %s section cannot be read: %s'
                                % (section, error))
        if not statements:
            if section == 'remove':
                return base.OK, 'Module removed (no remove statements).'
            return base.ERROR, ('The module has no statements to apply: '
                                'write them before or after "-- apply".')
        try:
            runner.run(statements, options)
        except modules.StatementFailed as failure:
            if not failure.number:
                return base.ERROR, failure.reason
            return base.ERROR, ('%s %d of %d failed: %s' % (
                noun.capitalize(), failure.number, len(statements),
                failure.reason))
        return base.OK, '%s: ran %d %s(s)%s.' % (
            'Applied' if section == 'apply' else 'Removed', len(statements),
            noun, ' as the superuser' if options.superuser else '')
