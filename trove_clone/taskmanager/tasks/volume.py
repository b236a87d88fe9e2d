"""Volume tasks: create (found again by name when a flow resumes),
extend, delete."""
from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone import drivers
from trove_clone.taskmanager.tasks import base

LOG = logging.getLogger(__name__)


def volume_name(instance_id: str) -> str:
    return 'trove-%s' % instance_id


def delete_volume(volume_id: str) -> None:
    try:
        drivers.get('volume').delete(volume_id)
    except exception.VolumeNotFound:
        pass


def find_volume(instance_id: str) -> dict | None:
    """The volume a build of the instance made, by its name."""
    for volume in drivers.get('volume').list():
        if volume.get('name') == volume_name(instance_id):
            return volume
    return None


class CreateVolume(base.InstanceTask):
    """The data volume of a new instance (none without a volume size)."""

    step = 'volume'
    default_provides = 'volume_id'

    def execute(self, context, instance_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        if not row['volume_size']:
            return None
        if row['volume_id']:
            return row['volume_id']
        # A flow resumed after its taskmanager died between the cloud's
        # answer and the record finds the volume by its name; one it
        # died in the middle of making (error) is made again.
        volume = find_volume(instance_id)
        if volume is not None and volume.get('status') == 'error':
            LOG.warning('Instance %s: replacing its volume %s in error.',
                        instance_id, volume['id'])
            delete_volume(volume['id'])
            volume = None
        volume = volume or base.run_step(
            self.step, CONF.volume_time_out,
            lambda: drivers.get('volume').create(row['volume_size'],
                                                 volume_name(instance_id)),
            undo=lambda made: delete_volume(made['id']))
        db_instances.update(context, instance_id,
                            {'volume_id': volume['id']})
        return volume['id']

    def revert(self, context, instance_id, result, **kwargs):
        if not isinstance(result, str):
            return
        try:
            delete_volume(result)
        except Exception:  # noqa: B902 - logged; the guard looks again
            LOG.exception('Volume %s was not deleted.', result)
        db_instances.update(base.context_of(context), instance_id,
                            {'volume_id': None})


class ExtendVolume(base.InstanceTask):
    """Grow the volume. A volume cannot shrink: the revert leaves it as
    it is, and the quota task keeps the charge for a grown volume."""

    step = 'extend volume'

    def execute(self, context, instance_id, new_size):
        row = db_instances.get(base.context_of(context), instance_id)
        volumes = drivers.get('volume')

        def extend():
            # Run again after a taskmanager died here: a volume already
            # grown is done; one grown half-way is finished by the driver.
            if volumes.get(row['volume_id'])['size'] >= new_size:
                return
            volumes.extend(row['volume_id'], new_size)

        base.run_step(self.step, CONF.volume_time_out, extend)


class RecordVolumeSize(base.InstanceTask):
    step = 'record size'

    def execute(self, context, instance_id, new_size):
        db_instances.update(base.context_of(context), instance_id,
                            {'volume_size': new_size})


class DeleteVolume(base.InstanceTask):
    step = 'volume'
    default_provides = 'had_volume'

    def execute(self, context, instance_id):
        row = db_instances.get(base.context_of(context), instance_id)
        if row['volume_id']:
            base.run_step(self.step, CONF.volume_time_out,
                          lambda: delete_volume(row['volume_id']))
        return bool(row['volume_id'])
