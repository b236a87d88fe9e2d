"""oslo.messaging plumbing: transport, servers, clients, serializer.

All RPC goes over ``transport_url`` (RabbitMQ) with the threading executor;
nothing here uses eventlet. Payloads are plain dicts; the request context
travels as a dict and comes back as a TroveContext. Traffic with guests
goes over ``guest_transport_url`` when it is set (a vhost and user of
their own).

Sealed services (guest agents, the taskmanager) get their arguments in one
envelope (:mod:`trove_clone.common.envelope`): the client side is
:class:`Sealer`, the server side :class:`SealedEndpoint`.
"""
import socket
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging

from trove_clone.common import context as trove_context
from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.common import exception

CONF = cfg.CONF
LOG = logging.getLogger(__name__)
_TRANSPORT = None
_GUEST_TRANSPORT = None


class ContextSerializer(oslo_messaging.NoOpSerializer):
    """Serialize TroveContext; payloads are plain data already."""

    def serialize_context(self, context) -> dict:
        if isinstance(context, dict):
            return context
        return context.to_dict()

    def deserialize_context(self, context: dict):
        return trove_context.TroveContext.from_dict(context)


class SealingSerializer(ContextSerializer):
    """Seal every result with an instance's key (guest traffic).

    On the client the envelope goes out as it is and a result that is not
    sealed with the key is refused. On the server (``server=True``) the
    arguments are left to the :class:`SealedEndpoint`, which knows the
    method they are for and logs a refusal.
    """

    def __init__(self, key: str, server: bool = False) -> None:
        self.key = key
        self.server = server

    def serialize_entity(self, context, entity):
        if envelope.is_envelope(entity):
            return entity
        return {'sealed': crypto.seal(entity, self.key)}

    def deserialize_entity(self, context, entity):
        if self.server:
            return entity
        if not isinstance(entity, dict) or set(entity) != {'sealed'}:
            raise exception.Forbidden(
                'Refused an unsealed guest RPC message.')
        try:
            return crypto.unseal(entity['sealed'], self.key)
        except crypto.UnsealError as error:
            raise exception.Forbidden(str(error))


def serializer(key: str | None = None, server: bool = False):
    return SealingSerializer(key, server) if key else ContextSerializer()


def get_transport():
    """The process-wide RPC transport (created on first use)."""
    global _TRANSPORT
    if _TRANSPORT is None:
        _TRANSPORT = oslo_messaging.get_rpc_transport(
            CONF, allowed_remote_exmods=[exception.__name__])
    return _TRANSPORT


def get_guest_transport():
    """The transport of traffic with guests: ``guest_transport_url`` when
    set, else the process-wide one."""
    global _GUEST_TRANSPORT
    if not CONF.guest_transport_url:
        return get_transport()
    if _GUEST_TRANSPORT is None:
        _GUEST_TRANSPORT = oslo_messaging.get_rpc_transport(
            CONF, url=CONF.guest_transport_url,
            allowed_remote_exmods=[exception.__name__])
    return _GUEST_TRANSPORT


def cleanup() -> None:
    """Close the transports (at shutdown, and in tests)."""
    global _TRANSPORT, _GUEST_TRANSPORT
    for transport in (_TRANSPORT, _GUEST_TRANSPORT):
        if transport is not None:
            transport.cleanup()
    _TRANSPORT = _GUEST_TRANSPORT = None


def get_server(topic: str, endpoints: list, server: str | None = None,
               key: str | None = None, transport=None):
    """An RPC server for ``topic`` with the threading executor; with
    ``key``, every result is sealed with it.

    :param transport: another transport than the process-wide one (e.g.
        :func:`get_guest_transport`)
    """
    target = oslo_messaging.Target(topic=topic,
                                   server=server or socket.gethostname())
    return oslo_messaging.get_rpc_server(
        transport or get_transport(), target, endpoints,
        executor='threading', serializer=serializer(key, server=True))


class SealedEndpoint:
    """An RPC endpoint that opens the envelope of each message before it
    calls the same method of ``endpoint`` with the sealed context and
    arguments; a message without a valid one is refused and logged.

    :param endpoint: the manager whose public methods are served
    :param key: the Fernet key envelopes are sealed with
    :param target: who the envelopes must be addressed to
    :param service: the name logged with a refusal
    """

    def __init__(self, endpoint, key: str, target: str,
                 service: str) -> None:
        self.target = endpoint.target
        self._endpoint = endpoint
        self._opener = envelope.Opener(key, target)
        self._service = service

    def __getattr__(self, method: str):
        if method.startswith('_'):
            raise AttributeError(method)
        func = getattr(self._endpoint, method)
        if not callable(func):
            raise AttributeError(method)

        def sealed_call(context, **kwargs):
            opened = self.open(method, kwargs)
            return func(trove_context.TroveContext.from_dict(
                opened.context), **opened.args)
        return sealed_call

    def open(self, method: str, kwargs: dict) -> envelope.Opened:
        """The verified envelope of a message for ``method`` whose
        arguments are ``kwargs``.

        :raises exception.RPCRefused: when it is missing or not valid
        """
        try:
            if set(kwargs) - {envelope.ARGUMENT}:
                raise envelope.EnvelopeRefused(
                    'arguments outside the envelope')
            return self._opener.open(kwargs.get(envelope.ARGUMENT), method)
        except envelope.EnvelopeRefused as refused:
            LOG.warning('%s refused RPC %s: %s.', self._service, method,
                        refused.reason)
            raise exception.RPCRefused(method=method,
                                       reason=refused.reason)


class Sealer:
    """The client side of :class:`SealedEndpoint`: the keyword arguments
    of one message to ``target``, sealed with ``key``."""

    def __init__(self, key: str, target: str) -> None:
        self._key = key
        self.target = target

    def __call__(self, context, method: str, ttl: float,
                 kwargs: dict) -> dict:
        ctx = context if isinstance(context, dict) else context.to_dict()
        return {envelope.ARGUMENT: envelope.seal(
            self._key, method, self.target, kwargs, ctx, ttl)}


def resolve_cap(value: str | None, aliases: dict[str, str]) -> str | None:
    """An ``[upgrade_levels]`` value as a version cap (None: no cap).

    :param aliases: release names to versions, e.g. ``{'2026.1': '1.0'}``
    """
    if not value or value == 'latest':
        return None
    return aliases.get(value, value)


def get_client(topic: str, version: str, version_cap: str | None = None,
               server: str | None = None, timeout: float | None = None,
               key: str | None = None, transport=None):
    """An RPC client for ``topic`` speaking at most ``version_cap``;
    with ``key`` its results are sealed."""
    target = oslo_messaging.Target(topic=topic, version=version,
                                   server=server)
    return oslo_messaging.get_rpc_client(
        transport or get_transport(), target, version_cap=version_cap,
        serializer=serializer(key), timeout=timeout)


def host_info(service: str, version: str) -> dict[str, Any]:
    """What a ``ping`` answers."""
    return {'service': service, 'version': version,
            'host': socket.gethostname()}
