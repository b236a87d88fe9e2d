"""Users and root of Redis: ACL users.

A user is an ACL user that may run every command on every key and channel
(``on >password ~* &* +@all``); hosts mean nothing to Redis (views show
``'%'``). Redis numbers its databases instead of naming them, so database
and access calls are not supported. Every change is written to the ACL
file (``ACL SAVE``) so that it survives a restart. The agent talks to the
engine as the ``default`` user.
"""
import contextlib
import secrets
from typing import Iterator

import redis

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import accounts
from trove_clone.guestagent.capabilities import lifecycle as base

#: Users of the engine and the agent; never shown, never created.
SYSTEM_USERS = frozenset({'default', 'root'})
RESERVED_PREFIX = 'os_'
HOST = '%'
#: The rules of a user (and of root): everything, and the user enabled.
ALL_PERMISSIONS = ('on', '~*', '&*', '+@all')


def is_hidden_user(name: str) -> bool:
    """Whether ``name`` is the default user, root or an agent user."""
    return name in SYSTEM_USERS or name.startswith(RESERVED_PREFIX)


def check_name(name: str) -> None:
    """InvalidName unless ``name`` can be an ACL user of ours."""
    if not name or any(char.isspace() or not char.isprintable()
                       for char in name):
        raise exception.InvalidName(
            kind='user', name=name,
            reason='it must be non-empty, without spaces or control '
                   'characters')
    if is_hidden_user(name):
        raise exception.InvalidName(kind='user', name=name,
                                    reason='the name is reserved')


class RedisAccounts(accounts.Accounts):
    """Accounts of a running Redis (a :class:`RedisLifecycle`)."""

    datastore = 'redis'
    root_name = 'root'

    @contextlib.contextmanager
    def _client(self) -> Iterator[redis.Redis]:
        """A client of the default user; engine failures become
        :class:`base.EngineError` with the engine's message."""
        client = self.engine.client(decode_responses=True)
        try:
            yield client
        except redis.RedisError as error:
            raise base.EngineError('Redis failed: %s' % error) from error
        finally:
            client.close()

    @staticmethod
    def _acl(client: redis.Redis, *arguments: str):
        return client.execute_command('ACL', *arguments)

    def _save(self, client: redis.Redis) -> None:
        self._acl(client, 'SAVE')

    def _exists(self, client: redis.Redis, name: str) -> bool:
        return name in self._acl(client, 'USERS')

    def _require_user(self, client: redis.Redis, name: str) -> None:
        if is_hidden_user(name) or not self._exists(client, name):
            raise exception.UserNotFound(name=name)

    def _rules(self, client: redis.Redis, name: str) -> list[str]:
        """The rules of ``name`` as ACL LIST shows them (its passwords as
        ``#<sha256>``), ready for ACL SETUSER."""
        prefix = 'user %s ' % name
        for line in self._acl(client, 'LIST'):
            if line.startswith(prefix):
                return line[len(prefix):].split()
        raise exception.UserNotFound(name=name)

    # --- databases and access: Redis numbers its databases -----------------

    def create_databases(self, databases: list[dict]) -> None:
        raise self.not_supported('create_databases')

    def list_databases(self) -> list[dict]:
        raise self.not_supported('list_databases')

    def delete_database(self, name: str) -> None:
        raise self.not_supported('delete_database')

    def grant_access(self, name: str, host: str,
                     databases: list[str]) -> None:
        raise self.not_supported('grant_access')

    def revoke_access(self, name: str, host: str, database: str) -> None:
        raise self.not_supported('revoke_access')

    def list_access(self, name: str, host: str) -> list[dict]:
        raise self.not_supported('list_access')

    # --- users ------------------------------------------------------------

    def create_users(self, users: list[dict]) -> None:
        """Create each user with every permission; users given databases
        raise DatastoreOperationNotSupported."""
        seen = set()
        for user in users:
            check_name(user['name'])
            if user['name'] in seen:
                raise exception.DuplicateInRequest(kind='users',
                                                   name=user['name'])
            seen.add(user['name'])
            if user.get('databases'):
                raise self.not_supported('databases of users')
        with self._client() as client:
            for user in users:
                if self._exists(client, user['name']):
                    raise exception.UserAlreadyExists(name=user['name'])
            for user in users:
                self._acl(client, 'SETUSER', user['name'], 'reset',
                          '>' + user['password'], *ALL_PERMISSIONS)
            self._save(client)

    def list_users(self) -> list[dict]:
        with self._client() as client:
            names = self._acl(client, 'USERS')
        return [{'name': name, 'host': HOST, 'databases': []}
                for name in sorted(names) if not is_hidden_user(name)]

    def get_user(self, name: str, host: str) -> dict:
        with self._client() as client:
            self._require_user(client, name)
        return {'name': name, 'host': HOST, 'databases': []}

    def delete_user(self, name: str, host: str) -> None:
        """Delete the user (its open connections are closed)."""
        with self._client() as client:
            self._require_user(client, name)
            self._acl(client, 'DELUSER', name)
            self._save(client)

    def change_passwords(self, users: list[dict]) -> None:
        """Replace each user's passwords with the one given."""
        with self._client() as client:
            for user in users:
                self._require_user(client, user['name'])
            for user in users:
                self._acl(client, 'SETUSER', user['name'], 'resetpass',
                          '>' + user['password'])
            self._save(client)

    def update_attributes(self, name: str, host: str,
                          attributes: dict) -> None:
        """Rename (a new user with the same rules and passwords, the old
        one deleted) and/or set the password; a host means nothing."""
        new_name = attributes.get('name') or name
        with self._client() as client:
            self._require_user(client, name)
            if new_name != name:
                check_name(new_name)
                if self._exists(client, new_name):
                    raise exception.UserAlreadyExists(name=new_name)
                self._acl(client, 'SETUSER', new_name, 'reset',
                          *self._rules(client, name))
                self._acl(client, 'DELUSER', name)
            if attributes.get('password'):
                self._acl(client, 'SETUSER', new_name, 'resetpass',
                          '>' + attributes['password'])
            self._save(client)

    # --- root -------------------------------------------------------------

    def enable_root(self, password: str | None = None) -> dict:
        """Create or reset the ``root`` ACL user with every permission and
        only ``password`` (a random one when None)."""
        password = password or secrets.token_urlsafe(18)
        with self._client() as client:
            self._acl(client, 'SETUSER', self.root_name, 'reset',
                      '>' + password, *ALL_PERMISSIONS)
            self._save(client)
        return {'name': self.root_name, 'password': password}

    def disable_root(self) -> None:
        """Delete the ``root`` user; RootNotEnabled when there is none."""
        with self._client() as client:
            if not self._exists(client, self.root_name):
                raise exception.RootNotEnabled()
            self._acl(client, 'DELUSER', self.root_name)
            self._save(client)

    def is_root_enabled(self) -> bool:
        with self._client() as client:
            return self._exists(client, self.root_name)
