"""What each guest engine declares about itself: its descriptor.

An engine is a package ``trove_clone/guestagent/datastores/<engine>/``
registered as one entry point in the stevedore namespace
:data:`NAMESPACE` (``setup.cfg``): the entry point's name is the package's
name, its object a :class:`Descriptor`. The descriptor is plain data:
the managers the engine serves, its port and versions, its account-name
rules, its template directory, the capabilities it implements and the
classes implementing them (as ``module:Class`` names, resolved by the
guest agent only).

This module is a leaf (it imports nothing of trove_clone but
:mod:`exception`), and so is every ``descriptor.py`` of an engine: the
services read the descriptors through :func:`for_manager` without
importing the guest agent's code (no engine driver, no pymysql).

A capability that an engine does not implement (or a manager no engine
serves) is answered in one place, :func:`require`, with Trove's
:class:`exception.DatastoreOperationNotSupported` (501).
"""
import dataclasses
import functools
import re
import types
from typing import Mapping

from oslo_log import log as logging
from stevedore import extension

from trove_clone.common import exception

LOG = logging.getLogger(__name__)
#: The stevedore namespace of the engine packages.
NAMESPACE = 'trove_clone.guestagent.datastores'
#: The capabilities an engine may implement, with the words the
#: not-supported error uses for each (the operation of Trove's message).
CAPABILITIES = types.MappingProxyType({
    'lifecycle': 'prepare',
    'accounts': 'users and databases',
    'overrides': 'configuration groups',
    'upgrade': 'upgrade',
    'modules': 'modules',
    'backup': 'backup',
    'replication': 'replication',
    'cluster': 'cluster',
    'pitr': 'point-in-time recovery',
    'logs': 'guest log',
})


@dataclasses.dataclass(frozen=True)
class AccountRules:
    """The names the API accepts for an engine's users and databases
    (checked before anything reaches a guest).

    :param datastore: the name the messages use
    :param database_name: what a database name must match; None: the
        engine has no named databases
    :param database_name_hint: the rule, in words, for the error message
    :param user_name: what a user name must match
    :param reserved_users: names no user may take (``os_`` prefixed names
        are the agent's, always reserved)
    :param reserved_databases: names no database may take
    :param has_hosts: whether users have a host (``'name'@'host'``)
    :param root_name: what enable-root reports as the superuser's name
    """
    datastore: str
    database_name: re.Pattern | None
    user_name: re.Pattern
    reserved_users: frozenset
    reserved_databases: frozenset
    database_name_hint: str = ''
    has_hosts: bool = True
    root_name: str = 'root'


@dataclasses.dataclass(frozen=True, eq=False)
class Descriptor:
    """One engine package.

    :param name: the package (``datastores/<name>/``) and entry point name
    :param managers: the datastore managers it serves (a datastore
        version's ``manager``)
    :param port: the standard port the engine listens on
    :param versions: the versions its guest images are built for, the
        default first
    :param capabilities: capability (a key of :data:`CAPABILITIES`) →
        ``'module:Class'`` of its implementation; ``lifecycle`` is
        required
    :param template_dir: its directory under ``trove_clone/templates``
    :param account_rules: the names of users and databases (required
        with the ``accounts`` capability)
    :param statement_noun: the sql module type's dialect: what one unit
        of a module's contents is called in results (``statement``,
        ``command``)
    :param client_command: how to reach an instance as the user ``app``
        (password ``app-password``, database ``appdb``) from a shell;
        ``{manager}`` and ``IP`` are filled in
    """
    name: str
    managers: tuple[str, ...]
    port: int
    versions: tuple[str, ...]
    capabilities: Mapping[str, str]
    template_dir: str
    account_rules: AccountRules | None = None
    statement_noun: str = 'statement'
    client_command: str = ''

    def __post_init__(self) -> None:
        unknown = set(self.capabilities) - set(CAPABILITIES)
        if unknown:
            raise ValueError('engine %s: unknown capabilities %s'
                             % (self.name, ', '.join(sorted(unknown))))
        if 'lifecycle' not in self.capabilities:
            raise ValueError('engine %s has no lifecycle' % self.name)
        if 'accounts' in self.capabilities and self.account_rules is None:
            raise ValueError('engine %s has accounts but no account rules'
                             % self.name)
        if not self.managers or not self.versions:
            raise ValueError('engine %s names no manager or no version'
                             % self.name)
        object.__setattr__(self, 'capabilities',
                           types.MappingProxyType(dict(self.capabilities)))

    @property
    def default_version(self) -> str:
        """The version images are built for when none is asked."""
        return self.versions[0]

    def supports(self, capability: str) -> bool:
        """Whether the engine implements ``capability``."""
        return capability in self.capabilities


def _load_failed(manager, entry_point, error: Exception) -> None:
    # A broken third-party engine must not take the shipped ones down.
    LOG.error('The engine %s cannot be loaded: %s', entry_point.name, error)


@functools.lru_cache(maxsize=1)
def descriptors() -> Mapping[str, Descriptor]:
    """Engine name → descriptor, for every entry point of
    :data:`NAMESPACE` whose object is a :class:`Descriptor` named after
    it; others are logged and left out."""
    found = {}
    manager = extension.ExtensionManager(
        NAMESPACE, on_load_failure_callback=_load_failed)
    for ext in manager.extensions:
        if not isinstance(ext.plugin, Descriptor) or \
                ext.plugin.name != ext.name:
            LOG.error('The entry point %s of %s is not the Descriptor of '
                      'an engine named %s: left out.', ext.name, NAMESPACE,
                      ext.name)
            continue
        found[ext.name] = ext.plugin
    return types.MappingProxyType(found)


def managers() -> dict[str, Descriptor]:
    """Manager → the descriptor of the engine serving it (the first
    engine by name when two claim one manager)."""
    served: dict[str, Descriptor] = {}
    for name in sorted(descriptors()):
        for manager in descriptors()[name].managers:
            served.setdefault(manager, descriptors()[name])
    return served


def not_supported(capability: str, datastore: str
                  ) -> exception.DatastoreOperationNotSupported:
    """Trove's error for ``capability`` on ``datastore``."""
    return exception.DatastoreOperationNotSupported(
        operation=CAPABILITIES.get(capability, capability),
        datastore=datastore)


def require(manager: str, capability: str = 'lifecycle') -> Descriptor:
    """The descriptor of the engine serving ``manager``, which
    implements ``capability``.

    :raises exception.DatastoreOperationNotSupported: no engine serves
        ``manager``, or it does not implement ``capability``
    """
    descriptor = managers().get(manager)
    if descriptor is None or not descriptor.supports(capability):
        raise not_supported(capability, manager)
    return descriptor


def reset() -> None:
    """Forget the loaded descriptors (tests register engines)."""
    descriptors.cache_clear()
