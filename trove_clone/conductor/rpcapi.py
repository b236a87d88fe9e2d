"""Client side of the conductor RPC API (used by guest agents).

Version history:

* 1.0 - ping, heartbeat.
"""
from oslo_config import cfg

from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '1.0'
VERSION_ALIASES = {'2026.2': '1.0'}


class ConductorAPI:
    """Casts and calls to the conductor."""

    def __init__(self, timeout: float | None = None) -> None:
        cap = rpc.resolve_cap(CONF.upgrade_levels.conductor,
                              VERSION_ALIASES)
        self.client = rpc.get_client(CONF.conductor_queue, RPC_API_VERSION,
                                     version_cap=cap, timeout=timeout)

    def ping(self, context) -> dict:
        """Whether a conductor answers (since 1.0)."""
        return self.client.prepare(version='1.0').call(context, 'ping')

    def heartbeat(self, context, instance_id: str, payload: dict,
                  sent: float) -> None:
        """Report an instance's service status (cast, since 1.0)."""
        self.client.prepare(version='1.0').cast(
            context, 'heartbeat', instance_id=instance_id, payload=payload,
            sent=sent)
