"""Rules for the users and databases of an instance, per datastore.

The API checks names here before anything reaches a guest, so a bad name
gets a 400 naming it and nothing is created. The rules are the
``account_rules`` of the engine's descriptor, read through
:mod:`trove_clone.common.engines` (the descriptors are leaf modules: no
guest agent code is imported here).
"""
import re

from trove_clone.common import engines
from trove_clone.common import exception

_HOST = re.compile(r'^(%|[A-Za-z0-9.%_:-]{1,255})$')


def rules(manager: str) -> engines.AccountRules:
    """The account rules of ``manager``'s engine;
    DatastoreOperationNotSupported when it has no users and databases."""
    return engines.require(manager, 'accounts').account_rules


def check_database_name(manager: str, name: str) -> str:
    """``name`` if it is a legal, non-reserved database name."""
    found = rules(manager)
    if found.database_name is None:
        raise engines.not_supported('databases', found.datastore)
    if not found.database_name.fullmatch(name or ''):
        raise exception.InvalidName(
            kind='database', name=name, reason=found.database_name_hint)
    if name in found.reserved_databases:
        raise exception.InvalidName(kind='database', name=name,
                                    reason='the name is reserved')
    return name


def check_user_name(manager: str, name: str, host: str | None) -> tuple:
    """``(name, host)`` if legal; host defaults to '%'."""
    found = rules(manager)
    if not found.user_name.fullmatch(name or ''):
        raise exception.InvalidName(
            kind='user', name=name,
            reason='use letters, digits and _ . $ - only')
    if name in found.reserved_users or name.startswith('os_'):
        raise exception.InvalidName(kind='user', name=name,
                                    reason='the name is reserved')
    host = host or '%'
    if not found.has_hosts and host != '%':
        raise exception.BadRequest('Users of the %s datastore have no '
                                   'host: leave "host" out.'
                                   % found.datastore)
    if not _HOST.fullmatch(host):
        raise exception.InvalidName(kind='host', name=host,
                                    reason='not a host name, address or %')
    return name, host


def check_databases(manager: str, databases: list[dict]) -> list[dict]:
    """Databases of a request, checked, without duplicates."""
    seen = set()
    result = []
    for database in databases or []:
        name = check_database_name(manager, database['name'])
        if name in seen:
            raise exception.DuplicateInRequest(kind='databases', name=name)
        seen.add(name)
        result.append({'name': name,
                       'character_set': database.get('character_set'),
                       'collate': database.get('collate')})
    return result


def check_users(manager: str, users: list[dict],
                known_databases: list[str] | None = None) -> list[dict]:
    """Users of a request, checked, without duplicates; each database a
    user names must be in ``known_databases`` when that is given."""
    seen = set()
    result = []
    for user in users or []:
        name, host = check_user_name(manager, user['name'], user.get('host'))
        if (name, host) in seen:
            raise exception.DuplicateInRequest(kind='users', name=name)
        seen.add((name, host))
        databases = [check_database_name(manager, database['name'])
                     for database in user.get('databases') or []]
        if known_databases is not None:
            for database in databases:
                if database not in known_databases:
                    raise exception.DatabaseNotFound(name=database)
        result.append({'name': name, 'host': host,
                       'password': user['password'],
                       'databases': [{'name': database}
                                     for database in databases]})
    return result
