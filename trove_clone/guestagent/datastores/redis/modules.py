"""The sql module type on Redis.

Each line is one command, split as a shell would (quotes keep spaces);
lines starting with ``#`` (or ``--``) are comments. Commands run as the
agent's ACL user for the superuser, otherwise as the ACL user
``os_module``: ``+@all -@admin -@dangerous`` on every key, switched off
after the run.
"""
import shlex

import redis

from trove_clone.guestagent.capabilities import modules

#: Seconds a command may take.
TIMEOUT = 30
#: The ACL rules of the module user besides its password.
ROLE_RULES = ('reset', 'on', '~*', '&*', '+@all', '-@admin', '-@dangerous')
#: What the module user gets after a run.
ROLE_CLOSE = ['ACL', 'SETUSER', modules.MODULE_ROLE, 'reset', 'off']


def role_command(password: str) -> list[str]:
    """The ``ACL SETUSER`` that makes the restricted user with
    ``password`` (every earlier rule reset)."""
    return ['ACL', 'SETUSER', modules.MODULE_ROLE] + list(ROLE_RULES) + [
        '>' + password]


def commands(lines: list[str]) -> list[list[str]]:
    """One command (its words, shell-split) per line that is neither
    blank nor a ``#`` / ``--`` comment; ValueError for bad quoting."""
    found = []
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith(('#', '--')):
            found.append(shlex.split(stripped))
    return found


class RedisCommands(modules.Statements):
    """Module commands on a running :class:`RedisLifecycle`."""

    def split(self, lines: list[str]) -> list[list[str]]:
        return commands(lines)

    def run(self, statements: list[list[str]],
            options: modules.Options = modules.Options()) -> None:
        engine = self.engine
        admin = engine.client(timeout=TIMEOUT)
        number = 0
        try:
            if options.superuser:
                client = admin
            else:
                password = modules.new_password()
                admin.execute_command(*role_command(password))
                client = engine.client(timeout=TIMEOUT,
                                       username=modules.MODULE_ROLE,
                                       password=password)
            try:
                for number, command in enumerate(statements, 1):
                    client.execute_command(*command)
            finally:
                if client is not admin:
                    client.close()
                    admin.execute_command(*ROLE_CLOSE)
        except redis.RedisError as error:
            raise modules.StatementFailed(
                number, 'Redis failed: %s' % error) from error
        finally:
            admin.close()
