"""Client side of the taskmanager RPC API.

Version history:

* 1.0 - ping.
"""
from oslo_config import cfg

from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '1.0'
#: ``[upgrade_levels] taskmanager`` may name a release instead of a version.
VERSION_ALIASES = {'2026.2': '1.0'}


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
