"""Rules for the users and databases of an instance, per datastore.

The API checks names here before anything reaches a guest, so a bad name
gets a 400 naming it and nothing is created.
"""
import dataclasses
import re

from trove_clone.common import exception


@dataclasses.dataclass(frozen=True)
class Rules:
    datastore: str
    database_name: re.Pattern | None
    user_name: re.Pattern
    reserved_users: frozenset
    reserved_databases: frozenset
    has_hosts: bool = True
    #: What the enable-root call reports as the superuser's name.
    root_name: str = 'root'


_MYSQL = Rules(
    'mysql', re.compile(r'^[A-Za-z0-9_$-]{1,64}$'),
    re.compile(r'^[A-Za-z0-9_.$-]{1,80}$'),
    frozenset({'root', 'mariadb.sys', 'mysql', 'PUBLIC'}),
    frozenset({'mysql', 'information_schema', 'performance_schema',
               'sys', 'lost+found'}))
_POSTGRESQL = Rules(
    'postgresql', re.compile(r'^[A-Za-z_][A-Za-z0-9_$]{0,62}$'),
    re.compile(r'^[A-Za-z_][A-Za-z0-9_$]{0,62}$'),
    frozenset({'postgres', 'root'}),
    frozenset({'postgres', 'template0', 'template1'}), has_hosts=False,
    root_name='postgres')
_REDIS = Rules(
    'redis', None, re.compile(r'^[A-Za-z0-9_.-]{1,64}$'),
    frozenset({'default', 'root'}), frozenset(), has_hosts=False)

RULES = {'mysql': _MYSQL, 'mariadb': _MYSQL, 'postgresql': _POSTGRESQL,
         'redis': _REDIS}
_HOST = re.compile(r'^(%|[A-Za-z0-9.%_:-]{1,255})$')


def rules(manager: str) -> Rules:
    if manager not in RULES:
        raise exception.DatastoreOperationNotSupported(
            operation='users and databases', datastore=manager)
    return RULES[manager]


def check_database_name(manager: str, name: str) -> str:
    """``name`` if it is a legal, non-reserved database name."""
    found = rules(manager)
    if found.database_name is None:
        raise exception.DatastoreOperationNotSupported(
            operation='databases', datastore=found.datastore)
    if not found.database_name.fullmatch(name or ''):
        raise exception.InvalidName(
            kind='database', name=name, reason='use at most %s letters, '
            'digits and %s' % ('64' if found.datastore == 'mysql' else '63',
                               '_ $ -' if found.datastore == 'mysql'
                               else '_ $, not starting with a digit'))
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
