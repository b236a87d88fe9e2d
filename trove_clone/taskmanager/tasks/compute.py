"""Compute tasks: the image, the guest's queue, the server (found again
by its tag when a flow resumes), resize, reboot, rebuild, delete."""
import json

from oslo_log import log as logging
from taskflow.types import failure as tf_failure

from trove_clone.common import engines
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import instances as db_instances
from trove_clone import drivers
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.taskmanager.tasks import base
from trove_clone.taskmanager.tasks import guest as guest_tasks
from trove_clone.taskmanager.tasks import volume as volume_tasks

LOG = logging.getLogger(__name__)
INSTANCE_TAG = 'trove_instance_id'


def delete_server(server_id: str) -> None:
    try:
        drivers.get('compute').delete(server_id)
    except exception.ServerNotFound:
        pass


def find_server(instance_id: str) -> dict | None:
    """The server a build of the instance made, by its tag."""
    for server in drivers.get('compute').list():
        if server.get('metadata', {}).get(INSTANCE_TAG) == instance_id:
            return server
    return None


def release_untracked(instance_id: str) -> None:
    """Delete what a build of the instance made but never recorded: a
    taskmanager killed between the cloud's answer and the database write
    leaves a server tagged with the instance or its named volume."""
    try:
        for server in drivers.get('compute').list():
            if server.get('metadata', {}).get(INSTANCE_TAG) == instance_id:
                LOG.warning('Deleting server %s of instance %s, which the '
                            'instance never recorded.', server['id'],
                            instance_id)
                delete_server(server['id'])
        for volume in drivers.get('volume').list():
            if volume.get('name') == volume_tasks.volume_name(instance_id):
                LOG.warning('Deleting volume %s of instance %s, which the '
                            'instance never recorded.', volume['id'],
                            instance_id)
                volume_tasks.delete_volume(volume['id'])
    except Exception:  # noqa: B902 - logged; the operator can clean up
        LOG.exception('Looking for servers and volumes instance %s left '
                      'behind failed.', instance_id)


def image_of(version: dict) -> str:
    if version.get('image_id'):
        return drivers.get('image').get(version['image_id'])['id']
    tags = [tag for tag in (version.get('image_tags') or '').split(',')
            if tag]
    return drivers.get('image').find_by_tags(tags)['id']


class FindImage(base.InstanceTask):
    """The image of the instance's datastore version (or the one given)."""

    step = 'image'
    default_provides = 'image_id'

    def execute(self, context, instance_id, datastore_version_id=None):
        context = base.context_of(context)
        if datastore_version_id is None:
            datastore_version_id = db_instances.get(
                context, instance_id)['datastore_version_id']
        version = db_api.datastore_version_get(context,
                                               datastore_version_id)
        return base.run_step(self.step, CONF.volume_time_out,
                             lambda: image_of(version))


class CreateGuestQueue(base.InstanceTask):
    step = 'guest queue'

    def execute(self, context, instance_id):
        base.run_step(self.step, 30,
                      lambda: guest_rpcapi.create_queue(instance_id))


class CreateServer(base.InstanceTask):
    """The server, with the guest's configuration injected."""

    step = 'server'
    default_provides = 'server_id'

    def execute(self, context, instance_id, image_id, volume_id):
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        if row['server_id']:
            return row['server_id']
        version = db_api.datastore_version_get(context,
                                               row['datastore_version_id'])
        server = find_server(instance_id)
        if server is not None and server.get('status') == 'ERROR':
            # A build that failed, or one whose taskmanager died in the
            # middle of making it: it will never serve; make a new one.
            LOG.warning('Instance %s: replacing its server %s in ERROR.',
                        instance_id, server['id'])
            delete_server(server['id'])
            server = None
        if server is None:
            files = {guest_tasks.GUEST_CONF: guest_tasks.guest_conf(
                row, version['manager'], volume_id)}
            server = base.run_step(
                self.step, CONF.server_time_out,
                lambda: drivers.get('compute').create(
                    row['name'], image_id, row['flavor_id'], volume_id,
                    files, metadata={INSTANCE_TAG: instance_id}),
                undo=lambda made: delete_server(made['id']))
        db_instances.update(context, instance_id, {
            'server_id': server['id'], 'server_status': 'ACTIVE',
            'addresses': json.dumps(server['addresses'])})
        return server['id']

    def revert(self, context, instance_id, result, **kwargs):
        if not isinstance(result, str):
            return
        try:
            delete_server(result)
        except Exception:  # noqa: B902 - logged; the volume goes next
            LOG.exception('Server %s was not deleted.', result)
        db_instances.update(base.context_of(context), instance_id,
                            {'server_id': None})


class ResizeServer(base.InstanceTask):
    """Move the server to the new flavor; the revert moves it back."""

    step = 'resize server'

    def execute(self, context, instance_id, new_flavor):
        row = db_instances.get(base.context_of(context), instance_id)
        base.run_step(self.step, CONF.server_time_out,
                      lambda: drivers.get('compute').resize(
                          row['server_id'], new_flavor))

    def revert(self, context, instance_id, old_flavor, result, **kwargs):
        if isinstance(result, tf_failure.Failure):
            return      # the resize itself failed: nothing moved
        row = db_instances.get(base.context_of(context), instance_id)
        LOG.warning('Instance %s: moving its server back to flavor %s.',
                    instance_id, old_flavor)
        try:
            base.run_step('revert resize', CONF.server_time_out,
                          lambda: drivers.get('compute').resize(
                              row['server_id'], old_flavor))
        except base.StepFailed as failure:
            LOG.error('Instance %s: %s', instance_id, failure)


class RebootServer(base.InstanceTask):
    step = 'reboot'

    def execute(self, context, instance_id):
        row = db_instances.get(base.context_of(context), instance_id)
        base.run_step(self.step, CONF.server_time_out,
                      lambda: drivers.get('compute').reboot(
                          row['server_id']))


class RebuildServer(base.InstanceTask):
    """Rebuild the server onto an image (same volume, name, address)."""

    step = 'rebuild'

    def execute(self, context, instance_id, image_id):
        row = db_instances.get(base.context_of(context), instance_id)
        base.run_step(self.step, CONF.server_time_out,
                      lambda: drivers.get('compute').rebuild(
                          row['server_id'], image_id))


class DeleteServer(base.InstanceTask):
    step = 'server'
    default_provides = 'had_server'

    def execute(self, context, instance_id):
        row = db_instances.get(base.context_of(context), instance_id)
        if row['server_id']:
            base.run_step(self.step, CONF.server_time_out,
                          lambda: delete_server(row['server_id']))
        return bool(row['server_id'])


class UpdateServerAccess(base.InstanceTask):
    """Give the server's network the new access (compute driver's
    update_access); the revert gives it the old one."""

    step = 'server access'

    def _apply(self, context, instance_id, access) -> None:
        context = base.context_of(context)
        row = db_instances.get(context, instance_id)
        version = db_api.datastore_version_get(context,
                                               row['datastore_version_id'])
        port = engines.require(version['manager']).port
        access = access or {}
        base.run_step(self.step, CONF.server_time_out,
                      lambda: drivers.get('compute').update_access(
                          row['server_id'], bool(access.get('is_public')),
                          list(access.get('allowed_cidrs') or []), [port]))

    def execute(self, context, instance_id, new_access):
        self._apply(context, instance_id, new_access)

    def revert(self, context, instance_id, old_access, **kwargs):
        try:
            self._apply(context, instance_id, old_access)
        except base.StepFailed:
            LOG.exception('Instance %s: giving the server its old access '
                          'back failed.', instance_id)
