"""Client side of the conductor RPC API (used by guest agents).

Version history:

* 1.0 - ping, heartbeat.
* 1.1 - heartbeat payloads may be sealed with the instance's key
  (``{'sealed': token}``).
"""
from oslo_config import cfg

from trove_clone.common import crypto
from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '1.1'
VERSION_ALIASES = {'2026.2': '1.0', '2027.1': '1.1'}


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
        since 1.1).

        :param payload: ``{'service_status': description, 'error': ...}``
        :param sent: when the guest sent it (epoch seconds)
        """
        version = '1.0'
        if self.key:
            version = '1.1'
            payload = {'sealed': crypto.seal(dict(payload, sent=sent),
                                             self.key)}
        self.client.prepare(version=version).cast(
            context, 'heartbeat', instance_id=instance_id, payload=payload,
            sent=sent)
