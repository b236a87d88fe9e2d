"""Client side of the taskmanager RPC API.

Version history:

* 1.0 - ping.
* 1.1 - create_instance, delete_instance, restart, reboot, resize_volume,
  resize_flavor, rebuild (all casts).
* 1.2 - apply_configuration (cast).
* 1.3 - upgrade (cast).
* 1.4 - reapply_module (cast).
* 2.0 - every call and cast carries one argument, ``envelope``: the
  method, the taskmanager's topic, the time, a time to live, a nonce, the
  context and the arguments, sealed with the deployment's key
  (:func:`trove_clone.common.envelope.deployment_key`), so that a guest
  or anyone else on the broker cannot order the taskmanager about. 1.x is
  no longer served; under a cap below 2.0 the client speaks 1.x.
* 2.1 - update_access (cast).
* 2.2 - create_backup, delete_backup (casts).
* 2.3 - create_cluster, delete_cluster, grow_cluster, shrink_cluster,
  upgrade_cluster (casts).
* 2.4 - promote_to_replica_source, eject_replica_source, detach_replica
  (casts); create_instance's request may carry ``replica_of`` (build a
  replica of that primary).
"""
from oslo_config import cfg

from trove_clone.common import envelope
from trove_clone.common import exception
from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '2.4'
#: ``[upgrade_levels] taskmanager`` may name a release instead of a version.
VERSION_ALIASES = {'2026.2': '1.0', '2027.1': '1.4', '2027.2': '2.0'}
#: Envelopes are sealed from this version on.
ENVELOPE_VERSION = '2.0'


class TaskManagerAPI:
    """Casts and calls to the taskmanager. Each method names the 1.x
    version it appeared in; since 2.0 they all go out as 2.0, sealed."""

    def __init__(self, timeout: float | None = None) -> None:
        cap = rpc.resolve_cap(CONF.upgrade_levels.taskmanager,
                              VERSION_ALIASES)
        self.timeout = timeout
        self.client = rpc.get_client(CONF.taskmanager_queue, RPC_API_VERSION,
                                     version_cap=cap, timeout=timeout)
        self.sealer = rpc.Sealer(envelope.deployment_key(),
                                 CONF.taskmanager_queue)

    def _prepared(self, context, method: str, version: str, ttl: float,
                  kwargs: dict):
        if self.client.can_send_version(ENVELOPE_VERSION):
            if not version.startswith('2.'):
                version = ENVELOPE_VERSION
            return (self.client.prepare(version=version),
                    self.sealer(context, method, ttl, kwargs))
        return self.client.prepare(version=version), kwargs

    def ping(self, context) -> dict:
        """Whether a taskmanager answers (since 1.0)."""
        client, kwargs = self._prepared(
            context, 'ping', '1.0',
            self.timeout or CONF.rpc_cast_ttl, {})
        return client.call(context, 'ping', **kwargs)

    def _cast(self, context, method: str, version: str = '1.1',
              **kwargs) -> None:
        client, kwargs = self._prepared(context, method, version,
                                        CONF.rpc_cast_ttl, kwargs)
        client.cast(context, method, **kwargs)

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None:
        """Build an instance recorded by the API (since 1.1).

        :param request: ``databases``, ``users`` and ``modules`` to set up;
            ``replica_of``: the primary the new instance replicates (since
            2.4; under a lower cap, NotImplementedYet)
        """
        if request.get('replica_of'):
            if not self.client.can_send_version('2.4'):
                raise exception.NotImplementedYet(
                    operation='replication (the taskmanager is capped '
                    'below RPC 2.4)')
            self._cast(context, 'create_instance', '2.4',
                       instance_id=instance_id, request=request)
            return
        self._cast(context, 'create_instance', instance_id=instance_id,
                   request=request)

    def delete_instance(self, context, instance_id: str) -> None:
        """Delete an instance and what it holds (since 1.1)."""
        self._cast(context, 'delete_instance', instance_id=instance_id)

    def restart(self, context, instance_id: str) -> None:
        """Restart the database of an instance (since 1.1)."""
        self._cast(context, 'restart', instance_id=instance_id)

    def reboot(self, context, instance_id: str) -> None:
        """Reboot the server of an instance (since 1.1)."""
        self._cast(context, 'reboot', instance_id=instance_id)

    def resize_volume(self, context, instance_id: str,
                      new_size: int) -> None:
        """Grow an instance's volume to ``new_size`` GB (since 1.1)."""
        self._cast(context, 'resize_volume', instance_id=instance_id,
                   new_size=new_size)

    def resize_flavor(self, context, instance_id: str, old_flavor: str,
                      new_flavor: str) -> None:
        """Move an instance to another flavor (since 1.1)."""
        self._cast(context, 'resize_flavor', instance_id=instance_id,
                   old_flavor=old_flavor, new_flavor=new_flavor)

    def rebuild(self, context, instance_id: str, image_id: str) -> None:
        """Rebuild an instance's server from an image (since 1.1)."""
        self._cast(context, 'rebuild', instance_id=instance_id,
                   image_id=image_id)

    def apply_configuration(self, context, instance_id: str) -> None:
        """Have the guest apply the instance's configuration group, or
        drop the overrides of a detached one (since 1.2)."""
        self._cast(context, 'apply_configuration', '1.2',
                   instance_id=instance_id)

    def upgrade(self, context, instance_id: str,
                datastore_version_id: str) -> None:
        """Move an instance to another version of its datastore, keeping
        its volume, name and address (since 1.3)."""
        self._cast(context, 'upgrade', '1.3', instance_id=instance_id,
                   datastore_version_id=datastore_version_id)

    def reapply_module(self, context, module_id: str, md5: str | None,
                       include_clustered: bool, batch_size: int,
                       batch_delay: int, force: bool) -> None:
        """Apply a module's current contents again to the instances that
        have it, in batches (since 1.4)."""
        self._cast(
            context, 'reapply_module', '1.4', module_id=module_id, md5=md5,
            include_clustered=include_clustered, batch_size=batch_size,
            batch_delay=batch_delay, force=force)

    def update_access(self, context, instance_id: str, old_access: dict,
                      new_access: dict) -> None:
        """Let clients reach an instance's database from the new access's
        ``allowed_cidrs`` only, on a public address or not; on failure the
        instance keeps ``old_access`` (since 2.1)."""
        self._cast(context, 'update_access', '2.1', instance_id=instance_id,
                   old_access=old_access, new_access=new_access)

    def create_backup(self, context, backup_id: str,
                      instance_id: str) -> None:
        """Take the backup the API recorded (NEW) of an instance in
        BACKING_UP (since 2.2)."""
        self._cast(context, 'create_backup', '2.2', backup_id=backup_id,
                   instance_id=instance_id)

    def delete_backup(self, context, backup_id: str) -> None:
        """Delete a backup's stored object and row, and those of the
        incremental backups that depend on it (since 2.2)."""
        self._cast(context, 'delete_backup', '2.2', backup_id=backup_id)

    # --- clusters (since 2.3) ---------------------------------------------
    def create_cluster(self, context, cluster_id: str) -> None:
        """Build every member, then form the cluster (since 2.3)."""
        self._cast(context, 'create_cluster', '2.3', cluster_id=cluster_id)

    def delete_cluster(self, context, cluster_id: str) -> None:
        """Delete every member, then the cluster (since 2.3)."""
        self._cast(context, 'delete_cluster', '2.3', cluster_id=cluster_id)

    def grow_cluster(self, context, cluster_id: str,
                     new_instance_ids: list) -> None:
        """Build the new members and add them (since 2.3)."""
        self._cast(context, 'grow_cluster', '2.3', cluster_id=cluster_id,
                   new_instance_ids=new_instance_ids)

    def shrink_cluster(self, context, cluster_id: str,
                       instance_ids: list) -> None:
        """Move the data off the members, remove and delete them (since
        2.3)."""
        self._cast(context, 'shrink_cluster', '2.3', cluster_id=cluster_id,
                   instance_ids=instance_ids)

    def upgrade_cluster(self, context, cluster_id: str,
                        datastore_version_id: str) -> None:
        """Upgrade the members one at a time (since 2.3)."""
        self._cast(context, 'upgrade_cluster', '2.3', cluster_id=cluster_id,
                   datastore_version_id=datastore_version_id)

    # --- replication (since 2.4) -----------------------------------------
    def promote_to_replica_source(self, context, instance_id: str) -> None:
        """Planned switchover: the replica becomes its set's primary, the
        old primary and the other replicas follow it (since 2.4)."""
        self._cast(context, 'promote_to_replica_source', '2.4',
                   instance_id=instance_id)

    def eject_replica_source(self, context, instance_id: str) -> None:
        """The primary is gone: its most advanced replica becomes the
        primary, the other replicas follow it (since 2.4)."""
        self._cast(context, 'eject_replica_source', '2.4',
                   instance_id=instance_id)

    def detach_replica(self, context, instance_id: str) -> None:
        """The replica leaves its primary and takes writes (since 2.4)."""
        self._cast(context, 'detach_replica', '2.4', instance_id=instance_id)
