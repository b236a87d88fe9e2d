"""Client side of the guest agent RPC API (one topic per instance).

Version history:

* 1.0 - ping, get_version.
* 1.1 - prepare (cast), get_status, restart, stop_db.
* 1.2 - prepare takes databases, users and modules; start_db,
  get_filesystem_stats; users, databases and root: list_databases,
  create_databases, delete_database, list_users, get_user, create_users,
  delete_user, update_attributes, change_passwords, grant_access,
  revoke_access, list_access, enable_root, disable_root, is_root_enabled.
* 1.3 - update_overrides, get_configuration.
* 1.4 - pre_upgrade, post_upgrade.
* 1.5 - module_list, module_apply, module_remove.
* 1.6 - create_backup (cast); prepare takes backup_info (a restore).
* 2.0 - every call and cast of an agent with a key carries one argument,
  ``envelope``: the method, the instance id, the time, a time to live, a
  nonce, the context and the arguments, sealed with the instance's key
  (:mod:`trove_clone.common.envelope`). The agent refuses a message
  without a valid one, and no longer serves 1.x. Under a cap below 2.0
  the client speaks 1.x (arguments sealed one by one) to older agents.
* 2.1 - update_access; prepare takes allowed_cidrs.
* 2.2 - replication: backup_required_for_replication,
  get_replication_snapshot, get_replica_context, attach_replica,
  detach_replica, cleanup_source_on_replica_detach, enable_as_master,
  make_read_only, demote_replication_master, get_latest_txn_id,
  get_last_txn, wait_for_txn; prepare takes snapshot (a new replica).
  The order the taskmanager calls them in is in doc/replication-guest.md.
* 2.3 - clusters: cluster_status, cluster_join, cluster_rebalance,
  cluster_leave, cluster_forget; prepare takes cluster_config. The
  contract (arguments, results, order) is in doc/clusters.md.
* 2.4 - Galera: cluster_recovery_position, cluster_rebootstrap (a
  cluster stopped as a whole restarts from its most advanced member;
  doc/clusters-galera.md).
* 2.5 - guest_log_list, guest_log_action (Trove's names; each takes the
  ``request`` of capabilities/logs.py: storage options and settings).
"""
from oslo_config import cfg
import oslo_messaging

from trove_clone.common import exception
from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '2.5'
VERSION_ALIASES = {'2026.2': '1.1', '2027.1': '1.4', '2027.2': '2.0'}
#: Envelopes are sealed from this version on.
ENVELOPE_VERSION = '2.0'


#: Errors the guest raises from outside common.exception (whose classes
#: cross RPC as themselves), by class name, as the API answers them: an
#: engine's refusal is the request's fault (422), not the service's.
REMOTE_ERRORS = {
    'EngineError': exception.GuestEngineError,
    'TemplateError': exception.GuestEngineError,
    'UpgradeRefused': exception.GuestRequestRefused,
}
_REASON_LENGTH = 500


def remote_error(instance_id: str, method: str,
                 error: oslo_messaging.RemoteError) -> exception.TroveError:
    """The Trove error for a guest's :class:`RemoteError`: the mapped
    class of :data:`REMOTE_ERRORS` with the guest's message, or a
    GuestError naming the guest's exception class."""
    reason = (error.value or '').strip()[:_REASON_LENGTH]
    mapped = REMOTE_ERRORS.get(error.exc_type)
    if mapped is None:
        reason = '%s: %s' % (error.exc_type, reason)
        mapped = exception.GuestError
    return mapped(instance=instance_id, method=method, reason=reason)


def topic(instance_id: str) -> str:
    """The RPC topic of one instance's guest agent."""
    return '%s.%s' % (CONF.guest_topic_prefix, instance_id)


def create_queue(instance_id: str) -> None:
    """Declare the guest's queue before its agent runs, so that a cast
    sent before the agent starts waits there for it."""
    server = rpc.get_server(topic(instance_id), [], instance_id,
                            transport=rpc.get_guest_transport())
    server.start()
    server.stop()
    server.wait()


class GuestAPI:
    """Calls to the guest agent of one instance.

    Each method names the 1.x version it appeared in; since 2.0 they all
    go out as 2.0, sealed in an envelope.

    :param key: the instance's RPC key; envelopes and results are sealed
        with it (None: plain messages, for agents without a key)
    """

    def __init__(self, instance_id: str, timeout: float | None = None,
                 key: str | None = None) -> None:
        self.instance_id = instance_id
        cap = rpc.resolve_cap(CONF.upgrade_levels.guestagent,
                              VERSION_ALIASES)
        self.timeout = timeout or CONF.agent_call_low_timeout
        self.sealer = rpc.Sealer(key, instance_id) if key else None
        self.client = rpc.get_client(
            topic(instance_id), RPC_API_VERSION, version_cap=cap,
            server=instance_id, timeout=self.timeout, key=key,
            transport=rpc.get_guest_transport())

    def _prepared(self, context, method: str, version: str, ttl: float,
                  kwargs: dict, timeout: float | None = None):
        """(client, arguments) of one message: 2.0 (or ``version`` when
        it is a 2.x) and sealed unless the cap keeps the client at
        ``version`` (1.x)."""
        if self.client.can_send_version(ENVELOPE_VERSION):
            if not version.startswith('2.'):
                version = ENVELOPE_VERSION
            if self.sealer is not None:
                kwargs = self.sealer(context, method, ttl, kwargs)
        return self.client.prepare(version=version, timeout=timeout), kwargs

    def _call(self, context, method: str, version: str = '1.2',
              long: bool = False, **kwargs):
        timeout = max(self.timeout, CONF.agent_call_high_timeout) if long \
            else self.timeout
        client, kwargs = self._prepared(context, method, version, timeout,
                                        kwargs, timeout)
        try:
            return client.call(context, method, **kwargs)
        except oslo_messaging.MessagingTimeout:
            raise exception.GuestTimeout(instance=self.instance_id,
                                         method=method, timeout=timeout)
        except oslo_messaging.RemoteError as error:
            raise remote_error(self.instance_id, method, error) from error

    def ping(self, context) -> dict:
        """Whether the guest agent answers (since 1.0)."""
        return self._call(context, 'ping', '1.0')

    def get_version(self, context) -> str:
        """The guest agent's RPC API version (since 1.0)."""
        return self._call(context, 'get_version', '1.0')

    def prepare(self, context, manager: str, databases: list | None = None,
                users: list | None = None,
                modules: list | None = None,
                backup_info: dict | None = None,
                allowed_cidrs: list | None = None,
                snapshot: dict | None = None,
                cluster_config: dict | None = None) -> None:
        """Set the engine up, create ``databases`` and ``users``, start it
        (cast); progress arrives as heartbeats and through get_status.
        Since 1.1; databases, users and modules since 1.2; backup_info
        (restore this backup chain into the empty volume first) since
        1.6; allowed_cidrs (the client addresses the engine accepts)
        since 2.1; snapshot (a new replica: get_replication_snapshot's
        result; it is seeded, started and attached before it reports
        healthy) since 2.2; cluster_config (a cluster member: ``{'id',
        'role', 'secret'}``, doc/clusters.md) since 2.3."""
        kwargs = {'manager': manager}
        version = '1.1'
        if databases or users or modules or backup_info:
            version = '1.2'
            kwargs.update(databases=databases or [], users=users or [],
                          modules=modules or [])
        if backup_info:
            version = '1.6'
            kwargs['backup_info'] = backup_info
        if allowed_cidrs:
            version = '2.1'
            kwargs['allowed_cidrs'] = allowed_cidrs
        if snapshot:
            version = '2.2'
            kwargs.update(backup_info=backup_info, snapshot=snapshot,
                          allowed_cidrs=allowed_cidrs)
        if cluster_config:
            version = '2.3'
            kwargs.update(databases=databases or [], users=users or [],
                          modules=modules or [], backup_info=backup_info,
                          allowed_cidrs=allowed_cidrs,
                          cluster_config=cluster_config)
        client, kwargs = self._prepared(context, 'prepare', version,
                                        CONF.rpc_cast_ttl, kwargs)
        client.cast(context, 'prepare', **kwargs)

    def get_status(self, context) -> dict:
        """``{'status': ..., 'error': ...}``, health from a real query
        (since 1.1)."""
        return self._call(context, 'get_status', '1.1')

    def restart(self, context) -> None:
        """Stop and start the engine (since 1.1)."""
        self._call(context, 'restart', '1.1', long=True)

    def stop_db(self, context) -> None:
        """Stop the engine cleanly (since 1.1)."""
        self._call(context, 'stop_db', '1.1', long=True)

    def start_db(self, context) -> None:
        """Start the engine on its existing data (since 1.2)."""
        self._call(context, 'start_db', long=True)

    def get_filesystem_stats(self, context) -> dict:
        """``{'total', 'used', 'free'}`` of the data volume in GB (1.2)."""
        return self._call(context, 'get_filesystem_stats')

    def update_access(self, context, allowed_cidrs: list) -> None:
        """Let the engine accept clients from ``allowed_cidrs`` only ([]:
        from anywhere), now and at every start (since 2.1)."""
        self._call(context, 'update_access', '2.1',
                   allowed_cidrs=allowed_cidrs)

    # --- users, databases and root (since 1.2) ---------------------------
    def list_databases(self, context) -> list:
        return self._call(context, 'list_databases')

    def create_databases(self, context, databases: list) -> None:
        self._call(context, 'create_databases', databases=databases)

    def delete_database(self, context, name: str) -> None:
        self._call(context, 'delete_database', name=name)

    def list_users(self, context) -> list:
        return self._call(context, 'list_users')

    def get_user(self, context, name: str, host: str) -> dict:
        return self._call(context, 'get_user', name=name, host=host)

    def create_users(self, context, users: list) -> None:
        self._call(context, 'create_users', users=users)

    def delete_user(self, context, name: str, host: str) -> None:
        self._call(context, 'delete_user', name=name, host=host)

    def update_attributes(self, context, name: str, host: str,
                          attributes: dict) -> None:
        self._call(context, 'update_attributes', name=name, host=host,
                   attributes=attributes)

    def change_passwords(self, context, users: list) -> None:
        self._call(context, 'change_passwords', users=users)

    def grant_access(self, context, name: str, host: str,
                     databases: list) -> None:
        self._call(context, 'grant_access', name=name, host=host,
                   databases=databases)

    def revoke_access(self, context, name: str, host: str,
                      database: str) -> None:
        self._call(context, 'revoke_access', name=name, host=host,
                   database=database)

    def list_access(self, context, name: str, host: str) -> list:
        return self._call(context, 'list_access', name=name, host=host)

    def enable_root(self, context, password: str | None = None) -> dict:
        return self._call(context, 'enable_root', password=password)

    def disable_root(self, context) -> None:
        self._call(context, 'disable_root')

    def is_root_enabled(self, context) -> bool:
        return self._call(context, 'is_root_enabled')

    # --- configuration (since 1.3) ---------------------------------------
    def update_overrides(self, context, overrides: dict,
                         dynamic: list) -> list:
        """Make ``overrides`` the engine's configuration overrides (on the
        volume), apply the ``dynamic`` ones live (a dropped one goes back
        to the value it had before); returns the names that changed."""
        return self._call(context, 'update_overrides', '1.3', long=True,
                          overrides=overrides, dynamic=dynamic)

    def get_configuration(self, context) -> dict:
        """The configuration the engine's template rendered."""
        return self._call(context, 'get_configuration', '1.3')

    # --- upgrade (since 1.4) ----------------------------------------------
    def pre_upgrade(self, context, target: dict) -> dict:
        """Check the upgrade to ``target`` (``version``, ``engine_version``
        of the new image) can be done, stop the engine and keep what the
        new image needs on the volume; returns upgrade_info. Raises to
        refuse, the engine left running."""
        return self._call(context, 'pre_upgrade', '1.4', long=True,
                          target=target)

    def post_upgrade(self, context, upgrade_info: dict) -> None:
        """On the new image: bring the old data over and start the engine;
        on failure the old data is restored and the call raises."""
        self._call(context, 'post_upgrade', '1.4', long=True,
                   upgrade_info=upgrade_info)

    # --- modules (since 1.5) ----------------------------------------------
    def module_list(self, context, include_contents: bool = False) -> list:
        """The results of the modules applied to the instance and not
        removed, sorted by name: ``{'id', 'name', 'type', 'datastore',
        'datastore_version', 'tenant', 'md5', 'auto_apply', 'visible',
        'is_admin', 'status', 'message', 'created', 'updated',
        'removed'}``, plus ``contents`` when ``include_contents``."""
        return self._call(context, 'module_list', '1.5',
                          include_contents=include_contents)

    def module_apply(self, context, modules: list) -> list:
        """Apply the module payloads ``modules`` (priority_apply ones
        first, then by apply_order) and return their results in the order
        applied. A module that fails gets status ERROR and the others are
        still applied; the call raises only when the guest has no engine
        yet (UnprocessableEntity) or ``modules`` is not a list of dicts
        (BadRequest)."""
        return self._call(context, 'module_apply', '1.5', long=True,
                          modules=modules)

    def module_remove(self, context, module: dict) -> None:
        """Undo the module (payload ``module``) with its driver and stop
        listing it. Raises NotFound when it is not applied there and
        UnprocessableEntity when its driver cannot undo it."""
        self._call(context, 'module_remove', '1.5', long=True,
                   module=module)

    # --- guest logs (since 2.5) -------------------------------------------
    def guest_log_list(self, context, request: dict) -> list:
        """Every log of the engine as Trove shows one (name, type,
        status, published, pending, container, prefix, metafile);
        ``request``: see capabilities/logs.py."""
        return self._call(context, 'guest_log_list', '2.5',
                          request=request)

    def guest_log_action(self, context, request: dict, log_name: str,
                         enable: bool = False, disable: bool = False,
                         publish: bool = False,
                         discard: bool = False) -> dict:
        """Enable, disable, discard and/or publish the log ``log_name``
        and show it. Raises GuestLogNotFound, BadRequest,
        LogsNotAvailable, LogStorageUnavailable."""
        return self._call(context, 'guest_log_action', '2.5', long=True,
                          request=request, log_name=log_name,
                          enable=enable, disable=disable, publish=publish,
                          discard=discard)

    # --- backups (since 1.6) ----------------------------------------------
    def create_backup(self, context, backup_info: dict) -> None:
        """Take the backup ``backup_info`` describes (id, datastore,
        incremental parent, storage options, container, encryption key)
        while the engine runs, streaming it to the backup storage; the
        guest reports its progress and end to the conductor
        (update_backup). A cast."""
        client, kwargs = self._prepared(context, 'create_backup', '1.6',
                                        CONF.rpc_cast_ttl,
                                        {'backup_info': backup_info})
        client.cast(context, 'create_backup', **kwargs)

    # --- replication (since 2.2) ------------------------------------------
    def backup_required_for_replication(self, context) -> bool:
        """Whether a new replica is seeded from a backup of this source
        (MariaDB) rather than by the replica itself (PostgreSQL, Redis)."""
        return self._call(context, 'backup_required_for_replication', '2.2')

    def get_replication_snapshot(self, context, snapshot_info: dict,
                                 replica_source_config: dict | None = None
                                 ) -> dict:
        """On the source: the account of the new replica
        ``snapshot_info['replica']`` (``{'id', 'address'}``) and, with
        ``snapshot_info['backup_info']`` (create_backup's argument), that
        backup taken now; returns the snapshot for the replica's
        prepare."""
        return self._call(context, 'get_replication_snapshot', '2.2',
                          long=True, snapshot_info=snapshot_info,
                          replica_source_config=replica_source_config)

    def get_replica_context(self, context, replica_info: dict) -> dict:
        """On the source: (re)make the account of the follower
        ``replica_info`` (``{'id', 'address'}``); returns the snapshot
        attach_replica takes."""
        return self._call(context, 'get_replica_context', '2.2', long=True,
                          replica_info=replica_info)

    def attach_replica(self, context, replica_info: dict,
                       slave_config: dict | None = None,
                       restart: bool = False) -> None:
        """Follow the source of ``replica_info`` (a context or snapshot),
        read-only; returns once the stream is up."""
        self._call(context, 'attach_replica', '2.2', long=True,
                   replica_info=replica_info, slave_config=slave_config,
                   restart=restart)

    def detach_replica(self, context, for_failover: bool = False) -> dict:
        """Stop following; writable unless ``for_failover``. Returns
        ``{'replica_id', 'user'}`` for cleanup_source_on_replica_detach."""
        return self._call(context, 'detach_replica', '2.2', long=True,
                          for_failover=for_failover)

    def cleanup_source_on_replica_detach(self, context,
                                         replica_info: dict) -> None:
        """On the source: drop the account (and slot) of the follower
        ``replica_info['replica_id']``."""
        self._call(context, 'cleanup_source_on_replica_detach', '2.2',
                   long=True, replica_info=replica_info)

    def enable_as_master(self, context,
                         replica_source_config: dict | None = None) -> None:
        """Promote: stop following, take writes."""
        self._call(context, 'enable_as_master', '2.2', long=True,
                   replica_source_config=replica_source_config)

    def make_read_only(self, context, read_only: bool) -> None:
        """Refuse or take again the tenant's writes (MariaDB, Redis)."""
        self._call(context, 'make_read_only', '2.2', long=True,
                   read_only=read_only)

    def demote_replication_master(self, context) -> None:
        """On the source, a planned switchover begins: stop taking writes
        (PostgreSQL: the engine is stopped cleanly)."""
        self._call(context, 'demote_replication_master', '2.2', long=True)

    def get_latest_txn_id(self, context) -> str:
        """On the (demoted) source: the opaque position wait_for_txn
        takes."""
        return self._call(context, 'get_latest_txn_id', '2.2', long=True)

    def get_last_txn(self, context) -> dict:
        """On a replica: ``{'position', 'rank'}``, the highest rank being
        the most advanced replica."""
        return self._call(context, 'get_last_txn', '2.2', long=True)

    def wait_for_txn(self, context, txn: str, timeout: float = 60.0) -> None:
        """On a replica: return once ``txn`` is applied (raises after
        ``timeout`` seconds)."""
        self._call(context, 'wait_for_txn', '2.2', long=True, txn=txn,
                   timeout=timeout)

    # --- clusters (since 2.3; doc/clusters.md) ------------------------------
    def cluster_status(self, context) -> dict:
        """``{'state', 'members', 'node', ...}``: the engine's own view
        of the cluster; ``state`` is ``'ok'`` when it serves."""
        return self._call(context, 'cluster_status', '2.3')

    def cluster_join(self, context, members: list) -> dict:
        """Make every one of ``members`` (``{'id', 'address', 'role'}``)
        part of this member's cluster; returns cluster_status once each
        is known."""
        return self._call(context, 'cluster_join', '2.3', long=True,
                          members=members)

    def cluster_rebalance(self, context, members: list) -> dict:
        """Spread the data over ``members`` by their ``weight`` (0: none
        left there), moving it with no write lost; returns what moved."""
        return self._call(context, 'cluster_rebalance', '2.3', long=True,
                          members=members)

    def cluster_leave(self, context) -> None:
        """This member stops taking part (it holds no data any more)."""
        self._call(context, 'cluster_leave', '2.3', long=True)

    def cluster_forget(self, context, members: list) -> None:
        """The cluster forgets ``members`` (which have left)."""
        self._call(context, 'cluster_forget', '2.3', long=True,
                   members=members)

    # --- Galera: a cluster stopped as a whole (since 2.4) ------------------
    def cluster_recovery_position(self, context) -> dict:
        """On a member: ``{'uuid', 'seqno', 'safe_to_bootstrap',
        'running'}`` of its data (a stopped member reads its
        grastate.dat, after a crash its InnoDB logs), for
        services.cluster_topology.most_advanced."""
        return self._call(context, 'cluster_recovery_position', '2.4',
                          long=True)

    def cluster_rebootstrap(self, context) -> dict:
        """On the stopped member most_advanced chose: start it as the
        first member of the cluster with its own data; returns
        cluster_status once it serves (then start_db on the others, one
        at a time)."""
        return self._call(context, 'cluster_rebootstrap', '2.4', long=True)
