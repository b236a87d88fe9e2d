"""Guest tasks: the guest's configuration, prepare, waiting for the
database, overrides, stop/start/restart, the flavor's sizes, upgrade."""
import json
import time

from oslo_log import log as logging
from taskflow.types import failure as tf_failure

from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.db import modules as db_modules
from trove_clone import drivers
from trove_clone.services import backups as backup_service
from trove_clone.services import modules as module_service
from trove_clone.services import pitr
from trove_clone.taskmanager.tasks import base

LOG = logging.getLogger(__name__)
GUEST_CONF = 'etc/trove/trove-guestagent.conf'


def guest_conf(row: dict, manager: str, volume_id: str | None = None
               ) -> str:
    """The guest agent's configuration file, injected into its server:
    its identity, its broker and what it runs on (the flavor's RAM and
    vCPUs, the volume's mount point), whatever the compute backend."""
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
    try:
        if row.get('flavor_id'):
            flavor = drivers.get('flavor').get(row['flavor_id'])
            lines += ['guest_ram_mb = %d' % flavor['ram'],
                      'guest_vcpus = %d' % flavor['vcpus']]
    except exception.FlavorNotFound:
        LOG.warning('Flavor %s of instance %s is gone: its guest keeps '
                    'its default sizes.', row['flavor_id'], row['id'])
    if volume_id:
        mountpoint = drivers.get('volume').get(volume_id).get('mountpoint')
        if mountpoint:
            lines.append('guest_volume = %s' % mountpoint)
    if key:
        lines.append('instance_rpc_encr_key = %s' % key)
    return '\n'.join(lines) + '\n'


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


def apply_overrides(context, instance_id: str) -> bool:
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
    changed = base.guest_for(row).update_overrides(context, values, dynamic)
    return any(rules.get(name, {}).get('restart_required', True)
               for name in changed)


class ModulePayloads(base.InstanceTask):
    step = 'modules'
    default_provides = 'modules'

    def execute(self, context, instance_id, request):
        context = base.context_of(context)
        return base.run_step(self.step, 30, lambda: module_payloads(
            context, request.get('modules') or []))


class Prepare(base.InstanceTask):
    """Ask the guest to prepare its database (once: a resumed flow whose
    guest already reported does not ask again)."""

    step = 'prepare'

    def execute(self, context, instance_id, request, modules):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        if statuses.service_status(row['service_status']) is not \
                statuses.NEW:
            LOG.info('Instance %s: its guest was asked to prepare '
                     'already.', instance_id)
            return
        version = db_api.datastore_version_get(context,
                                               row['datastore_version_id'])
        backup_info = None
        if request.get('backup_id'):
            backup_info = base.run_step(
                self.step, 30, lambda: backup_service.restore_info(
                    context, request['backup_id']))
            if request.get('restore_time'):
                backup_info['pitr'] = pitr.replay_info(
                    context, request['backup_id'], request['restore_time'])
        cidrs = allowed_cidrs(json.loads(row['access'] or 'null'))
        base.run_step(self.step, 30, lambda: base.guest_for(row).prepare(
            context, version['manager'], request.get('databases'),
            request.get('users'), modules, backup_info=backup_info,
            allowed_cidrs=cidrs,
            cluster_config=request.get('cluster_config')))


class WaitForService(base.InstanceTask):
    """Wait until the guest reports its database healthy."""

    def __init__(self, name: str, deadline_option: str,
                 step: str | None = None, **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.deadline_option = deadline_option
        self.step = step or name

    def execute(self, context, instance_id):
        base.wait_for_service(base.context_of(context), instance_id,
                              getattr(CONF, self.deadline_option),
                              step=self.step)


class ApplyConfiguration(base.InstanceTask):
    """Apply the instance's configuration group (at create); provides
    whether a changed value needs a restart."""

    step = 'configuration'
    default_provides = 'restart_needed'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        if not db_instances.get(context, instance_id)['configuration_id']:
            return False
        return base.run_step(self.step, CONF.agent_call_high_timeout,
                             lambda: apply_overrides(context, instance_id))


class RestartIfNeeded(base.InstanceTask):
    step = 'restart'

    def execute(self, context, instance_id, restart_needed):
        if not restart_needed:
            return
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        base.run_step(self.step, CONF.reboot_time_out,
                      lambda: base.guest_for(row).restart(context))


class RestartDatabase(base.InstanceTask):
    step = 'restart'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        base.run_step(self.step, CONF.reboot_time_out,
                      lambda: base.guest_for(row).restart(context))


def _start_database(context, instance_id: str) -> None:
    row = db_instances.get(context, instance_id)
    base.run_step('start database', CONF.agent_call_high_timeout,
                  lambda: base.guest_for(row).start_db(context))


class StopDatabase(base.InstanceTask):
    """Stop the database cleanly; a guest that does not answer is left to
    the server stop that follows. The revert starts it again:
    ``start_on_revert`` True (always), or the names of the tasks at
    whose failure it does. A flavor resize that failed once its server
    moved has the server moved back and rebooted, and the agent starts
    the database at its boot (a start_db then would race that boot); one
    that failed before left the database stopped on a server that still
    runs, and must start it."""

    step = 'stop database'

    def __init__(self, name: str | None = None,
                 start_on_revert: bool | tuple[str, ...] = True) -> None:
        super().__init__(name=name)
        self.start_on_revert = start_on_revert

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        try:
            base.run_step(self.step, CONF.agent_call_high_timeout,
                          lambda: base.guest_for(row).stop_db(context))
        except base.StepFailed as failure:
            LOG.warning('Instance %s: %s; going on.', instance_id, failure)

    def _starts(self, flow_failures: dict | None) -> bool:
        if isinstance(self.start_on_revert, bool):
            return self.start_on_revert
        return any(name in self.start_on_revert
                   for name in (flow_failures or {}))

    def revert(self, context, instance_id, result, flow_failures=None,
               **kwargs):
        if isinstance(result, tf_failure.Failure) or \
                not self._starts(flow_failures):
            return
        try:
            _start_database(base.context_of(context), instance_id)
        except base.StepFailed as failure:
            LOG.error('Instance %s: %s', instance_id, failure)


class StartDatabase(base.InstanceTask):
    step = 'start database'

    def execute(self, context, instance_id):
        _start_database(base.context_of(context), instance_id)


class UpdateFlavor(base.InstanceTask):
    """Tell the guest the sizes of its new flavor before the server moves
    to it (its configuration file keeps the old ones); the revert tells it
    the old ones. A guest too old to know the call keeps the sizes of its
    configuration file until it is rebuilt."""

    step = 'update flavor'

    def _send(self, context, instance_id: str, flavor_id: str) -> None:
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        flavor = drivers.get('flavor').get(flavor_id)
        try:
            base.run_step(self.step, CONF.agent_call_high_timeout,
                          lambda: base.guest_for(row).update_flavor(
                              context, flavor['ram'], flavor['vcpus']))
        except (base.StepFailed, AttributeError) as failure:
            LOG.warning('Instance %s: its guest did not take the sizes of '
                        'flavor %s: %s', instance_id, flavor_id, failure)

    def execute(self, context, instance_id, new_flavor):
        self._send(context, instance_id, new_flavor)

    def revert(self, context, instance_id, old_flavor, **kwargs):
        self._send(context, instance_id, old_flavor)


class PreUpgrade(base.InstanceTask):
    """Ask the guest whether it can be upgraded, and to get ready."""

    step = 'pre_upgrade'
    default_provides = 'upgrade_info'

    def execute(self, context, instance_id, datastore_version_id,
                image_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        version = db_api.datastore_version_get(context,
                                               datastore_version_id)
        target = {'version': version['name'],
                  'version_number': version['version'],
                  'image_id': image_id}
        return base.run_step(self.step, CONF.agent_call_high_timeout,
                             lambda: base.guest_for(row).pre_upgrade(
                                 context, target))


#: Guest statuses of an agent still starting (or bringing data over):
#: post_upgrade must not be asked before it has read its saved state.
BOOTING = ('new', 'building')


class WaitForAgent(base.InstanceTask):
    """Wait until the (rebuilt) server's guest agent answers and has
    booted (read its saved state; a post_upgrade asked by a flow before
    this one died has finished)."""

    step = 'rebuild'

    def __init__(self, name: str = 'agent', **kwargs) -> None:
        super().__init__(name=name, **kwargs)

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        give_up = time.monotonic() + CONF.server_time_out
        guest = base.guest_for(row, timeout=2)
        while True:
            try:
                guest.ping(context)
                if guest.get_status(context)['status'] not in BOOTING:
                    return
                if time.monotonic() > give_up:
                    raise base.StepFailed('rebuild', 'the guest agent did '
                                          'not finish starting')
            except exception.TroveError as error:
                if time.monotonic() > give_up:
                    raise base.StepFailed('rebuild', error.message)
            time.sleep(CONF.state_poll_interval)


class PostUpgrade(base.InstanceTask):
    step = 'post_upgrade'

    def execute(self, context, instance_id, upgrade_info):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        base.run_step(self.step, CONF.usage_timeout,
                      lambda: base.guest_for(row).post_upgrade(
                          context, upgrade_info))


def allowed_cidrs(access: dict | None) -> list[str]:
    """The CIDRs of an instance's ``access`` ([]: any address)."""
    return list((access or {}).get('allowed_cidrs') or [])


class AllowClients(base.InstanceTask):
    """Have the guest accept clients from the new CIDRs only; the revert
    gives it the old ones again."""

    step = 'guest access'

    def _apply(self, context, instance_id, access) -> None:
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        base.run_step(self.step, CONF.agent_call_high_timeout,
                      lambda: base.guest_for(row).update_access(
                          context, allowed_cidrs(access)))

    def execute(self, context, instance_id, new_access):
        self._apply(context, instance_id, new_access)

    def revert(self, context, instance_id, old_access, **kwargs):
        try:
            self._apply(context, instance_id, old_access)
        except base.StepFailed:
            LOG.exception('Instance %s: giving the guest its old allowed '
                          'CIDRs back failed.', instance_id)
