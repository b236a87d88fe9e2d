"""Server side of the taskmanager RPC API (thin: log and submit a flow).

Casts return at once: each is saved as a flow (trove_clone.taskmanager.
jobs) and run by this taskmanager or, with a jobboard, by whichever
taskmanager claims it.
"""
from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import envelope
from trove_clone.common import rpc
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone.taskmanager import flows  # noqa: F401 - the package
from trove_clone.taskmanager.flows import access
from trove_clone.taskmanager.flows import actions
from trove_clone.taskmanager.flows import backup
from trove_clone.taskmanager.flows import cluster
from trove_clone.taskmanager.flows import configuration
from trove_clone.taskmanager.flows import create
from trove_clone.taskmanager.flows import delete
from trove_clone.taskmanager.flows import modules
from trove_clone.taskmanager.flows import replication
from trove_clone.taskmanager.flows import resize
from trove_clone.taskmanager.flows import upgrade
from trove_clone.taskmanager import cluster_plan
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager import rpcapi

LOG = logging.getLogger(__name__)


def endpoint(manager: 'Manager') -> rpc.SealedEndpoint:
    """What serves ``manager`` over RPC: an endpoint that opens each
    message's envelope, sealed with the deployment's key, and refuses (and
    logs) a message without a valid one."""
    return rpc.SealedEndpoint(manager, envelope.deployment_key(),
                              CONF.taskmanager_queue, 'trove-taskmanager')


def _instance_flow(context, factory, instance_id: str, factory_kwargs=None,
                   **store) -> str:
    store.update(context=jobs.stored_context(context),
                 instance_id=instance_id)
    return jobs.submit(factory, instance_id, store, factory_kwargs)


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def ping(self, context) -> dict:
        return rpc.host_info('trove-taskmanager', rpcapi.RPC_API_VERSION)

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None:
        LOG.info('Creating instance %s.', instance_id)
        factory = create.get_flow
        if request.get('replica_of'):
            factory = replication.get_create_flow
        _instance_flow(context, factory, instance_id, request=request)

    def delete_instance(self, context, instance_id: str) -> None:
        LOG.info('Deleting instance %s.', instance_id)
        _instance_flow(context, delete.get_flow, instance_id)

    def restart(self, context, instance_id: str) -> None:
        LOG.info('Restarting the database of instance %s.', instance_id)
        _instance_flow(context, actions.get_flow, instance_id,
                       {'action': 'restart'})

    def reboot(self, context, instance_id: str) -> None:
        LOG.info('Rebooting instance %s.', instance_id)
        _instance_flow(context, actions.get_flow, instance_id,
                       {'action': 'reboot'})

    def resize_volume(self, context, instance_id: str,
                      new_size: int) -> None:
        LOG.info('Resizing the volume of instance %s to %d GB.',
                 instance_id, new_size)
        old_size = db_instances.get(context, instance_id)['volume_size']
        _instance_flow(context, resize.get_volume_flow, instance_id,
                       old_size=old_size, new_size=new_size)

    def resize_flavor(self, context, instance_id: str, old_flavor: str,
                      new_flavor: str) -> None:
        LOG.info('Resizing instance %s from flavor %s to %s.', instance_id,
                 old_flavor, new_flavor)
        _instance_flow(context, resize.get_flavor_flow, instance_id,
                       old_flavor=old_flavor, new_flavor=new_flavor)

    def rebuild(self, context, instance_id: str, image_id: str) -> None:
        LOG.info('Rebuilding instance %s from image %s.', instance_id,
                 image_id)
        _instance_flow(context, actions.get_flow, instance_id,
                       {'action': 'rebuild'}, image_id=image_id)

    def apply_configuration(self, context, instance_id: str) -> None:
        LOG.info('Applying the configuration of instance %s.', instance_id)
        _instance_flow(context, configuration.get_flow, instance_id)

    def upgrade(self, context, instance_id: str,
                datastore_version_id: str) -> None:
        LOG.info('Upgrading instance %s to datastore version %s.',
                 instance_id, datastore_version_id)
        _instance_flow(context, upgrade.get_flow, instance_id,
                       datastore_version_id=datastore_version_id)

    def update_access(self, context, instance_id: str, old_access: dict,
                      new_access: dict) -> None:
        LOG.info('Updating the access of instance %s to %s.', instance_id,
                 new_access)
        _instance_flow(context, access.get_flow, instance_id,
                       old_access=old_access, new_access=new_access)

    def reapply_module(self, context, module_id: str, md5: str | None,
                       include_clustered: bool, batch_size: int,
                       batch_delay: int, force: bool) -> None:
        LOG.info('Reapplying module %s.', module_id)
        jobs.submit(modules.get_flow, module_id, {
            'context': jobs.stored_context(context), 'module_id': module_id,
            'md5': md5, 'include_clustered': include_clustered,
            'batch_size': batch_size, 'batch_delay': batch_delay,
            'force': force})

    def create_backup(self, context, backup_id: str,
                      instance_id: str) -> None:
        LOG.info('Backing up instance %s (backup %s).', instance_id,
                 backup_id)
        _instance_flow(context, backup.get_create_flow, instance_id,
                       backup_id=backup_id)

    def delete_backup(self, context, backup_id: str) -> None:
        LOG.info('Deleting backup %s.', backup_id)
        jobs.submit(backup.get_delete_flow, backup_id, {
            'context': jobs.stored_context(context),
            'backup_id': backup_id})

    # --- clusters (since 2.3) -----------------------------------------------

    def _cluster_flow(self, context, factory, cluster_id: str,
                      factory_kwargs: dict, **store) -> str:
        store.update(context=jobs.stored_context(context),
                     cluster_id=cluster_id)
        return jobs.submit(factory, cluster_id, store, factory_kwargs)

    def create_cluster(self, context, cluster_id: str) -> None:
        LOG.info('Creating cluster %s.', cluster_id)
        self._cluster_flow(context, cluster.get_create_flow, cluster_id,
                           {'members': cluster_plan.build_requests(
                               context, cluster_id)})

    def grow_cluster(self, context, cluster_id: str,
                     new_instance_ids: list) -> None:
        LOG.info('Growing cluster %s by %s.', cluster_id, new_instance_ids)
        self._cluster_flow(context, cluster.get_grow_flow, cluster_id,
                           {'members': cluster_plan.build_requests(
                               context, cluster_id, new_instance_ids)},
                           new_instance_ids=new_instance_ids)

    def shrink_cluster(self, context, cluster_id: str,
                       instance_ids: list) -> None:
        LOG.info('Shrinking cluster %s: removing %s.', cluster_id,
                 instance_ids)
        self._cluster_flow(context, cluster.get_shrink_flow, cluster_id,
                           {'member_ids': instance_ids},
                           instance_ids=instance_ids)

    def delete_cluster(self, context, cluster_id: str) -> None:
        LOG.info('Deleting cluster %s.', cluster_id)
        self._cluster_flow(context, cluster.get_delete_flow, cluster_id,
                           {'member_ids': cluster_plan.member_ids(
                               context, cluster_id)})

    def upgrade_cluster(self, context, cluster_id: str,
                        datastore_version_id: str) -> None:
        LOG.info('Upgrading cluster %s to datastore version %s.',
                 cluster_id, datastore_version_id)
        self._cluster_flow(context, cluster.get_upgrade_flow, cluster_id,
                           {'member_ids': cluster_plan.member_ids(
                               context, cluster_id)},
                           datastore_version_id=datastore_version_id)

    # --- replication (since 2.4) -------------------------------------------

    def promote_to_replica_source(self, context, instance_id: str) -> None:
        LOG.info('Promoting replica %s to replica source.', instance_id)
        _instance_flow(context, replication.get_promote_flow, instance_id)

    def eject_replica_source(self, context, instance_id: str) -> None:
        LOG.info('Ejecting replica source %s.', instance_id)
        _instance_flow(context, replication.get_eject_flow, instance_id)

    def detach_replica(self, context, instance_id: str) -> None:
        LOG.info('Detaching replica %s.', instance_id)
        _instance_flow(context, replication.get_detach_flow, instance_id)
