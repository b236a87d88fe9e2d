"""oslo.messaging plumbing: transport, servers, clients, serializer.

All RPC goes over ``transport_url`` (RabbitMQ) with the threading executor;
nothing here uses eventlet. Payloads are plain dicts; the request context
travels as a dict and comes back as a TroveContext.
"""
import socket
from typing import Any

from oslo_config import cfg
import oslo_messaging

from trove_clone.common import context as trove_context
from trove_clone.common import crypto
from trove_clone.common import exception

CONF = cfg.CONF
_TRANSPORT = None


class ContextSerializer(oslo_messaging.NoOpSerializer):
    """Serialize TroveContext; payloads are plain data already."""

    def serialize_context(self, context) -> dict:
        if isinstance(context, dict):
            return context
        return context.to_dict()

    def deserialize_context(self, context: dict):
        return trove_context.TroveContext.from_dict(context)


class SealingSerializer(ContextSerializer):
    """Seal every argument and result with an instance's key (guest
    traffic); an unsealed or forged value is refused."""

    def __init__(self, key: str) -> None:
        self.key = key

    def serialize_entity(self, context, entity):
        return {'sealed': crypto.seal(entity, self.key)}

    def deserialize_entity(self, context, entity):
        if not isinstance(entity, dict) or set(entity) != {'sealed'}:
            raise exception.Forbidden(
                'Refused an unsealed guest RPC message.')
        try:
            return crypto.unseal(entity['sealed'], self.key)
        except crypto.UnsealError as error:
            raise exception.Forbidden(str(error))


def serializer(key: str | None = None):
    return SealingSerializer(key) if key else ContextSerializer()


def get_transport():
    """The process-wide RPC transport (created on first use)."""
    global _TRANSPORT
    if _TRANSPORT is None:
        _TRANSPORT = oslo_messaging.get_rpc_transport(
            CONF, allowed_remote_exmods=[exception.__name__])
    return _TRANSPORT


def cleanup() -> None:
    """Close the transport (at shutdown, and in tests)."""
    global _TRANSPORT
    if _TRANSPORT is not None:
        _TRANSPORT.cleanup()
        _TRANSPORT = None


def get_server(topic: str, endpoints: list, server: str | None = None,
               key: str | None = None):
    """An RPC server for ``topic`` with the threading executor; with
    ``key``, every argument and result is sealed with it."""
    target = oslo_messaging.Target(topic=topic,
                                   server=server or socket.gethostname())
    return oslo_messaging.get_rpc_server(
        get_transport(), target, endpoints, executor='threading',
        serializer=serializer(key))


def resolve_cap(value: str | None, aliases: dict[str, str]) -> str | None:
    """An ``[upgrade_levels]`` value as a version cap (None: no cap).

    :param aliases: release names to versions, e.g. ``{'2026.1': '1.0'}``
    """
    if not value or value == 'latest':
        return None
    return aliases.get(value, value)


def get_client(topic: str, version: str, version_cap: str | None = None,
               server: str | None = None, timeout: float | None = None,
               key: str | None = None):
    """An RPC client for ``topic`` speaking at most ``version_cap``;
    with ``key`` its arguments and results are sealed."""
    target = oslo_messaging.Target(topic=topic, version=version,
                                   server=server)
    return oslo_messaging.get_rpc_client(
        get_transport(), target, version_cap=version_cap,
        serializer=serializer(key), timeout=timeout)


def host_info(service: str, version: str) -> dict[str, Any]:
    """What a ``ping`` answers."""
    return {'service': service, 'version': version,
            'host': socket.gethostname()}
