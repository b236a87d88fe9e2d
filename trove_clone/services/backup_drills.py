"""Restore drills (an extension of Trove): ``POST /backups/{id}/action
{"verify": {}}`` restores a COMPLETED backup into a throwaway instance,
and once its engine answers records ``verified_at`` on the backup and
deletes the instance.

The throwaway is a normal instance of the backup's project (named
``verify-<backup id>``, the source instance's flavor and volume size),
created through the instance rules: it counts in the project's quotas
while it lives (it uses real servers and volumes), so a full quota
refuses the drill (413). The backup records the drill's instance
(``verify_instance_id``, a conditional UPDATE: one drill per backup at a
time). Every ``backup_schedule_interval`` seconds the taskmanagers look
at running drills (:func:`poll`): an instance ACTIVE with its engine
HEALTHY (the guest's real query) ends the drill with ``verified_at``;
one in ERROR, deleted, or not answering within ``restore_drill_timeout``
seconds ends it with ``verify_fault`` (the reason). The backup itself
(its state, data, ``updated``) is never changed. Ending is a conditional
UPDATE too, so one taskmanager ends each drill, then deletes the
instance.
"""
import datetime
from typing import Protocol

from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import instances as instance_service

LOG = logging.getLogger(__name__)


class Tasks(Protocol):

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None: ...

    def delete_instance(self, context, instance_id: str) -> None: ...


def _spec(context, backup: dict) -> dict:
    version = db_api.datastore_version_get(context,
                                           backup['datastore_version_id'])
    spec = {'name': 'verify-%s' % backup['id'],
            'datastore': {'type': version['datastore_name'],
                          'version': version['name']},
            'restorePoint': {'backupRef': backup['id']}}
    try:
        source = db_instances.get(context, backup['instance_id'],
                                  deleted=True)
    except exception.InstanceNotFound:
        raise exception.UnprocessableEntity(
            'Backup %s cannot be verified: the instance it was taken from '
            'is gone, so its flavor and volume size are unknown.'
            % backup['id'])
    spec['flavorRef'] = source['flavor_id']
    if source['volume_size']:
        spec['volume'] = {'size': source['volume_size']}
    return spec


def start(context, backup: dict, tasks: Tasks) -> dict:
    """Start the drill of ``backup`` (see the module).

    :raises UnprocessableEntity: the backup is not COMPLETED, a drill of
        it runs already, or its instance is gone
    :raises: what creating an instance raises (quota 413, 503, ...)
    """
    if backup['state'] != db_backups.COMPLETED:
        raise exception.UnprocessableEntity(
            'Backup %s is %s: only a COMPLETED backup can be verified.'
            % (backup['id'], backup['state']))
    if backup.get('verify_instance_id'):
        raise exception.UnprocessableEntity(
            'Backup %s is being verified already (instance %s).'
            % (backup['id'], backup['verify_instance_id']))
    instance = instance_service.create(context, _spec(context, backup),
                                       tasks)
    if not db_backups.start_verify(context, backup['id'], instance['id']):
        _discard(context, instance['id'], tasks)
        raise exception.UnprocessableEntity(
            'Backup %s is being verified already.' % backup['id'])
    LOG.info('Verifying backup %s on instance %s.', backup['id'],
             instance['id'])
    return db_backups.get(context, backup['id'])


def _discard(context, instance_id: str, tasks: Tasks) -> None:
    try:
        row = instance_service.get(context, instance_id, None)
        instance_service.delete(context, row, tasks)
    except exception.TroveError as error:
        LOG.warning('The drill instance %s is not deleted yet: %s',
                    instance_id, error.message)


def outcome(instance: dict | None, started: datetime.datetime,
            now: datetime.datetime) -> tuple[bool, str | None]:
    """(ended, fault) of a drill from its instance (None: deleted)."""
    if instance is None:
        return True, 'the drill instance was deleted before its engine ' \
                     'answered'
    if instance['status'] in ('ACTIVE', 'HEALTHY') and \
            instance['operating_status'] == 'HEALTHY':
        return True, None
    if instance['status'] == 'ERROR':
        fault = instance.get('fault') or {}
        return True, 'the restore failed: %s' % ' '.join(
            part for part in (fault.get('message'), fault.get('details'))
            if part) or 'the restore failed'
    if (now - started).total_seconds() > CONF.restore_drill_timeout:
        return True, 'the engine did not answer within %d seconds' % \
            CONF.restore_drill_timeout
    return False, None


def poll(context, tasks: Tasks, now: datetime.datetime) -> list[str]:
    """End the drills whose instance is ready, failed or late (see the
    module); the ids of the backups this caller ended."""
    ended = []
    for backup in db_backups.verifying(context):
        instance_id = backup['verify_instance_id']
        try:
            instance = instance_service.get(context, instance_id, None)
        except exception.InstanceNotFound:
            instance = None
        done, fault = outcome(instance, backup['verify_started'] or now,
                              now)
        if not done or not db_backups.finish_verify(
                context, backup['id'], instance_id, fault):
            continue
        ended.append(backup['id'])
        if fault:
            LOG.warning('Backup %s failed its restore drill: %s',
                        backup['id'], fault)
        if instance is not None:
            project = trove_context.TroveContext.from_dict(
                context.to_dict(), project_id=instance['tenant_id'])
            _discard(project, instance_id, tasks)
    return ended
