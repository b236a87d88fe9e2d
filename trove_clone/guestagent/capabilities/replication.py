"""The replication capability of a datastore: a source (primary) serving
replicas, replicas following it read-only, promotion and re-pointing.

Every instance may be a *source* (it has replicas), a *replica* (it
follows a source) or neither. The agent keeps what it must remember in
``<volume>/agent/replication.json`` (0600, the agent's only:
:func:`load_state`): ``role`` (``'replica'`` or absent), ``source`` (the
connection a replica uses, with its password), ``replica_id``, and
``replicas`` (the followers this instance made accounts for: replica id →
``{'address', 'source_address', 'user', 'slot'}``; ``source_address`` is
the address its connections come from, :func:`source_address`). The
engines' lifecycles read it when they render their configuration (a
replica stays read-only across restarts).

Names are derived from the replica's instance id (letters, digits and
dashes only): its account on the source is ``os_repl_<id without
dashes>`` (:func:`user_name`; the ``os_`` prefix is the agent's, never a
tenant's), its PostgreSQL slot ``os_repl_<id without dashes>`` as well.
Every account has a fresh random password per :meth:`context` call.

What the control plane calls, on which instance, in which order, is in
``REPLICATION-CONTRACT.md`` and doc/replication-guest.md; the methods:

Source side
  :meth:`context` (``get_replica_context``) with ``{'id', 'address'}`` of
  a follower: makes (or resets) its account (and slot, and pg_hba entry)
  and returns the *snapshot* a follower needs: ``{'datastore', 'master':
  {'host', 'port', 'user', 'password', 'slot', 'replica_id'}, 'acl':
  [...]}`` (``acl``: Redis only, the tenant's users to copy).
  :meth:`snapshot` (``get_replication_snapshot``) is :meth:`context` plus
  ``dataset`` (the fresh backup the new replica restores, when
  :attr:`backup_required`, with its ``log_position``).
  :meth:`cleanup` (``cleanup_source_on_replica_detach``) drops a
  follower's account and slot; unknown ids are ignored.
  :meth:`demote` (``demote_replication_master``): stop taking writes
  before a planned switchover (PostgreSQL stops the engine cleanly).
  :meth:`latest_txn_id` (``get_latest_txn_id``): an opaque position after
  which nothing was written.

Replica side
  :meth:`seed` (from ``prepare(snapshot=...)``, before the engine first
  starts): copies the source's data when the engine streams it directly
  (PostgreSQL's pg_basebackup); MariaDB's data came from ``backup_info``.
  :meth:`attach` (``attach_replica``, and at the end of such a prepare):
  follow the snapshot's source, read-only, and return once the stream is
  up (:class:`ReplicationError` with the engine's words otherwise). On an
  instance that was a source or followed another one, this re-points it
  without losing or repeating a transaction (PostgreSQL: pg_rewind).
  :meth:`wait_for_txn` (``wait_for_txn``): until the position a
  :meth:`latest_txn_id` gave is applied here.
  :meth:`last_txn` (``get_last_txn``): ``{'position', 'rank'}``; the
  replica with the highest ``rank`` is the most advanced (eject).
  :meth:`promote` (``enable_as_master``): stop following, writable.
  :meth:`detach` (``detach_replica``): stop following for good, writable
  (unless ``for_failover``); returns ``{'replica_id', 'user'}`` for the
  source's cleanup.

Both
  :meth:`status`: for the heartbeat, ``{'role', ...}`` (doc/
  replication-guest.md); None when the instance takes no part.
  :meth:`make_read_only` (``make_read_only``).

An engine subclass implements the hooks (``_grant``, ``_revoke``,
``_follow``, ``_stream_state``...); this class checks the arguments,
keeps the state file and waits.
"""
import ipaddress
import json
import os
import re
import secrets
import time

from oslo_log import log as logging

from trove_clone.common import engines
from trove_clone.common import exception
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides

LOG = logging.getLogger(__name__)

#: The state file, in the agent's directory.
STATE_FILE = 'replication.json'
#: The prefix of the replication accounts (and slots).
USER_PREFIX = 'os_repl_'
#: How long :meth:`Replication.attach` waits for the stream to be up.
ATTACH_TIMEOUT = 60.0
_INSTANCE_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9-]{0,63}$')


class ReplicationError(exception.TroveError):
    """Replication could not be set up or changed; the message has the
    engine's own words."""

    message_template = '%(reason)s'


def user_name(replica_id: str) -> str:
    """The account (and slot) name of the follower ``replica_id``.

    :raises exception.BadRequest: the id is not letters, digits, dashes
    """
    if not isinstance(replica_id, str) or \
            not _INSTANCE_ID.match(replica_id):
        raise exception.BadRequest('replica id %r is not an instance id'
                                   % (replica_id,))
    return USER_PREFIX + replica_id.replace('-', '').lower()


def source_address(address: str) -> str:
    """The address a follower at ``address`` connects from: itself,
    except on loopback, where the kernel gives every connection to a
    loopback address the source 127.0.0.1 (::1), whatever address the
    follower listens on (the local backend's servers)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        raise exception.BadRequest('replica address %r is not an IP '
                                   'address' % (address,))
    if parsed.is_loopback:
        return '::1' if parsed.version == 6 else '127.0.0.1'
    return str(parsed)


def state_path(engine: base.Lifecycle) -> str:
    return os.path.join(engine.agent_dir, STATE_FILE)


def load_state(engine: base.Lifecycle) -> dict:
    """The replication state of ``engine``'s volume (``{}`` when it
    takes no part)."""
    try:
        with open(state_path(engine)) as source:
            state = json.load(source)
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        LOG.error('The replication state %s is unreadable: %s',
                  state_path(engine), error)
        return {}
    return state if isinstance(state, dict) else {}


def save_state(engine: base.Lifecycle, state: dict) -> None:
    """Write the state file (0600, replaced atomically)."""
    os.makedirs(engine.agent_dir, mode=0o700, exist_ok=True)
    overrides.replace_file(state_path(engine),
                           json.dumps(state, sort_keys=True, indent=1), None)
    os.chmod(state_path(engine), 0o600)


def is_replica(engine: base.Lifecycle) -> bool:
    """Whether ``engine`` follows a source (its lifecycle renders a
    read-only configuration)."""
    return load_state(engine).get('role') == 'replica'


def wait(check, timeout: float, what: str, interval: float = 0.05):
    """Call ``check()`` until it returns something true (returned); on
    timeout raise ReplicationError naming ``what`` and the last
    ``check`` value's reason (``check`` may return ``(False, reason)``)."""
    deadline = time.monotonic() + timeout
    reason = ''
    while True:
        result = check()
        if isinstance(result, tuple):
            result, reason = result
        if result:
            return result
        if time.monotonic() >= deadline:
            raise ReplicationError(reason='%s did not happen in %d s%s' % (
                what, timeout, ': %s' % reason if reason else ''))
        time.sleep(interval)


def check_replica(replica) -> str:
    """The account name of the follower ``replica`` (``{'id',
    'address'}``), both checked.

    :raises exception.BadRequest: the id or the address is not one
    """
    if not isinstance(replica, dict) or not replica.get('address'):
        raise exception.BadRequest('the replica needs an id and an '
                                   'address')
    source_address(replica['address'])
    return user_name(replica.get('id'))


def require_master(snapshot: dict) -> dict:
    """The ``master`` of a snapshot, checked.

    :raises exception.BadRequest: a field is missing
    """
    master = (snapshot or {}).get('master') if isinstance(
        snapshot, dict) else None
    if not isinstance(master, dict):
        raise exception.BadRequest('the replication snapshot has no master')
    for name in ('host', 'port', 'user', 'password'):
        if not master.get(name):
            raise exception.BadRequest('the replication snapshot has no '
                                       'master %s' % name)
    return master


class Replication:
    """Replication of one engine.

    :param engine: the :class:`lifecycle.Lifecycle` of this server's engine
    """

    #: The datastore name used in messages.
    datastore: str = ''
    #: Whether a new replica is seeded from a fresh backup of the source
    #: (``backup_required_for_replication``).
    backup_required: bool = False
    #: How long :meth:`attach` waits for the stream.
    attach_timeout: float = ATTACH_TIMEOUT

    def __init__(self, engine: base.Lifecycle) -> None:
        self.engine = engine

    # --- state ---------------------------------------------------------

    def state(self) -> dict:
        return load_state(self.engine)

    def save(self, state: dict) -> None:
        save_state(self.engine, state)

    def not_supported(self) -> exception.DatastoreOperationNotSupported:
        return engines.not_supported('replication', self.datastore)

    # --- source side -----------------------------------------------------

    def context(self, replica: dict) -> dict:
        """Make (or reset) the account of the follower ``replica``
        (``{'id', 'address'}``) and return the snapshot it attaches with.

        :raises exception.BadRequest: ``replica`` is malformed
        """
        user = check_replica(replica)
        password = secrets.token_urlsafe(24)
        origin = source_address(replica['address'])
        extra = self._grant(user, password, origin) or {}
        state = self.state()
        state.setdefault('replicas', {})[replica['id']] = dict(
            address=replica['address'], source_address=origin, user=user,
            **extra)
        self.save(state)
        self._granted()
        master = {'host': self.engine.address, 'port': self.engine.port,
                  'user': user, 'password': password,
                  'replica_id': replica['id']}
        master.update(extra)
        snapshot = {'datastore': self.datastore, 'master': master}
        snapshot.update(self._context_extra())
        LOG.info('Replication account %s made for replica %s at %s.',
                 user, replica['id'], replica['address'])
        return snapshot

    def snapshot(self, replica: dict, backup: dict | None = None) -> dict:
        """:meth:`context` plus ``dataset``: the backup just taken (the
        result of the backup capability's create, with its ``id``) and
        its ``log_position``."""
        snapshot = self.context(replica)
        if backup:
            snapshot['dataset'] = dict(
                backup, log_position=self._backup_position(backup))
        return snapshot

    def cleanup(self, replica_info: dict) -> None:
        """Drop the account (and slot) of the follower
        ``replica_info['replica_id']`` (or ``'id'``); nothing when there
        is none."""
        replica_id = (replica_info or {}).get('replica_id') or \
            (replica_info or {}).get('id')
        user = user_name(replica_id)
        self._revoke(user)
        state = self.state()
        state.get('replicas', {}).pop(replica_id, None)
        self.save(state)
        self._granted()
        LOG.info('Replication account %s of replica %s dropped.', user,
                 replica_id)

    def demote(self) -> None:
        """Stop taking writes (a planned switchover begins)."""
        self.make_read_only(True)

    def latest_txn_id(self) -> str:
        """An opaque position: everything written here is before it."""
        raise self.not_supported()

    # --- replica side ----------------------------------------------------

    def seed(self, snapshot: dict) -> None:
        """Before the engine's first start: copy the source's data when
        the engine streams it directly (default: nothing, the data came
        from the snapshot's backup or comes with the first sync)."""
        require_master(snapshot)

    def attach(self, snapshot: dict, seeded: bool = False) -> None:
        """Follow the source of ``snapshot``, read-only, and return once
        the stream is up.

        :param seeded: the data was just restored or copied from the
            snapshot (the first attach of a new replica)
        :raises ReplicationError: the engine's words when it does not
            connect in :attr:`attach_timeout` seconds
        """
        master = require_master(snapshot)
        state = self.state()
        state.update(role='replica', source=master,
                     replica_id=master.get('replica_id'))
        self.save(state)
        try:
            self._follow(master, snapshot, seeded)
            wait(self._streaming, self.attach_timeout,
                 'replication from %s:%s' % (master['host'],
                                             master['port']))
        except Exception:
            # The state stays a replica's: the heartbeat shows the error.
            LOG.error('Attaching to %s:%s failed.', master['host'],
                      master['port'])
            raise
        LOG.info('Replicating from %s:%s.', master['host'], master['port'])

    def wait_for_txn(self, txn: str, timeout: float = 60.0) -> None:
        """Return once ``txn`` (from the source's latest_txn_id) is applied
        here; ReplicationError after ``timeout`` seconds."""
        wait(lambda: self._applied(txn), timeout,
             'applying the source\'s position %s' % txn)

    def last_txn(self) -> dict:
        """``{'position': str, 'rank': int}`` of what this replica
        received; higher rank, more advanced."""
        raise self.not_supported()

    def promote(self) -> None:
        """Stop following and take writes (``enable_as_master``)."""
        self._unfollow()
        state = self.state()
        for name in ('role', 'source', 'replica_id'):
            state.pop(name, None)
        self.save(state)
        self.make_read_only(False)
        LOG.info('Promoted: this instance takes writes.')

    def detach(self, for_failover: bool = False) -> dict:
        """Stop following for good; writable unless ``for_failover``.
        Returns ``{'replica_id', 'user'}`` for the source's cleanup."""
        state = self.state()
        info = {'replica_id': state.get('replica_id'),
                'user': (state.get('source') or {}).get('user')}
        self._unfollow()
        for name in ('role', 'source', 'replica_id'):
            state.pop(name, None)
        self.save(state)
        if not for_failover:
            self.make_read_only(False)
        return info

    def make_read_only(self, read_only: bool) -> None:
        """Refuse (True) or take again (False) the tenant's writes."""
        raise self.not_supported()

    # --- heartbeat -------------------------------------------------------

    def status(self) -> dict | None:
        """What the heartbeat reports (None: no part in replication)."""
        state = self.state()
        if state.get('role') == 'replica':
            source = state.get('source') or {}
            report = {'role': 'replica',
                      'source': {'host': source.get('host'),
                                 'port': source.get('port')},
                      'state': 'unknown', 'lag_seconds': None,
                      'lag_bytes': None, 'error': None}
            report.update(self._replica_status())
            return report
        if state.get('replicas'):
            return {'role': 'source',
                    'replicas': sorted(state['replicas']),
                    'connected': self._connected_replicas()}
        return None

    # --- hooks --------------------------------------------------------------

    def _grant(self, user: str, password: str, address: str) -> dict | None:
        """Make ``user`` (``password``) able to replicate from
        ``address``; may return extra fields for ``master``."""
        raise NotImplementedError

    def _granted(self) -> None:
        """The set of followers changed (rewrite access files)."""

    def _context_extra(self) -> dict:
        """More fields of a context (Redis: the tenant's users)."""
        return {}

    def _revoke(self, user: str) -> None:
        raise NotImplementedError

    def _backup_position(self, backup: dict) -> str | None:
        """The source's position the backup ``backup`` ends at."""
        return None

    def _follow(self, master: dict, snapshot: dict, seeded: bool) -> None:
        raise NotImplementedError

    def _streaming(self):
        """Whether the replica's stream is up: True, or (False, the
        engine's reason)."""
        raise NotImplementedError

    def _applied(self, txn: str):
        raise NotImplementedError

    def _unfollow(self) -> None:
        raise NotImplementedError

    def _replica_status(self) -> dict:
        """``state`` (streaming, connecting, stopped, error), ``lag_seconds``,
        ``lag_bytes``, ``error``."""
        return {}

    def _connected_replicas(self) -> int | None:
        return None
