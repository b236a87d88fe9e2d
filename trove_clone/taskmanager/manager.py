"""Server side of the taskmanager RPC API (thin: log and delegate).

Casts return at once; each flow runs in its own thread so that one slow
instance does not hold the others up.
"""
import threading

from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import envelope
from trove_clone.common import rpc
from trove_clone.conf import CONF
from trove_clone.taskmanager import flows
from trove_clone.taskmanager import module_flows
from trove_clone.taskmanager import rpcapi

LOG = logging.getLogger(__name__)


def _in_thread(name: str, func, *args) -> None:
    threading.Thread(target=func, args=args, name=name, daemon=True).start()


def endpoint(manager: 'Manager') -> rpc.SealedEndpoint:
    """What serves ``manager`` over RPC: an endpoint that opens each
    message's envelope, sealed with the deployment's key, and refuses (and
    logs) a message without a valid one."""
    return rpc.SealedEndpoint(manager, envelope.deployment_key(),
                              CONF.taskmanager_queue, 'trove-taskmanager')


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def ping(self, context) -> dict:
        return rpc.host_info('trove-taskmanager', rpcapi.RPC_API_VERSION)

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None:
        LOG.info('Creating instance %s.', instance_id)
        _in_thread('create-%s' % instance_id, flows.create, context,
                   instance_id, request)

    def delete_instance(self, context, instance_id: str) -> None:
        LOG.info('Deleting instance %s.', instance_id)
        _in_thread('delete-%s' % instance_id, flows.delete, context,
                   instance_id)

    def restart(self, context, instance_id: str) -> None:
        LOG.info('Restarting the database of instance %s.', instance_id)
        _in_thread('restart-%s' % instance_id, flows.restart, context,
                   instance_id)

    def reboot(self, context, instance_id: str) -> None:
        LOG.info('Rebooting instance %s.', instance_id)
        _in_thread('reboot-%s' % instance_id, flows.reboot, context,
                   instance_id)

    def resize_volume(self, context, instance_id: str,
                      new_size: int) -> None:
        LOG.info('Resizing the volume of instance %s to %d GB.',
                 instance_id, new_size)
        _in_thread('resize-volume-%s' % instance_id, flows.resize_volume,
                   context, instance_id, new_size)

    def resize_flavor(self, context, instance_id: str, old_flavor: str,
                      new_flavor: str) -> None:
        LOG.info('Resizing instance %s from flavor %s to %s.', instance_id,
                 old_flavor, new_flavor)
        _in_thread('resize-flavor-%s' % instance_id, flows.resize_flavor,
                   context, instance_id, old_flavor, new_flavor)

    def rebuild(self, context, instance_id: str, image_id: str) -> None:
        LOG.info('Rebuilding instance %s from image %s.', instance_id,
                 image_id)
        _in_thread('rebuild-%s' % instance_id, flows.rebuild, context,
                   instance_id, image_id)

    def apply_configuration(self, context, instance_id: str) -> None:
        LOG.info('Applying the configuration of instance %s.', instance_id)
        _in_thread('configure-%s' % instance_id, flows.apply_configuration,
                   context, instance_id)

    def upgrade(self, context, instance_id: str,
                datastore_version_id: str) -> None:
        LOG.info('Upgrading instance %s to datastore version %s.',
                 instance_id, datastore_version_id)
        _in_thread('upgrade-%s' % instance_id, flows.upgrade, context,
                   instance_id, datastore_version_id)

    def reapply_module(self, context, module_id: str, md5: str | None,
                       include_clustered: bool, batch_size: int,
                       batch_delay: int, force: bool) -> None:
        LOG.info('Reapplying module %s.', module_id)
        _in_thread('reapply-%s' % module_id, module_flows.reapply, context,
                   module_id, md5, include_clustered, batch_size,
                   batch_delay, force)
