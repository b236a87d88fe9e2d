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
import threading
from typing import Any, Callable

import amqp.exceptions
import kombu.exceptions
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
    return BoundedClient(oslo_messaging.get_rpc_client(
        transport or get_transport(), target, version_cap=version_cap,
        serializer=serializer(key), timeout=timeout, retry=SEND_RETRIES),
        service_name(topic, server))


def host_info(service: str, version: str) -> dict[str, Any]:
    """What a ``ping`` answers."""
    return {'service': service, 'version': version,
            'host': socket.gethostname()}


# --- bounded casts and calls -------------------------------------------------
#
# The rabbit driver retries a connection forever by default, and a call's
# reply listener is set up (and reconnected) without any bound: with the
# broker down, a cast or call would hold the caller, and an API request,
# until the broker came back. Every cast and call made through get_client()
# is bounded instead: the send gives up after SEND_RETRIES reconnections,
# and the caller waits at most rpc_cast_timeout for it (plus the call's
# timeout for the answer of a call), then gets MessagingUnavailable (503).

#: Reconnections a cast, or the send of a call, tries before giving up.
SEND_RETRIES = 1
#: Messages still running past their bound beyond which new ones fail at
#: once, rather than add another thread waiting on a dead broker.
MAX_ABANDONED = 32
_TRANSPORT_ERRORS = (OSError, kombu.exceptions.KombuError,
                     amqp.exceptions.AMQPError,
                     oslo_messaging.MessageDeliveryFailure)
_abandoned_lock = threading.Lock()
_abandoned = 0


def service_name(topic: str, server: str | None = None) -> str:
    """The service a topic reaches, as an error message names it."""
    if topic == CONF.taskmanager_queue:
        return 'The taskmanager'
    if topic == CONF.conductor_queue:
        return 'The conductor'
    if topic.startswith(CONF.guest_topic_prefix + '.'):
        return 'The guest agent of instance %s' % (
            server or topic[len(CONF.guest_topic_prefix) + 1:])
    return 'The service on topic %s' % topic


def is_transport_error(error: BaseException) -> bool:
    """Whether ``error`` says the broker did not take or deliver a
    message (as opposed to an error the remote side raised)."""
    if type(error).__name__.endswith('_Remote'):
        return False
    return isinstance(error, _TRANSPORT_ERRORS)


def _reply_listener_ready(context) -> bool:
    """Whether the transport's reply queue is set up, so that a call still
    running is waiting for its answer rather than for the broker. The
    rabbit driver keeps it in ``_reply_q``; drivers without one (fake)
    count as ready."""
    driver = getattr(context.transport, '_driver', None)
    return getattr(driver, '_reply_q', True) is not None


def run_bounded(send: Callable[[], Any], service: str, method: str,
                bound: float, extended_bound: float | None = None,
                extend: Callable[[], bool] | None = None) -> Any:
    """Run ``send`` (one cast or call) and return what it returns, waiting
    at most ``bound`` seconds, or ``extended_bound`` when ``extend()``
    says the message is on its way.

    :raises: MessagingUnavailable when the bound passes or the broker
        refuses the message; anything else ``send`` raises, unchanged
    """
    global _abandoned
    if _abandoned >= MAX_ABANDONED:
        raise exception.MessagingUnavailable(
            service=service, method=method, timeout=0,
            reason='%d earlier messages are still waiting for the broker'
            % _abandoned)
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        global _abandoned
        try:
            box['result'] = send()
        except BaseException as error:  # noqa: B902 - handed to the caller
            box['error'] = error
        with _abandoned_lock:
            done.set()
            if box.get('abandoned'):
                _abandoned -= 1
                LOG.warning('%s of %s ended %.0f s after its bound: %s',
                            method, service, bound,
                            box.get('error', 'sent'))

    threading.Thread(target=work, name='rpc-%s' % method,
                     daemon=True).start()
    waited = bound
    if not done.wait(bound) and extended_bound is not None and \
            extend is not None and extend():
        waited = max(bound, extended_bound)
        done.wait(waited - bound)
    with _abandoned_lock:
        if not done.is_set():
            box['abandoned'] = True
            _abandoned += 1
    if box.get('abandoned'):
        raise exception.MessagingUnavailable(
            service=service, method=method, timeout=waited,
            reason='no answer from the broker')
    error = box.get('error')
    if error is None:
        return box.get('result')
    if is_transport_error(error):
        raise exception.MessagingUnavailable(
            service=service, method=method, timeout=bound,
            reason=str(error) or type(error).__name__) from error
    raise error


class BoundedClient:
    """An oslo.messaging RPC client (or prepared context) whose cast()
    and call() are bounded (see run_bounded); the rest passes through."""

    def __init__(self, client, service: str) -> None:
        self._client = client
        self._service = service

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def prepare(self, **kwargs) -> 'BoundedClient':
        return BoundedClient(self._client.prepare(**kwargs), self._service)

    def cast(self, context, method: str, **kwargs) -> None:
        run_bounded(lambda: self._client.cast(context, method, **kwargs),
                    self._service, method, CONF.rpc_cast_timeout)

    def call(self, context, method: str, **kwargs) -> Any:
        timeout = self._client.timeout or CONF.rpc_response_timeout
        return run_bounded(
            lambda: self._client.call(context, method, **kwargs),
            self._service, method, CONF.rpc_cast_timeout,
            extended_bound=CONF.rpc_cast_timeout + timeout,
            extend=lambda: _reply_listener_ready(self._client))
