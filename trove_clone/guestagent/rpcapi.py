"""Client side of the guest agent RPC API (one topic per instance).

Version history:

* 1.0 - ping, get_version.
* 1.1 - prepare (cast), get_status, restart, stop_db.
"""
from oslo_config import cfg

from trove_clone.common import rpc

CONF = cfg.CONF
RPC_API_VERSION = '1.1'
VERSION_ALIASES = {'2026.2': '1.1'}


def topic(instance_id: str) -> str:
    """The RPC topic of one instance's guest agent."""
    return '%s.%s' % (CONF.guest_topic_prefix, instance_id)


class GuestAPI:
    """Calls to the guest agent of one instance."""

    def __init__(self, instance_id: str,
                 timeout: float | None = None) -> None:
        self.instance_id = instance_id
        cap = rpc.resolve_cap(CONF.upgrade_levels.guestagent,
                              VERSION_ALIASES)
        self.timeout = timeout or CONF.agent_call_low_timeout
        self.client = rpc.get_client(
            topic(instance_id), RPC_API_VERSION, version_cap=cap,
            server=instance_id, timeout=self.timeout)

    def ping(self, context) -> dict:
        """Whether the guest agent answers (since 1.0)."""
        return self.client.prepare(version='1.0').call(context, 'ping')

    def get_version(self, context) -> str:
        """The guest agent's RPC API version (since 1.0)."""
        return self.client.prepare(version='1.0').call(context,
                                                       'get_version')

    def prepare(self, context, manager: str) -> None:
        """Set the engine up and start it (cast, since 1.1); progress is
        reported through get_status and heartbeats."""
        self.client.prepare(version='1.1').cast(context, 'prepare',
                                                manager=manager)

    def get_status(self, context) -> dict:
        """``{'status': ..., 'error': ...}``, health from a real query
        (since 1.1)."""
        return self.client.prepare(version='1.1').call(context,
                                                       'get_status')

    def restart(self, context) -> None:
        """Stop and start the engine (since 1.1)."""
        self.client.prepare(version='1.1', timeout=max(
            self.timeout, CONF.agent_call_high_timeout)).call(
            context, 'restart')

    def stop_db(self, context) -> None:
        """Stop the engine cleanly (since 1.1)."""
        self.client.prepare(version='1.1', timeout=max(
            self.timeout, CONF.agent_call_high_timeout)).call(
            context, 'stop_db')
