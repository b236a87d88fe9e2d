"""The cluster capability of a datastore: a member of a cluster that the
taskmanager forms, grows and shrinks through the members' guests.

The contract (the control plane's side and the order of the calls) is
in doc/clusters.md; in short, on a member:

``configure(cluster_config)`` (from ``prepare(cluster_config=...)``,
  before the engine first starts): ``{'id', 'role', 'secret'}``, kept in
  ``<volume>/agent/cluster.json`` (0600). ``secret`` is the password the
  members log in to each other with (the same on every member, derived by
  the taskmanager; never the tenant's). The engine's lifecycle renders
  its cluster settings from this state at every start.
:meth:`status` (``cluster_status``): ``{'state', 'members', 'node',
  ...}``; ``state`` is ``'ok'`` when the cluster serves, ``members`` the
  number of members this one knows.
:meth:`join` (``cluster_join``) with every member ``{'id', 'address',
  'role'}`` (this one too): returns once each knows all the others.
:meth:`rebalance` (``cluster_rebalance``) with every member and its
  ``weight`` (0: nothing must stay there): moves the data, no write lost;
  returns ``{'moved_slots', 'moved_keys'}`` (engines without partitioning
  return zeros).
:meth:`leave` (``cluster_leave``): this member stops taking part.
:meth:`forget` (``cluster_forget``) with the members that left.

An engine subclass implements the hooks; this class checks the
arguments and keeps the state file.
"""
import json
import os

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides

LOG = logging.getLogger(__name__)

#: The state file, in the agent's directory.
STATE_FILE = 'cluster.json'


class ClusterError(exception.TroveError):
    """The cluster could not be formed or changed; the message has the
    engine's own words."""

    message_template = '%(reason)s'


def state_path(engine: base.Lifecycle) -> str:
    return os.path.join(engine.agent_dir, STATE_FILE)


def load_state(engine: base.Lifecycle) -> dict:
    """The cluster state of ``engine``'s volume (``{}``: not a member)."""
    try:
        with open(state_path(engine)) as source:
            state = json.load(source)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        LOG.error('The cluster state %s is unreadable: %s',
                  state_path(engine), error)
        return {}
    return state if isinstance(state, dict) else {}


def save_state(engine: base.Lifecycle, state: dict) -> None:
    """Write the state file (0600, replaced atomically)."""
    os.makedirs(engine.agent_dir, mode=0o700, exist_ok=True)
    overrides.replace_file(state_path(engine),
                           json.dumps(state, sort_keys=True, indent=1), None)
    os.chmod(state_path(engine), 0o600)


def check_members(members) -> list[dict]:
    """``members`` as a list of ``{'id', 'address', 'role', 'weight'}``.

    :raises exception.BadRequest: not a list of such dicts
    """
    if not isinstance(members, list) or not members:
        raise exception.BadRequest('members must be a non-empty list')
    checked = []
    for member in members:
        if not isinstance(member, dict) or not isinstance(
                member.get('id'), str) or not isinstance(
                member.get('address'), str):
            raise exception.BadRequest('a member is {"id", "address"}, '
                                       'not %r' % (member,))
        weight = member.get('weight', 1)
        if not isinstance(weight, int) or weight < 0:
            raise exception.BadRequest('a member weight is a whole number '
                                       '>= 0, not %r' % (weight,))
        checked.append({'id': member['id'], 'address': member['address'],
                        'role': member.get('role') or 'member',
                        'weight': weight})
    return checked


class Cluster:
    """Base of an engine's cluster capability (see the module)."""

    def __init__(self, engine: base.Lifecycle) -> None:
        self.engine = engine

    @property
    def state(self) -> dict:
        return load_state(self.engine)

    def configure(self, config: dict) -> None:
        if not isinstance(config, dict) or not config.get('id') or \
                not config.get('secret'):
            raise exception.BadRequest('cluster_config needs id and secret')
        save_state(self.engine, {'id': str(config['id']),
                                 'role': str(config.get('role') or 'member'),
                                 'secret': str(config['secret'])})

    def _require_member(self) -> dict:
        state = self.state
        if not state:
            raise ClusterError(reason='this instance is not a cluster '
                               'member')
        return state

    def status(self) -> dict:
        self._require_member()
        return self._status()

    def join(self, members: list) -> dict:
        self._require_member()
        self._join(check_members(members))
        return self._status()

    def rebalance(self, members: list) -> dict:
        self._require_member()
        members = check_members(members)
        if not any(member['weight'] for member in members):
            raise exception.BadRequest('some member must keep data')
        return self._rebalance(members)

    def leave(self) -> None:
        self._require_member()
        self._leave()

    def forget(self, members: list) -> None:
        self._require_member()
        self._forget(check_members(members))

    # --- hooks ------------------------------------------------------------
    def _status(self) -> dict:
        raise NotImplementedError

    def _join(self, members: list) -> None:
        raise NotImplementedError

    def _rebalance(self, members: list) -> dict:
        return {'moved_slots': 0, 'moved_keys': 0}

    def _leave(self) -> None:
        raise NotImplementedError

    def _forget(self, members: list) -> None:
        raise NotImplementedError
