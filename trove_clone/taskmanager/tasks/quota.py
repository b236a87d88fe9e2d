"""Quota tasks. The API counts a resize's quota before it casts (so that
a request over quota is refused at once); from then on the flow holds
the charge, and its revert gives it back."""
from oslo_log import log as logging

from trove_clone.db import instances as db_instances
from trove_clone import drivers
from trove_clone.taskmanager.tasks import base

LOG = logging.getLogger(__name__)


class HoldVolumeQuota(base.InstanceTask):
    """The volume GB a resize counted; given back on revert unless the
    volume grew (a volume cannot shrink, so the grown one keeps them)."""

    step = 'quota'

    def execute(self, context, instance_id, old_size, new_size):
        return new_size - old_size

    def revert(self, context, instance_id, new_size, result, **kwargs):
        if not isinstance(result, int) or result <= 0:
            return
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        try:
            size = drivers.get('volume').get(row['volume_id'])['size']
        except Exception:  # noqa: B902 - unknown: the record says
            size = row['volume_size']
        if size >= new_size:
            LOG.info('Instance %s: the volume grew to %d GB; its quota '
                     'stays counted.', instance_id, size)
            return
        db_instances.release_quota(context, row['tenant_id'],
                                   {'volumes': result})


class HoldFlavorQuota(base.InstanceTask):
    """The RAM difference of a flavor resize: a larger flavor's was
    counted before the cast and is given back on revert; a smaller
    flavor's was given back at the cast and is counted again on revert
    (the instance keeps its old flavor)."""

    step = 'quota'

    def execute(self, context, instance_id, old_flavor, new_flavor):
        flavors = drivers.get('flavor')
        return flavors.get(new_flavor)['ram'] - flavors.get(old_flavor)['ram']

    def revert(self, context, instance_id, result, **kwargs):
        if not isinstance(result, int) or not result:
            return
        context = base.context_of(context)
        tenant = db_instances.get(context, instance_id)['tenant_id']
        # Giving back a negative difference counts it again.
        db_instances.release_quota(context, tenant, {'ram': result})
