"""Server side of the guest agent RPC API (thin: log and delegate).

Service statuses use Trove's descriptions: ``new``, ``building``,
``healthy``, ``shutdown``, ``crashed``, ``failed to spawn``. The agent
tells the conductor at once when its status changes (the moment the engine
answers after a prepare, say) and every ``agent_heartbeat_time`` seconds
with the engine's real health.

An engine that exits on its own is reaped at once (lifecycle's watcher)
and the agent reports ``crashed`` with an ``engine_fault``: why it stopped
(its last log lines; a full data volume and how to grow it, see
failures.py). An engine that does not start at boot reports ``shutdown``
with such a fault. The fault goes with every heartbeat until the engine
runs again. An engine that runs on a full volume whose writes fail or wait
(its log says so) is reported with a fault too, while it stays healthy.
"""
import threading
import time

from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.conductor import rpcapi as conductor_rpcapi
from trove_clone.conf import CONF
from trove_clone.guestagent.capabilities import backup as backup_capability
from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores import loader
from trove_clone.guestagent import failures
from trove_clone.guestagent.modules import manager as module_manager
from trove_clone.guestagent import pitr
from trove_clone.guestagent import rpcapi
from trove_clone.guestagent import state

LOG = logging.getLogger(__name__)
FAILED = 'failed to spawn'
CRASHED = 'crashed'
#: Seconds an engine exit waits before it is reported: the signal that
#: stops the whole server (agent and engine) may reach the agent after the
#: engine has exited.
EXIT_GRACE = 0.5
#: From this use of its data volume on, the guest warns at every heartbeat.
VOLUME_WARNING_PERCENT = 90.0


def endpoint(agent: 'Manager'):
    """What serves ``agent`` over RPC: with the instance's key, an
    endpoint that opens each message's envelope and refuses (and logs)
    one without a valid envelope; without a key, the agent itself."""
    key = CONF.instance_rpc_encr_key
    if not key:
        LOG.warning('No instance_rpc_encr_key: guest RPC is not sealed and '
                    'anyone on the broker can send this agent commands.')
        return agent
    return rpc.SealedEndpoint(agent, key, agent.instance_id,
                              'trove-guestagent')


def _not_restored(accounts, databases: list, users: list) -> tuple:
    """After a restore, the request's databases and users the backup did
    not bring (a restore request names those of the backed-up instance,
    as Trove's tempest tests do). A user the backup has takes the
    request's password and access."""
    if databases:
        restored = {database['name'] for database in
                    accounts.list_databases()}
        databases = [database for database in databases
                     if database['name'] not in restored]
    if not users:
        return databases, users
    restored = {(user['name'], user.get('host') or '%')
                for user in accounts.list_users()}
    new = []
    for user in users:
        host = user.get('host') or '%'
        if (user['name'], host) not in restored:
            new.append(user)
            continue
        accounts.change_passwords([{'name': user['name'], 'host': host,
                                    'password': user['password']}])
        granted = [database['name'] for database in
                   user.get('databases') or []]
        if granted:
            accounts.grant_access(user['name'], host, granted)
    return databases, new


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, instance_id: str) -> None:
        self.instance_id = instance_id
        self.status = 'new'
        self.error: str | None = None
        #: Why the engine stopped (``{'message', 'details'}``), reported
        #: with each heartbeat while it does not run.
        self.fault: dict | None = None
        self.engine = None
        self.manager_name: str | None = None
        self._lock = threading.Lock()
        self._shutting_down = threading.Event()
        self._upgrade_lock = threading.Lock()
        self._conductor = None
        self._modules = module_manager.ModuleManager()
        #: The id of the backup being taken, None when none is.
        self._backup_id: str | None = None
        #: Ships the engine's logs (point-in-time recovery), or None.
        self._shipper: pitr.Shipper | None = None

    # --- reporting ---------------------------------------------------------

    def _health(self) -> str:
        status = self.status
        if status == 'healthy' and not self.engine.is_healthy():
            status = 'shutdown'
        return status

    def _conductor_api(self) -> conductor_rpcapi.ConductorAPI:
        if self._conductor is None:
            self._conductor = conductor_rpcapi.ConductorAPI(
                key=CONF.instance_rpc_encr_key or None)
        return self._conductor

    def _report(self) -> None:
        """Send a heartbeat with the engine's real health."""
        payload = {'service_status': self._health()}
        if self.error:
            payload['error'] = self.error[-2000:]
        used = state.volume_used_percent()
        fault = self.fault
        if used is not None:
            payload['volume_used_percent'] = used
            if used >= VOLUME_WARNING_PERCENT:
                LOG.warning('The data volume is %.0f%% full: resize the '
                            'volume before the database runs out of '
                            'space.', used)
            if fault is None and payload['service_status'] == 'healthy' \
                    and used >= failures.FULL_PERCENT:
                fault = failures.describe_full_volume(
                    self.instance_id, self.manager_name or '',
                    self.engine.engine_log_lines(), used,
                    self.engine.log_path)
        if fault:
            payload['engine_fault'] = fault
        if self._shipper is not None and self._shipper.until:
            payload['pitr_until'] = self._shipper.until
        replicating = self._replication_status()
        if replicating is not None:
            payload['replication'] = replicating
        self._conductor_api().heartbeat(trove_context.admin_context(),
                                        self.instance_id, payload,
                                        time.time())

    def _replication_status(self) -> dict | None:
        """The replication part of a heartbeat (None: the instance takes
        no part, or its engine does not answer)."""
        if self.engine is None or self.status != 'healthy':
            return None
        try:
            if not replication.load_state(self.engine):
                return None
            return self._capability('replication').status()
        except Exception as error:  # noqa: B902 - never fails a heartbeat
            LOG.warning('Replication status unavailable: %s', error)
            return {'state': 'unknown', 'error': str(error)[:500]}

    def _set_status(self, status: str, error: str | None = None,
                    fault: dict | None = None) -> None:
        self.status, self.error, self.fault = status, error, fault
        try:
            self._report()
        except Exception:  # noqa: B902 - the periodic heartbeat retries
            LOG.exception('Heartbeat after a status change failed.')

    # --- the RPC API -------------------------------------------------------

    def ping(self, context) -> dict:
        info = rpc.host_info('trove-guestagent', rpcapi.RPC_API_VERSION)
        info['instance_id'] = self.instance_id
        return info

    def get_version(self, context) -> str:
        return rpcapi.RPC_API_VERSION

    def prepare(self, context, manager: str, databases: list | None = None,
                users: list | None = None, modules: list | None = None,
                backup_info: dict | None = None,
                allowed_cidrs: list | None = None,
                snapshot: dict | None = None,
                cluster_config: dict | None = None) -> None:
        with self._lock:
            if self.status not in ('new', FAILED):
                LOG.warning('prepare ignored: the guest is %s', self.status)
                return
            self.status, self.error = 'building', None
        threading.Thread(target=self._prepare, args=(
            manager, databases or [], users or [], modules or [],
            backup_info, allowed_cidrs or [], snapshot, cluster_config),
            name='prepare',
            daemon=True).start()

    def _prepare(self, manager: str, databases: list, users: list,
                 modules: list, backup_info: dict | None = None,
                 allowed_cidrs: list | None = None,
                 snapshot: dict | None = None,
                 cluster_config: dict | None = None) -> None:
        self._set_status('building')
        try:
            self._load_engine(manager)
            # Kept before the first start, so that the engine's socket is
            # filtered from the moment it listens.
            self.engine.update_access(allowed_cidrs or [])
            if backup_info:
                # Into the empty volume, before the engine first starts.
                self._capability('backup').restore(backup_info)
                if backup_info.get('pitr'):
                    self._capability('pitr').replay_to(backup_info)
            if snapshot:
                self._capability('replication').seed(snapshot)
            if cluster_config:
                # Before the first start: the engine starts as a member.
                self._capability('cluster').configure(cluster_config)
            self.engine.prepare()
            if snapshot:
                # A replica: its users and databases are the source's.
                self._capability('replication').attach(snapshot,
                                                       seeded=True)
                databases = users = []
            if databases or users:
                accounts = self._capability('accounts')
                if backup_info:
                    databases, users = _not_restored(accounts, databases,
                                                     users)
                if databases:
                    accounts.create_databases(databases)
                if users:
                    accounts.create_users(users)
            state.save(manager)
        except exception.TroveError as error:
            LOG.error('prepare failed: %s', error.message)
            self._set_status(FAILED, error.message)
            return
        except Exception as error:  # noqa: B902 - reported, not raised
            LOG.exception('prepare failed')
            self._set_status(FAILED, '%s: %s' % (type(error).__name__,
                                                 error))
            return
        LOG.info('The %s engine is ready.', manager)
        self._apply_prepare_modules(modules)
        self._set_status('healthy')

    def _apply_prepare_modules(self, modules: list) -> None:
        """Apply the modules prepare was given, before the guest says it
        is healthy; a module that fails says so in its result and never
        fails the prepare."""
        if not modules:
            return
        try:
            self._modules.apply(modules, self.engine)
        except Exception:  # noqa: B902 - modules never fail the prepare
            LOG.exception('Applying the modules of prepare failed.')

    def _boot(self) -> None:
        """At agent start: start an engine prepared before (reboot,
        resize, rebuild, a restarted agent) and report."""
        prepared = state.load()
        if prepared is None:
            self._set_status('new')
            return
        self.status = 'building'
        try:
            self._load_engine(prepared['manager'])
            if prepared.get('upgrade_pending'):
                # The new image's engine starts in post_upgrade, once the
                # old data has been brought over.
                self._set_status('shutdown')
                return
            self.engine.start()
            if pitr.load_settings(self.engine):
                self._shipper = pitr.resume(self._capability('pitr'))
        except Exception as error:  # noqa: B902 - reported, not raised
            LOG.exception('Starting the engine at boot failed.')
            self._set_status('shutdown', str(error),
                             self._engine_fault(None))
            return
        self._set_status('healthy')

    def _load_engine(self, manager: str) -> None:
        """Make ``manager``'s lifecycle the engine, its unexpected exits
        reported by :meth:`_engine_exited`."""
        self.engine = loader.lifecycle(manager)
        self.manager_name = manager
        self.engine.on_unexpected_exit = self._engine_exited

    def _engine_fault(self, returncode: int | None) -> dict | None:
        """Why the engine stopped (failures.describe), None without an
        engine."""
        if self.engine is None:
            return None
        return failures.describe(
            self.instance_id, self.manager_name or '', returncode,
            self.engine.engine_log_lines(), state.volume_used_percent(),
            self.engine.log_path)

    def _engine_exited(self, returncode: int) -> None:
        """The engine exited on its own (it was reaped): when it was
        serving, report ``crashed`` and why. An engine that dies while it
        starts is reported by whoever started it; one that stops with the
        agent's server is not reported."""
        if self._shutting_down.wait(EXIT_GRACE) or self.status != 'healthy':
            return
        fault = self._engine_fault(returncode)
        LOG.error('%s\n%s', fault['message'], fault['details'])
        self._set_status(CRASHED, fault['message'], fault)

    def get_status(self, context) -> dict:
        return {'status': self._health() if self.engine else self.status,
                'error': self.error}

    def restart(self, context) -> None:
        self._require_engine().stop()
        self.engine.start()
        self._set_status('healthy')

    def stop_db(self, context) -> None:
        self._require_engine().stop()
        self._set_status('shutdown')

    def start_db(self, context) -> None:
        engine = self._require_engine()
        if not engine.is_running():
            engine.start()
        self._set_status('healthy')

    def get_filesystem_stats(self, context) -> dict:
        return state.filesystem_stats()

    def update_access(self, context, allowed_cidrs: list) -> None:
        LOG.info('Allowing clients from %s.', allowed_cidrs or 'anywhere')
        self._require_engine().update_access(allowed_cidrs)

    def _require_engine(self):
        if self.engine is None:
            raise exception.UnprocessableEntity(
                'The guest has no engine yet: prepare it first.')
        return self.engine

    def _capability(self, name: str):
        """The ``name`` capability of the prepared engine; Trove's
        not-supported error when its engine has none
        (:func:`loader.capability`)."""
        return loader.capability(name, self.manager_name,
                                 self._require_engine())

    # --- configuration ----------------------------------------------------

    def update_overrides(self, context, overrides: dict,
                         dynamic: list) -> list:
        return self._capability('overrides').update(overrides, dynamic)

    def get_configuration(self, context) -> dict:
        return self._capability('overrides').defaults()

    # --- upgrade ------------------------------------------------------------

    def pre_upgrade(self, context, target: dict) -> dict:
        info = self._capability('upgrade').pre_upgrade(target)
        state.save(self.manager_name, upgrade_pending=True)
        self._set_status('shutdown')
        return info

    def post_upgrade(self, context, upgrade_info: dict) -> None:
        """Bring the saved data over to this image's engine, once: asked
        again (a taskmanager resumed the upgrade after dying during this
        call), it waits for the first call and then does nothing."""
        with self._upgrade_lock:
            prepared = state.load() or {}
            if not prepared.get('upgrade_pending') and \
                    self.status == 'healthy':
                LOG.info('post_upgrade asked again after it finished: '
                         'nothing to do.')
                return
            self._post_upgrade(upgrade_info)

    def _post_upgrade(self, upgrade_info: dict) -> None:
        self._load_engine(self.manager_name)
        self._set_status('building')
        try:
            self._capability('upgrade').post_upgrade(upgrade_info)
        except Exception as error:  # noqa: B902 - reported, then raised
            self._set_status(FAILED, str(error))
            raise
        state.save(self.manager_name)
        self._set_status('healthy')

    # --- modules -------------------------------------------------------------

    def module_list(self, context, include_contents: bool = False) -> list:
        return self._modules.results(include_contents)

    def module_apply(self, context, modules: list) -> list:
        LOG.info('Applying %d module(s).', len(modules or []))
        return self._modules.apply(modules, self._require_engine())

    def module_remove(self, context, module: dict) -> None:
        LOG.info('Removing module %s.', (module or {}).get('id'))
        self._modules.remove(module, self._require_engine())

    # --- guest logs (capabilities/logs.py) ---------------------------------

    def guest_log_list(self, context, request: dict) -> list:
        return self._capability('logs').list(self._log_request(request))

    def guest_log_action(self, context, request: dict, log_name: str,
                         enable: bool = False, disable: bool = False,
                         publish: bool = False,
                         discard: bool = False) -> dict:
        LOG.info('Log %s: enable %s, disable %s, publish %s, discard %s.',
                 log_name, enable, disable, publish, discard)
        return self._capability('logs').action(
            self._log_request(request), log_name, enable=enable,
            disable=disable, publish=publish, discard=discard)

    def _log_request(self, request: dict) -> dict:
        # The objects' prefix names this instance and its manager, as
        # Trove's (guest_id, datastore_manager): never the caller's word.
        return dict(request or {}, instance_id=self.instance_id,
                    datastore=self.manager_name)

    # --- users, databases and root ----------------------------------------

    def list_databases(self, context) -> list:
        return self._capability('accounts').list_databases()

    def create_databases(self, context, databases: list) -> None:
        self._capability('accounts').create_databases(databases)

    def delete_database(self, context, name: str) -> None:
        self._capability('accounts').delete_database(name)

    def list_users(self, context) -> list:
        return self._capability('accounts').list_users()

    def get_user(self, context, name: str, host: str) -> dict:
        return self._capability('accounts').get_user(name, host)

    def create_users(self, context, users: list) -> None:
        self._capability('accounts').create_users(users)

    def delete_user(self, context, name: str, host: str) -> None:
        self._capability('accounts').delete_user(name, host)

    def update_attributes(self, context, name: str, host: str,
                          attributes: dict) -> None:
        self._capability('accounts').update_attributes(name, host, attributes)

    def change_passwords(self, context, users: list) -> None:
        self._capability('accounts').change_passwords(users)

    def grant_access(self, context, name: str, host: str,
                     databases: list) -> None:
        self._capability('accounts').grant_access(name, host, databases)

    def revoke_access(self, context, name: str, host: str,
                      database: str) -> None:
        self._capability('accounts').revoke_access(name, host, database)

    def list_access(self, context, name: str, host: str) -> list:
        return self._capability('accounts').list_access(name, host)

    def enable_root(self, context, password: str | None = None) -> dict:
        return self._capability('accounts').enable_root(password)

    def disable_root(self, context) -> None:
        self._capability('accounts').disable_root()

    def is_root_enabled(self, context) -> bool:
        return self._capability('accounts').is_root_enabled()

    # --- backups -----------------------------------------------------------

    def create_backup(self, context, backup_info: dict) -> None:
        """Take the backup ``backup_info`` describes in a thread (the
        agent goes on answering and sending heartbeats), one at a time;
        its progress and end go to the conductor (update_backup)."""
        backup_id = (backup_info or {}).get('id')
        with self._lock:
            running = self._backup_id
            if running is None:
                self._backup_id = backup_id
        if running is not None:
            LOG.warning('Backup %s refused: backup %s is running.',
                        backup_id, running)
            self._report_backup(backup_id, {
                'state': 'FAILED', 'reason': 'Another backup (%s) of the '
                'instance is running.' % running})
            return
        threading.Thread(target=self._create_backup, args=(backup_info,),
                         name='backup', daemon=True).start()

    def _create_backup(self, backup_info: dict) -> None:
        backup_id = backup_info.get('id')
        try:
            self._report_backup(backup_id, {'state': 'BUILDING'})
            LOG.info('Taking backup %s.', backup_id)
            if backup_info.get('pitr') and not backup_info.get('incremental'):
                # Before the base backup: every log after it is shipped.
                self._shipper = pitr.start_shipping(
                    self._capability('pitr'), backup_info, self._shipper)
            result = self._capability('backup').create(backup_info)
            pitr.stamp(result, backup_info, self._shipper)
            self._report_backup(backup_id, dict(result, state='COMPLETED'))
        except exception.TroveError as error:
            LOG.error('Backup %s failed: %s', backup_id, error.message)
            self._report_backup(backup_id, {
                'state': 'FAILED',
                'reason': backup_capability.one_line(error.message)})
        except Exception as error:  # noqa: B902 - reported, not raised
            LOG.exception('Backup %s failed.', backup_id)
            self._report_backup(backup_id, {
                'state': 'FAILED', 'reason': backup_capability.one_line(
                    '%s: %s' % (type(error).__name__, error))})
        finally:
            with self._lock:
                self._backup_id = None

    def _report_backup(self, backup_id: str, payload: dict) -> None:
        try:
            self._conductor_api().update_backup(
                trove_context.admin_context(), self.instance_id, backup_id,
                payload, time.time())
        except Exception:  # noqa: B902 - the taskmanager times out
            LOG.exception('Reporting backup %s (%s) failed.', backup_id,
                          payload.get('state'))

    # --- replication ---------------------------------------------------------

    def backup_required_for_replication(self, context) -> bool:
        return self._capability('replication').backup_required

    def get_replication_snapshot(self, context, snapshot_info: dict,
                                 replica_source_config: dict | None = None
                                 ) -> dict:
        """Make the account of ``snapshot_info['replica']`` and, when
        ``snapshot_info['backup_info']`` is given, take that backup now
        (reported to the conductor like create_backup's)."""
        info = snapshot_info or {}
        capability = self._capability('replication')
        # Checked before a backup is taken for nothing.
        replication.check_replica(info.get('replica'))
        backup = None
        if info.get('backup_info'):
            backup = self._snapshot_backup(info['backup_info'])
        return capability.snapshot(info.get('replica') or {}, backup)

    def _snapshot_backup(self, backup_info: dict) -> dict:
        backup_id = backup_info.get('id')
        with self._lock:
            running = self._backup_id
            if running is None:
                self._backup_id = backup_id
        if running is not None:
            raise exception.UnprocessableEntity(
                'Another backup (%s) of the instance is running.' % running)
        try:
            self._report_backup(backup_id, {'state': 'BUILDING'})
            try:
                result = self._capability('backup').create(backup_info)
            except Exception as error:  # noqa: B902 - reported, re-raised
                self._report_backup(backup_id, {
                    'state': 'FAILED', 'reason': backup_capability.one_line(
                        getattr(error, 'message', None) or str(error))})
                raise
            self._report_backup(backup_id, dict(result, state='COMPLETED'))
        finally:
            with self._lock:
                self._backup_id = None
        return dict(result, id=backup_id)

    def get_replica_context(self, context, replica_info: dict) -> dict:
        return self._capability('replication').context(replica_info)

    def attach_replica(self, context, replica_info: dict,
                       slave_config: dict | None = None,
                       restart: bool = False) -> None:
        LOG.info('Attaching to %s.', (replica_info or {}).get(
            'master', {}).get('host'))
        self._capability('replication').attach(replica_info)
        self._set_status('healthy')

    def detach_replica(self, context, for_failover: bool = False) -> dict:
        return self._capability('replication').detach(for_failover)

    def cleanup_source_on_replica_detach(self, context,
                                         replica_info: dict) -> None:
        self._capability('replication').cleanup(replica_info)

    def enable_as_master(self, context,
                         replica_source_config: dict | None = None) -> None:
        self._capability('replication').promote()

    def make_read_only(self, context, read_only: bool) -> None:
        self._capability('replication').make_read_only(read_only)

    def demote_replication_master(self, context) -> None:
        self._capability('replication').demote()

    def get_latest_txn_id(self, context) -> str:
        return self._capability('replication').latest_txn_id()

    def get_last_txn(self, context) -> dict:
        return self._capability('replication').last_txn()

    def wait_for_txn(self, context, txn: str,
                     timeout: float = 60.0) -> None:
        self._capability('replication').wait_for_txn(txn, timeout)

    # --- clusters (doc/clusters.md) ------------------------------------------

    def cluster_status(self, context) -> dict:
        return self._capability('cluster').status()

    def cluster_join(self, context, members: list) -> dict:
        return self._capability('cluster').join(members)

    def cluster_rebalance(self, context, members: list) -> dict:
        return self._capability('cluster').rebalance(members)

    def cluster_leave(self, context) -> None:
        self._capability('cluster').leave()

    def cluster_forget(self, context, members: list) -> None:
        self._capability('cluster').forget(members)

    def cluster_recovery_position(self, context) -> dict:
        return self._capability('cluster').recovery_position()

    def cluster_rebootstrap(self, context) -> dict:
        status = self._capability('cluster').rebootstrap()
        self._set_status('healthy')
        return status


def boot(agent: Manager) -> None:
    """Start the engine an earlier prepare left on the volume, if any."""
    agent._boot()


def report(agent: Manager) -> None:
    """One periodic heartbeat."""
    agent._report()


def shutting_down(agent: Manager) -> None:
    """The agent was asked to stop (its server stops): its engine, which
    got the same signal, does not count as crashed."""
    agent._shutting_down.set()
