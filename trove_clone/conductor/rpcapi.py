"""Client side of the conductor RPC API (used by guest agents).

Version history:

* 1.0 - ping, heartbeat.
* 1.1 - heartbeat payloads may be sealed with the instance's key
  (``{'sealed': token}``).
* 1.2 - a sealed heartbeat payload is an envelope
  (:mod:`trove_clone.common.envelope`) for ``heartbeat`` and
  :func:`target` of the instance: its nonce guards against replays, its
  time against stale messages.
* 1.3 - update_backup: a guest reports the state of a backup it takes,
  sealed like a heartbeat (the backup's id sealed in the payload).
"""
from oslo_config import cfg

from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '1.3'
VERSION_ALIASES = {'2026.2': '1.0', '2027.1': '1.1', '2027.2': '1.2'}


def target(instance_id: str) -> str:
    """Who a guest's envelopes to the conductor are addressed to (not the
    instance id alone, so that none can be passed off to the guest)."""
    return 'conductor:%s' % instance_id


class ConductorAPI:
    """Casts and calls to the conductor.

    :param key: the sending instance's RPC key: payloads are sealed with
        it, so that the conductor knows who sent them
    """

    def __init__(self, timeout: float | None = None,
                 key: str | None = None) -> None:
        cap = rpc.resolve_cap(CONF.upgrade_levels.conductor,
                              VERSION_ALIASES)
        self.key = key
        self.client = rpc.get_client(CONF.conductor_queue, RPC_API_VERSION,
                                     version_cap=cap, timeout=timeout)

    def ping(self, context) -> dict:
        """Whether a conductor answers (since 1.0)."""
        return self.client.prepare(version='1.0').call(context, 'ping')

    def heartbeat(self, context, instance_id: str, payload: dict,
                  sent: float) -> None:
        """Report an instance's service status (cast, since 1.0; sealed
        since 1.1, in an envelope since 1.2).

        :param payload: ``{'service_status': description, 'error': ...}``
        :param sent: when the guest sent it (epoch seconds)
        """
        version = '1.0'
        if self.key and self.client.can_send_version('1.2'):
            version = '1.2'
            payload = envelope.seal(
                self.key, 'heartbeat', target(instance_id),
                {'payload': payload, 'sent': sent}, ttl=CONF.rpc_cast_ttl,
                now=sent)
        elif self.key:
            version = '1.1'
            payload = {'sealed': crypto.seal(dict(payload, sent=sent),
                                             self.key)}
        self.client.prepare(version=version).cast(
            context, 'heartbeat', instance_id=instance_id, payload=payload,
            sent=sent)

    def update_backup(self, context, instance_id: str, backup_id: str,
                      payload: dict, sent: float) -> None:
        """Report the state of a backup the guest takes (cast, since 1.3),
        sealed like a heartbeat; the backup's id is sealed in the payload
        so that a report cannot be passed off for another backup.

        :param payload: ``{'state': 'BUILDING'}``, then ``{'state':
            'COMPLETED', 'size': GB, 'location', 'checksum', 'metadata'}``
            or ``{'state': 'FAILED', 'reason': one line}``
        :param sent: when the guest sent it (epoch seconds)
        """
        payload = dict(payload, backup_id=backup_id)
        if self.key:
            payload = envelope.seal(
                self.key, 'update_backup', target(instance_id),
                {'payload': payload, 'sent': sent}, ttl=CONF.rpc_cast_ttl,
                now=sent)
        self.client.prepare(version='1.3').cast(
            context, 'update_backup', instance_id=instance_id,
            backup_id=backup_id, payload=payload, sent=sent)
