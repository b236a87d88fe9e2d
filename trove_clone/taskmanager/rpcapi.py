"""Client side of the taskmanager RPC API.

Version history:

* 1.0 - ping.
* 1.1 - create_instance, delete_instance, restart, reboot, resize_volume,
  resize_flavor, rebuild (all casts).
* 1.2 - apply_configuration (cast).
* 1.3 - upgrade (cast).
* 1.4 - reapply_module (cast).
"""
from oslo_config import cfg

from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '1.4'
#: ``[upgrade_levels] taskmanager`` may name a release instead of a version.
VERSION_ALIASES = {'2026.2': '1.0', '2027.1': '1.4'}


class TaskManagerAPI:
    """Casts and calls to the taskmanager."""

    def __init__(self, timeout: float | None = None) -> None:
        cap = rpc.resolve_cap(CONF.upgrade_levels.taskmanager,
                              VERSION_ALIASES)
        self.client = rpc.get_client(CONF.taskmanager_queue, RPC_API_VERSION,
                                     version_cap=cap, timeout=timeout)

    def ping(self, context) -> dict:
        """Whether a taskmanager answers (since 1.0)."""
        return self.client.prepare(version='1.0').call(context, 'ping')

    def _cast(self, context, method: str, **kwargs) -> None:
        self.client.prepare(version='1.1').cast(context, method, **kwargs)

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None:
        """Build an instance recorded by the API (since 1.1).

        :param request: ``databases``, ``users`` and ``modules`` to set up
        """
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
        self.client.prepare(version='1.2').cast(
            context, 'apply_configuration', instance_id=instance_id)

    def upgrade(self, context, instance_id: str,
                datastore_version_id: str) -> None:
        """Move an instance to another version of its datastore, keeping
        its volume, name and address (since 1.3)."""
        self.client.prepare(version='1.3').cast(
            context, 'upgrade', instance_id=instance_id,
            datastore_version_id=datastore_version_id)

    def reapply_module(self, context, module_id: str, md5: str | None,
                       include_clustered: bool, batch_size: int,
                       batch_delay: int, force: bool) -> None:
        """Apply a module's current contents again to the instances that
        have it, in batches (since 1.4)."""
        self.client.prepare(version='1.4').cast(
            context, 'reapply_module', module_id=module_id, md5=md5,
            include_clustered=include_clustered, batch_size=batch_size,
            batch_delay=batch_delay, force=force)
