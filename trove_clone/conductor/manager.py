"""Server side of the conductor RPC API: the only writer of what guests
report into the control database."""
import json
import threading
from typing import Callable

from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import context as trove_context
from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import rpc
from trove_clone.common import statuses
from trove_clone.conductor import rpcapi
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import autogrow
from trove_clone.services import backups as backup_service
from trove_clone.services import instances as instance_service
from trove_clone.services import pitr

LOG = logging.getLogger(__name__)


class Manager:
    target = oslo_messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, tasks: Callable[[], instance_service.Tasks] |
                 None = None) -> None:
        """:param tasks: makes the taskmanager caster storage autogrow
            uses, on its first grow (trove-conductor gives its
            TaskManagerAPI); None: no autogrow
        """
        self._keys: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._replays = envelope.ReplayCache()
        self._make_tasks = tasks
        self._tasks: instance_service.Tasks | None = None

    def ping(self, context) -> dict:
        return rpc.host_info('trove-conductor', rpcapi.RPC_API_VERSION)

    def _key(self, instance_id: str) -> str | None:
        """The instance's RPC key (cached; keys never change)."""
        with self._lock:
            if instance_id in self._keys:
                return self._keys[instance_id]
        row = db_instances.get(trove_context.admin_context(), instance_id)
        key = None
        if row.get('encrypted_key'):
            key = secrets.unwrap_instance_key(row['encrypted_key'])
        with self._lock:
            self._keys[instance_id] = key
        return key

    def _open(self, instance_id: str, payload: dict, sent: float,
              method: str = 'heartbeat') -> dict:
        """The payload, unsealed with the instance's key.

        :raises: crypto.UnsealError when it does not decrypt, or was not
            sealed although the instance has a key
        :raises: envelope.EnvelopeRefused when its envelope (1.2) is not
            valid: replayed, stale, for another instance
        """
        key = self._key(instance_id)
        if key is None:
            return payload
        if envelope.is_envelope(payload):
            opened = envelope.Opener(
                key, rpcapi.target(instance_id), self._replays).open(
                    payload, method)
            if opened.args.get('sent') != sent or \
                    not isinstance(opened.args.get('payload'), dict):
                raise envelope.EnvelopeRefused('the sealed time differs')
            return opened.args['payload']
        if set(payload) != {'sealed'}:
            raise crypto.UnsealError('the payload is not sealed')
        opened = crypto.unseal(payload['sealed'], key)
        if opened.get('sent') != sent:
            raise crypto.UnsealError('the sealed time differs')
        return opened

    def heartbeat(self, context, instance_id: str, payload: dict,
                  sent: float) -> None:
        """Record a guest's service status, unless it is forged, stale or
        for an instance that no longer exists."""
        try:
            payload = self._open(instance_id, payload, sent)
        except exception.InstanceNotFound:
            LOG.debug('Heartbeat of deleted instance %s dropped.',
                      instance_id)
            return
        except crypto.UnsealError as error:
            LOG.warning('Heartbeat for instance %s rejected: %s.',
                        instance_id, error)
            return
        except envelope.EnvelopeRefused as refused:
            LOG.warning('Heartbeat for instance %s rejected: %s.',
                        instance_id, refused.reason)
            return
        used = payload.get('volume_used_percent')
        if isinstance(used, (int, float)) and used >= 90:
            LOG.warning('The data volume of instance %s is %.0f%% full.',
                        instance_id, used)
        status = statuses.service_status(payload.get('service_status', ''))
        replication = payload.get('replication')
        if not db_instances.record_heartbeat(
                context, instance_id, status, sent,
                json.dumps(replication) if isinstance(replication, dict)
                else None):
            LOG.debug('Stale heartbeat of %s (sent %s) dropped.',
                      instance_id, sent)
            return
        self._record_engine_fault(context, instance_id, status, payload)
        self._autogrow(context, instance_id, used)
        until = pitr.until_of(payload, sent)
        if until is not None:
            db_instances.record_restorable_until(context, instance_id, until)

    def _record_engine_fault(self, context, instance_id: str,
                             status: statuses.ServiceStatus,
                             payload: dict) -> None:
        """The guest's word on its engine: the fault of an engine that
        stopped or cannot write (recorded once), cleared when it is
        healthy again and the guest reports no fault."""
        fault = payload.get('engine_fault')
        if isinstance(fault, dict) and \
                isinstance(fault.get('message'), str) and \
                isinstance(fault.get('details'), str):
            if db_instances.add_engine_fault(context, instance_id,
                                             fault['message'],
                                             fault['details'][:20000]):
                LOG.warning('Instance %s: %s', instance_id,
                            fault['message'])
        elif status is statuses.HEALTHY:
            if db_instances.clear_engine_faults(context, instance_id):
                LOG.info('Instance %s: its engine runs again; its fault is '
                         'cleared.', instance_id)

    def _autogrow(self, context, instance_id: str, used) -> None:
        """Storage autogrow (services/autogrow.py), when it is on."""
        if self._make_tasks is None or not autogrow.enabled():
            return
        if self._tasks is None:
            self._tasks = self._make_tasks()
        try:
            autogrow.check(context, instance_id, used, self._tasks)
        except exception.InstanceNotFound:
            return

    def update_backup(self, context, instance_id: str, backup_id: str,
                      payload: dict, sent: float) -> None:
        """Record what a guest reports of a backup of its instance: only
        when sealed with that instance's key, for a backup of that
        instance still running, and newer than the last report."""
        try:
            if self._key(instance_id) is not None and \
                    not envelope.is_envelope(payload):
                # Reports came after envelopes: none is sealed the 1.1
                # way, whose token names no method.
                raise crypto.UnsealError('the report is not an envelope')
            opened = self._open(instance_id, payload, sent,
                                'update_backup')
        except exception.InstanceNotFound:
            LOG.debug('Backup report of deleted instance %s dropped.',
                      instance_id)
            return
        except crypto.UnsealError as error:
            LOG.warning('Backup report for instance %s rejected: %s.',
                        instance_id, error)
            return
        except envelope.EnvelopeRefused as refused:
            LOG.warning('Backup report for instance %s rejected: %s.',
                        instance_id, refused.reason)
            return
        if opened.get('backup_id', backup_id) != backup_id:
            LOG.warning('Backup report for instance %s rejected: it was '
                        'sealed for another backup.', instance_id)
            return
        try:
            values = backup_service.report_values(opened)
        except ValueError as error:
            LOG.warning('Report of backup %s of instance %s dropped: %s.',
                        backup_id, instance_id, error)
            return
        if db_backups.record_report(context, backup_id, instance_id, values,
                                    sent):
            LOG.info('Backup %s of instance %s: %s.', backup_id,
                     instance_id, values['state'])
        else:
            LOG.info('Report of backup %s (%s, sent %s) dropped: not a '
                     'running backup of instance %s, or stale.', backup_id,
                     values['state'], sent, instance_id)
