"""The taskmanager's flows: create, delete, restart, reboot, resize,
rebuild.

Each flow is a few named steps, each with a deadline. The first failure
puts the instance in ERROR with a fault naming the step and the reason,
and undoes what the flow allocated: an instance never stays in BUILD. Flow
inputs are ids and small dicts, so a restarted taskmanager can pick an
instance up from the control database (see :func:`recover`).
"""
import concurrent.futures
import json
import time
from typing import Any, Callable

from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import notification
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.db import modules as db_modules
from trove_clone import drivers
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.services import modules as module_service

LOG = logging.getLogger(__name__)
GUEST_CONF = 'etc/trove/trove-guestagent.conf'
INSTANCE_TAG = 'trove_instance_id'
_READY = (statuses.HEALTHY, statuses.RUNNING)
_EXECUTOR = concurrent.futures.ThreadPoolExecutor(
    max_workers=16, thread_name_prefix='step')
#: Instances a flow of this taskmanager works on (recovery skips them).
_RUNNING: set[str] = set()
#: Seconds recovery waits for casts still queued for this taskmanager.
RECOVERY_GRACE = 3.0


class StepFailed(Exception):
    """A step of a flow failed; ``step`` names it."""

    def __init__(self, step: str, reason: str, details: str = '') -> None:
        super().__init__('%s: %s' % (step, reason))
        self.step = step
        self.reason = reason
        self.details = details or reason


def run_step(step: str, deadline: float, func: Callable[[], Any]) -> Any:
    """Run one step within ``deadline`` seconds; StepFailed otherwise."""
    started = time.monotonic()
    future = _EXECUTOR.submit(func)
    try:
        result = future.result(timeout=deadline)
        LOG.debug('Step %s took %.3f s.', step, time.monotonic() - started)
        return result
    except concurrent.futures.TimeoutError:
        raise StepFailed(step, 'did not finish within %d seconds'
                         % deadline)
    except exception.TroveError as error:
        raise StepFailed(step, error.message)
    except Exception as error:  # noqa: B902 - reported in the fault
        LOG.exception('Step %s failed.', step)
        raise StepFailed(step, '%s: %s' % (type(error).__name__, error))


def guest_for(row: dict, timeout: float | None = None
              ) -> guest_rpcapi.GuestAPI:
    key = None
    if row.get('encrypted_key'):
        key = secrets.unwrap_instance_key(row['encrypted_key'])
    return guest_rpcapi.GuestAPI(row['id'], timeout=timeout, key=key)


def _payload(row: dict, **extra) -> dict:
    payload = {'instance_id': row['id'], 'instance_name': row['name'],
               'tenant_id': row['tenant_id'],
               'flavor_id': row['flavor_id'],
               'volume_size': row['volume_size'],
               'datastore_version_id': row['datastore_version_id']}
    payload.update(extra)
    return payload


def guest_conf(row: dict, manager: str) -> str:
    """The guest agent's configuration file, injected into its server."""
    key = ''
    if row.get('encrypted_key'):
        key = secrets.unwrap_instance_key(row['encrypted_key'])
    lines = ['[DEFAULT]',
             'guest_id = %s' % row['id'],
             'transport_url = %s' % (CONF.guest_transport_url
                                     or CONF.transport_url),
             'rpc_clock_skew = %d' % CONF.rpc_clock_skew,
             'control_exchange = %s' % CONF.control_exchange,
             'guest_topic_prefix = %s' % CONF.guest_topic_prefix,
             'conductor_queue = %s' % CONF.conductor_queue,
             'agent_heartbeat_time = %d' % CONF.agent_heartbeat_time,
             'datastore_manager = %s' % manager,
             'debug = %s' % str(CONF.debug).lower(),
             'log_file = %s' % CONF.guest_log_file]
    if key:
        lines.append('instance_rpc_encr_key = %s' % key)
    return '\n'.join(lines) + '\n'


def wait_for_service(context, instance_id: str, deadline: float,
                     step: str = 'guest') -> dict:
    """Wait until the guest reports its database healthy.

    :raises: StepFailed when it reports a failure or the deadline passes
    """
    give_up = time.monotonic() + deadline
    while True:
        row = db_instances.get(context, instance_id)
        status = statuses.service_status(row['service_status'])
        if status in _READY:
            return row
        if status is statuses.FAILED:
            error = ''
            try:
                error = guest_for(row, 5).get_status(context)['error']
            except exception.TroveError as lookup_error:
                error = lookup_error.message
            raise StepFailed(step, 'the guest failed to prepare its '
                             'database', error or 'no details reported')
        if time.monotonic() > give_up:
            raise StepFailed(step, 'the guest did not report its database '
                             'healthy within %d seconds' % deadline)
        time.sleep(CONF.state_poll_interval)


# --- create ------------------------------------------------------------------

def create(context, instance_id: str, request: dict) -> None:
    """Build an instance: volume, server, guest prepare, wait healthy."""
    _RUNNING.add(instance_id)
    try:
        _create(context, instance_id, request)
    finally:
        _RUNNING.discard(instance_id)


def _create(context, instance_id: str, request: dict) -> None:
    row = db_instances.get(context, instance_id)
    if row['task_id'] != statuses.BUILDING.code or row['server_id']:
        LOG.warning('Instance %s is not waiting to be built; the create '
                    'request is dropped.', instance_id)
        return
    version = db_api.datastore_version_get(context,
                                           row['datastore_version_id'])
    notification.notify(context, 'dbaas.instance_create.start',
                        _payload(row))
    allocated: dict[str, str] = {}
    try:
        _build(context, row, version, request, allocated)
    except StepFailed as failure:
        _build_failed(context, row, failure, allocated)
        notification.notify(context, 'dbaas.instance_create.error',
                            _payload(row, message=str(failure)), error=True)
        return
    db_instances.set_task(context, instance_id, statuses.NONE,
                          expected_tasks=(statuses.BUILDING.code,))
    notification.notify(context, 'trove.instance.create', _payload(row))
    notification.notify(context, 'dbaas.instance_create.end', _payload(row))


def _build(context, row: dict, version: dict, request: dict,
           allocated: dict) -> None:
    instance_id = row['id']
    if row['volume_size']:
        volume = run_step('volume', CONF.volume_time_out, lambda: drivers.get(
            'volume').create(row['volume_size'], volume_name(instance_id)))
        allocated['volume'] = volume['id']
        db_instances.update(context, instance_id, {'volume_id': volume['id']})
    image_id = run_step('image', CONF.volume_time_out,
                        lambda: _image_of(version))
    run_step('guest queue', 30,
             lambda: guest_rpcapi.create_queue(instance_id))
    files = {GUEST_CONF: guest_conf(row, version['manager'])}
    server = run_step('server', CONF.server_time_out, lambda: drivers.get(
        'compute').create(row['name'], image_id, row['flavor_id'],
                          allocated.get('volume'), files,
                          metadata={INSTANCE_TAG: instance_id}))
    allocated['server'] = server['id']
    db_instances.update(context, instance_id, {
        'server_id': server['id'], 'server_status': 'ACTIVE',
        'addresses': json.dumps(server['addresses'])})
    modules = run_step('modules', 30, lambda: module_payloads(
        context, request.get('modules') or []))
    run_step('prepare', 30, lambda: guest_for(row).prepare(
        context, version['manager'], request.get('databases'),
        request.get('users'), modules))
    wait_for_service(context, instance_id, CONF.usage_timeout)
    if row['configuration_id']:
        restart = run_step('configuration', CONF.agent_call_high_timeout,
                           lambda: _apply_overrides(context, row['id']))
        if restart:
            run_step('restart', CONF.reboot_time_out,
                     lambda: guest_for(row).restart(context))


def module_payloads(context, references: list) -> list[dict]:
    """What the guest applies for module ids (or ``{'id': ...}``); a
    module deleted since the request is left out."""
    payloads = []
    for reference in references:
        module_id = reference['id'] if isinstance(reference, dict) \
            else reference
        try:
            module = db_modules.get(context, module_id)
        except exception.ModuleNotFound:
            LOG.warning('Module %s was deleted before it could be '
                        'applied.', module_id)
            continue
        payloads.append(module_service.payload(context, module))
    return payloads


def _image_of(version: dict) -> str:
    if version.get('image_id'):
        return drivers.get('image').get(version['image_id'])['id']
    tags = [tag for tag in (version.get('image_tags') or '').split(',')
            if tag]
    return drivers.get('image').find_by_tags(tags)['id']


def _build_failed(context, row: dict, failure: StepFailed,
                  allocated: dict) -> None:
    LOG.error('Building instance %s failed at %s.', row['id'], failure)
    task = {'volume': statuses.BUILDING_ERROR_VOLUME,
            'guest': statuses.BUILDING_ERROR_TIMEOUT_GA}.get(
        failure.step, statuses.BUILDING_ERROR_SERVER)
    db_instances.fail(
        context, row['id'], task, 'Building the instance failed at step '
        '%s: %s' % (failure.step, failure.reason), failure.details,
        server_status='ERROR', server_id=None, volume_id=None)
    _release(allocated)
    _release_untracked(row['id'])


def _release(allocated: dict) -> None:
    """Delete a server and volume a failed flow leaves behind."""
    if allocated.get('server'):
        try:
            drivers.get('compute').delete(allocated['server'])
        except exception.ServerNotFound:
            pass
        except Exception:  # noqa: B902 - logged; the volume goes next
            LOG.exception('Server %s was not deleted.', allocated['server'])
    if allocated.get('volume'):
        try:
            drivers.get('volume').delete(allocated['volume'])
        except exception.VolumeNotFound:
            pass
        except Exception:  # noqa: B902 - logged for the operator
            LOG.exception('Volume %s was not deleted.', allocated['volume'])


def _release_untracked(instance_id: str) -> None:
    """Delete what a build of the instance made but never recorded: a
    taskmanager killed between the cloud's answer and the database write
    leaves a server tagged with the instance or its named volume."""
    try:
        for server in drivers.get('compute').list():
            if server.get('metadata', {}).get(INSTANCE_TAG) == instance_id:
                LOG.warning('Deleting server %s of instance %s, which the '
                            'instance never recorded.', server['id'],
                            instance_id)
                _delete_server(server['id'])
        for volume in drivers.get('volume').list():
            if volume.get('name') == volume_name(instance_id):
                LOG.warning('Deleting volume %s of instance %s, which the '
                            'instance never recorded.', volume['id'],
                            instance_id)
                _delete_volume(volume['id'])
    except Exception:  # noqa: B902 - logged; the operator can clean up
        LOG.exception('Looking for servers and volumes instance %s left '
                      'behind failed.', instance_id)


def volume_name(instance_id: str) -> str:
    return 'trove-%s' % instance_id


# --- delete ------------------------------------------------------------------

def delete(context, instance_id: str) -> None:
    """Delete the server and the volume, then the instance and its quota
    use; a failure leaves the instance in ERROR with a fault, and the
    delete can be asked again."""
    row = db_instances.get(context, instance_id)
    notification.notify(context, 'dbaas.instance_delete.start',
                        _payload(row))
    try:
        if row['server_id']:
            run_step('server', CONF.server_time_out,
                     lambda: _delete_server(row['server_id']))
        if row['volume_id']:
            run_step('volume', CONF.volume_time_out,
                     lambda: _delete_volume(row['volume_id']))
    except StepFailed as failure:
        db_instances.fail(context, instance_id, statuses.NONE,
                          'Deleting the instance failed at step %s: %s'
                          % (failure.step, failure.reason),
                          failure.details, server_status='ERROR')
        notification.notify(context, 'dbaas.instance_delete.error',
                            _payload(row), error=True)
        return
    if not row['server_id'] or (row['volume_size'] and
                                not row['volume_id']):
        _release_untracked(instance_id)
    deleted = db_instances.mark_deleted(context, instance_id)
    db_modules.record_removed(context, instance_id)
    if deleted is not None:
        flavor_ram = _flavor_ram(row['flavor_id'])
        deltas = {'instances': 1, 'ram': flavor_ram}
        if row['volume_size']:
            deltas['volumes'] = row['volume_size']
        db_instances.release_quota(context, row['tenant_id'], deltas)
    notification.notify(context, 'trove.instance.delete', _payload(row))
    notification.notify(context, 'dbaas.instance_delete.end', _payload(row))


def _flavor_ram(flavor_id: str) -> int:
    try:
        return drivers.get('flavor').get(flavor_id)['ram']
    except exception.FlavorNotFound:
        return 0


def _delete_server(server_id: str) -> None:
    try:
        drivers.get('compute').delete(server_id)
    except exception.ServerNotFound:
        pass


def _delete_volume(volume_id: str) -> None:
    try:
        drivers.get('volume').delete(volume_id)
    except exception.VolumeNotFound:
        pass


# --- actions on a running instance -----------------------------------------

def _action(context, instance_id: str, name: str, deadline: float,
            work: Callable[[dict], None]) -> None:
    """Run ``work(row)`` then wait for the database; the task ends NONE
    either way, a failure adds a fault naming the step."""
    row = db_instances.get(context, instance_id)
    notification.notify(context, 'dbaas.instance_%s.start' % name,
                        _payload(row))
    try:
        work(row)
        wait_for_service(context, instance_id, deadline, step='wait')
    except StepFailed as failure:
        LOG.error('%s of instance %s failed at %s.', name, instance_id,
                  failure)
        db_instances.add_fault(context, instance_id, '%s failed at step '
                               '%s: %s' % (name.capitalize(), failure.step,
                                           failure.reason), failure.details)
        notification.notify(context, 'dbaas.instance_%s.error' % name,
                            _payload(row), error=True)
        return
    finally:
        db_instances.set_task(context, instance_id, statuses.NONE)
    notification.notify(context, 'dbaas.instance_%s.end' % name,
                        _payload(row))


def restart(context, instance_id: str) -> None:
    def work(row: dict) -> None:
        run_step('restart', CONF.reboot_time_out,
                 lambda: guest_for(row).restart(context))
    _action(context, instance_id, 'restart', CONF.reboot_time_out, work)


def reboot(context, instance_id: str) -> None:
    def work(row: dict) -> None:
        _stop_database(context, row)
        run_step('reboot', CONF.server_time_out,
                 lambda: drivers.get('compute').reboot(row['server_id']))
    _action(context, instance_id, 'reboot', CONF.reboot_time_out, work)


def _stop_database(context, row: dict) -> None:
    """Stop the database cleanly; a guest that does not answer is left to
    the server stop that follows."""
    try:
        run_step('stop database', CONF.agent_call_high_timeout,
                 lambda: guest_for(row).stop_db(context))
    except StepFailed as failure:
        LOG.warning('Instance %s: %s; going on.', row['id'], failure)


def resize_volume(context, instance_id: str, new_size: int) -> None:
    old_size = db_instances.get(context, instance_id)['volume_size']

    def work(row: dict) -> None:
        _stop_database(context, row)
        try:
            run_step('extend volume', CONF.volume_time_out,
                     lambda: drivers.get('volume').extend(row['volume_id'],
                                                          new_size))
        except StepFailed:
            db_instances.release_quota(context, row['tenant_id'], {
                'volumes': new_size - old_size})
            run_step('start database', CONF.agent_call_high_timeout,
                     lambda: guest_for(row).start_db(context))
            raise
        db_instances.update(context, instance_id, {'volume_size': new_size})
        run_step('start database', CONF.agent_call_high_timeout,
                 lambda: guest_for(row).start_db(context))
    _action(context, instance_id, 'resize_volume', CONF.resize_time_out,
            work)


def resize_flavor(context, instance_id: str, old_flavor: str,
                  new_flavor: str) -> None:
    def work(row: dict) -> None:
        _stop_database(context, row)
        run_step('resize server', CONF.server_time_out,
                 lambda: drivers.get('compute').resize(row['server_id'],
                                                       new_flavor))
        db_instances.update(context, instance_id, {'flavor_id': new_flavor})
        notification.notify(context, 'trove.instance.modify_flavor',
                            _payload(row, old_instance_size=old_flavor,
                                     flavor_id=new_flavor))
    _action(context, instance_id, 'resize_flavor', CONF.resize_time_out,
            work)


def rebuild(context, instance_id: str, image_id: str) -> None:
    def work(row: dict) -> None:
        _stop_database(context, row)
        run_step('rebuild', CONF.server_time_out,
                 lambda: drivers.get('compute').rebuild(row['server_id'],
                                                        image_id))
    _action(context, instance_id, 'rebuild', CONF.usage_timeout, work)


# --- upgrade ----------------------------------------------------------------

def _wait_for_agent(context, row: dict, deadline: float) -> None:
    """Wait until the (rebuilt) server's guest agent answers."""
    give_up = time.monotonic() + deadline
    guest = guest_for(row, timeout=2)
    while True:
        try:
            guest.ping(context)
            return
        except exception.TroveError:
            if time.monotonic() > give_up:
                raise
            time.sleep(CONF.state_poll_interval)


def upgrade(context, instance_id: str, datastore_version_id: str) -> None:
    """pre_upgrade on the old image, rebuild onto the new version's image
    (same volume, name and address), post_upgrade on the new one. A
    refusal in pre_upgrade leaves the instance as it was; a later failure
    leaves ERROR with a fault, the data volume kept."""
    row = db_instances.get(context, instance_id)
    version = db_api.datastore_version_get(context, datastore_version_id)
    payload = _payload(row, datastore_version_id=datastore_version_id)
    notification.notify(context, 'trove.upgrade.start', payload)
    try:
        image_id = run_step('image', CONF.volume_time_out,
                            lambda: _image_of(version))
        target = {'version': version['name'],
                  'version_number': version['version'],
                  'image_id': image_id}
        info = run_step('pre_upgrade', CONF.agent_call_high_timeout,
                        lambda: guest_for(row).pre_upgrade(context, target))
    except StepFailed as failure:
        db_instances.add_fault(context, instance_id, 'The upgrade to %s '
                               'was refused at step %s: %s; the instance '
                               'is unchanged.' % (version['name'],
                                                  failure.step,
                                                  failure.reason),
                               failure.details)
        db_instances.set_task(context, instance_id, statuses.NONE)
        notification.notify(context, 'trove.upgrade.error', payload,
                            error=True)
        return
    try:
        run_step('rebuild', CONF.server_time_out, lambda: drivers.get(
            'compute').rebuild(row['server_id'], image_id))
        _wait_for_agent(context, row, CONF.server_time_out)
        run_step('post_upgrade', CONF.usage_timeout,
                 lambda: guest_for(row).post_upgrade(context, info))
        wait_for_service(context, instance_id, CONF.usage_timeout,
                         step='post_upgrade')
    except (StepFailed, exception.TroveError) as failure:
        step = getattr(failure, 'step', 'rebuild')
        reason = getattr(failure, 'reason', None) or str(failure)
        LOG.error('Upgrading instance %s failed at %s: %s', instance_id,
                  step, reason)
        db_instances.fail(
            context, instance_id, statuses.BUILDING_ERROR_SERVER,
            'The upgrade to %s failed at step %s: '
            '%s' % (version['name'], step, reason)[:255],
            '%s\nThe data volume %s was kept.' % (
                getattr(failure, 'details', reason), row['volume_id']))
        notification.notify(context, 'trove.upgrade.error', payload,
                            error=True)
        return
    db_instances.update(context, instance_id,
                        {'datastore_version_id': datastore_version_id})
    db_instances.set_task(context, instance_id, statuses.NONE)
    notification.notify(context, 'trove.upgrade.end', payload)


# --- configuration groups -------------------------------------------------

def _apply_overrides(context, instance_id: str) -> bool:
    """Send the instance's group values to its guest, which applies the
    dynamic ones live; returns whether a changed value needs a restart."""
    row = db_instances.get(context, instance_id)
    values: dict = {}
    if row['configuration_id']:
        try:
            values = db_configurations.get(context,
                                           row['configuration_id'])['values']
        except exception.ConfigurationNotFound:
            values = {}
    rules = {rule['name']: rule for rule in db_api.config_parameter_list(
        context, row['datastore_version_id'])}
    dynamic = [name for name, rule in rules.items()
               if not rule['restart_required']]
    changed = guest_for(row).update_overrides(context, values, dynamic)
    return any(rules.get(name, {}).get('restart_required', True)
               for name in changed)


def apply_configuration(context, instance_id: str) -> None:
    """Apply an attached, changed or detached group; the instance shows
    RESTART_REQUIRED when a changed value takes effect only at restart."""
    try:
        restart = run_step('configuration', CONF.agent_call_high_timeout,
                           lambda: _apply_overrides(context, instance_id))
    except StepFailed as failure:
        LOG.error('Configuring instance %s failed: %s', instance_id,
                  failure)
        db_instances.add_fault(context, instance_id,
                               'Applying the configuration failed: %s'
                               % failure.reason, failure.details)
        return
    if restart:
        db_instances.set_task(context, instance_id,
                              statuses.RESTART_REQUIRED,
                              expected_tasks=(statuses.NONE.code,))


# --- a restarted taskmanager ---------------------------------------------

def recover() -> list[str]:
    """Finish or fail visibly what a stopped taskmanager left running;
    returns the ids of the instances it looked at."""
    context = trove_context.admin_context()
    seen: list[str] = []
    try:
        rows = db_instances.in_progress(context)
    except Exception:  # noqa: B902 - serve anyway; the operator sees why
        LOG.exception('Cannot look for unfinished work in the control '
                      'database.')
        return seen
    for row in rows:
        seen.append(row['id'])
        _EXECUTOR.submit(_recover_one, context, row)
    return seen


def _recover_one(context, row: dict) -> None:
    time.sleep(RECOVERY_GRACE)
    if row['id'] in _RUNNING:
        return
    try:
        row = db_instances.get(context, row['id'])
        task = statuses.task(row['task_id'])
        if task is statuses.NONE or task.is_error:
            return
        if task is statuses.DELETING:
            delete(context, row['id'])
        elif task is statuses.BUILDING:
            _recover_build(context, row)
        else:
            _recover_action(context, row, task)
    except Exception:  # noqa: B902 - one instance must not stop the rest
        LOG.exception('Recovering instance %s failed.', row['id'])


def _recover_build(context, row: dict) -> None:
    if not row['server_id']:
        failure = StepFailed('server', 'the taskmanager stopped before the '
                             'server was created')
        allocated = {'volume': row['volume_id']} if row['volume_id'] else {}
        _build_failed(context, row, failure, allocated)
        return
    started = row['task_start_time'] or db_api.now()
    left = CONF.usage_timeout - (db_api.now() - started).total_seconds()
    try:
        if statuses.service_status(row['service_status']) is statuses.NEW:
            raise StepFailed('prepare', 'the taskmanager stopped before '
                             'the guest was asked to prepare')
        wait_for_service(context, row['id'], max(left, 1))
    except StepFailed as failure:
        _build_failed(context, row, failure, {
            'server': row['server_id'], 'volume': row['volume_id']})
        return
    db_instances.set_task(context, row['id'], statuses.NONE,
                          expected_tasks=(statuses.BUILDING.code,))


def _recover_action(context, row: dict, task: statuses.Task) -> None:
    try:
        wait_for_service(context, row['id'], CONF.reboot_time_out, 'wait')
    except StepFailed as failure:
        message = ('The taskmanager stopped during %s and the database did '
                   'not come back: %s' % (task.name.lower(), failure.reason))
        db_instances.add_fault(context, row['id'], message, failure.details)
    db_instances.set_task(context, row['id'], statuses.NONE)


def expire_stale_builds() -> None:
    """Fail builds no flow finished well past their deadline (a create
    cast lost while the broker restarted, a flow of a dead taskmanager),
    so that no instance stays in BUILD for ever."""
    context = trove_context.admin_context()
    limit = CONF.usage_timeout + CONF.server_time_out
    for row in db_instances.in_progress(context):
        if row['task_id'] != statuses.BUILDING.code or \
                row['id'] in _RUNNING or not row['task_start_time']:
            continue
        age = (db_api.now() - row['task_start_time']).total_seconds()
        if age > limit:
            _build_failed(context, row, StepFailed(
                'deadline', 'the build did not finish within %d seconds'
                % limit), {'server': row['server_id'],
                           'volume': row['volume_id']})


def notify_exists() -> int:
    """Send trove.instance.exists for every instance (usage audits);
    returns how many were sent."""
    context = trove_context.admin_context()
    sent = 0
    for instance_id in db_instances.active_ids(context):
        try:
            row = db_instances.get(context, instance_id)
        except exception.InstanceNotFound:
            continue
        notification.notify(context, 'trove.instance.exists',
                            _payload(row, created_at=str(row['created'])))
        sent += 1
    return sent


def watch_servers() -> None:
    """Restart the guest agent of a server whose agent died (the local
    backend's servers are processes; a cloud's are not watched here)."""
    expire_stale_builds()
    if CONF.compute_driver != 'local':
        return
    context = trove_context.admin_context()
    compute = drivers.get('compute')
    for instance_id in db_instances.active_ids(context):
        row = db_instances.get(context, instance_id)
        if not row['server_id'] or row['task_id'] != statuses.NONE.code:
            continue
        try:
            server = compute.get(row['server_id'])
        except exception.ServerNotFound:
            continue
        # Only once the instance shows SHUTDOWN: its user sees what
        # happened, then sees it come back.
        silent = db_instances.heartbeat_age(row)
        if server['status'] == 'ERROR' and silent > \
                CONF.agent_heartbeat_expiry + CONF.server_watch_interval:
            LOG.warning('The guest agent of instance %s died: restarting '
                        'its server.', instance_id)
            compute.reboot(row['server_id'])
