"""Sealed envelopes: who may ask a service to do what, once.

Every call and cast to a guest agent (RPC 2.0), to the taskmanager (2.0)
and every heartbeat to the conductor (1.2) carries one envelope instead of
its arguments. An envelope is a Fernet token (AES-CBC and HMAC-SHA256, see
:mod:`trove_clone.common.crypto`) over::

    {'v': '2.0', 'method': ..., 'target': ..., 'time': ..., 'ttl': ...,
     'nonce': ..., 'context': {...}, 'args': {...}}

sealed with the key of the receiver: an instance's own key for its guest
agent and for what it sends the conductor, the deployment's key (see
:func:`deployment_secret`) for the taskmanager.

The receiver opens it with :meth:`Opener.open`, which refuses (raising
:class:`EnvelopeRefused` with a reason that never contains the key):

* a message without an envelope (anyone on the broker can send one);
* a token that does not verify with the receiver's key (forged, changed,
  or sealed for another instance);
* another method or target than the one the message was delivered for
  (an envelope lifted from one message into another);
* a time more than ``rpc_clock_skew`` seconds ahead, or older than its
  ``ttl`` plus ``rpc_clock_skew`` (a stale message);
* a nonce seen before within its lifetime (a replay).
"""
import base64
import hashlib
import secrets
import threading
import time
from typing import Any

from oslo_config import cfg

from trove_clone.common import crypto
from trove_clone.common import secrets as deployment_secrets

CONF = cfg.CONF
#: The envelope format sealed today.
VERSION = '2.0'
#: The single keyword argument an enveloped message carries.
ARGUMENT = 'envelope'
#: Nonces remembered at most (a flood beyond it is refused, not forgotten).
REPLAY_CACHE_SIZE = 100000
_FIELDS = ('v', 'method', 'target', 'time', 'ttl', 'nonce', 'context',
           'args')


class EnvelopeRefused(Exception):
    """A message was refused; ``reason`` says why (safe to log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def deployment_secret() -> str:
    """The deployment's RPC secret, from which the key of messages to the
    taskmanager is derived. The one place that knows where it comes from:
    ``inst_rpc_key_encr_key``, or the key file generated for it.

    :raises: DeploymentSecretMissing when this host has neither
    """
    return deployment_secrets.rpc_key_secret()


def derive_key(secret: str, purpose: str) -> str:
    """A Fernet key for ``purpose`` derived from ``secret``, so that one
    secret gives unrelated keys for unrelated uses."""
    digest = hashlib.sha256(b'trove-clone envelope\0%s\0%s' % (
        purpose.encode('utf-8'), secret.encode('utf-8'))).digest()
    return base64.urlsafe_b64encode(digest).decode('ascii')


def deployment_key() -> str:
    """The key API -> taskmanager envelopes are sealed with."""
    return derive_key(deployment_secret(), 'taskmanager')


def seal(key: str, method: str, target: str, args: dict | None = None,
         context: dict | None = None, ttl: float | None = None,
         now: float | None = None) -> dict:
    """An envelope for one message.

    :param key: the receiver's Fernet key
    :param method: the RPC method the message calls
    :param target: who it is for (an instance id, a service topic)
    :param args: the method's keyword arguments (JSON-serialisable)
    :param context: the request context as a dict
    :param ttl: seconds the message may wait before it is opened
        (``rpc_cast_ttl`` by default)
    :returns: ``{'envelope': VERSION, 'token': ...}``, the value of the
        message's only argument, :data:`ARGUMENT`
    """
    body = {'v': VERSION, 'method': method, 'target': target,
            'time': time.time() if now is None else now,
            'ttl': float(CONF.rpc_cast_ttl if ttl is None else ttl),
            'nonce': secrets.token_urlsafe(18), 'context': context or {},
            'args': args or {}}
    return {'envelope': VERSION, 'token': crypto.seal(body, key)}


def is_envelope(value: Any) -> bool:
    """Whether ``value`` looks like what :func:`seal` returns."""
    return isinstance(value, dict) and set(value) == {'envelope', 'token'}


class ReplayCache:
    """Nonces seen, each kept until the time its envelope expires."""

    def __init__(self, size: int = REPLAY_CACHE_SIZE) -> None:
        self.size = size
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_and_add(self, nonce: str, expires: float,
                      now: float) -> None:
        """Remember ``nonce`` until ``expires``.

        :raises EnvelopeRefused: when it was seen already, or the cache is
            full of nonces that have not expired
        """
        with self._lock:
            if nonce in self._seen and self._seen[nonce] >= now:
                raise EnvelopeRefused('replayed (nonce seen before)')
            if len(self._seen) >= self.size:
                self._seen = {seen: until for seen, until
                              in self._seen.items() if until >= now}
                if len(self._seen) >= self.size:
                    raise EnvelopeRefused('too many messages in flight')
            self._seen[nonce] = expires


class Opened:
    """What a verified envelope holds."""

    def __init__(self, body: dict) -> None:
        self.method: str = body['method']
        self.target: str = body['target']
        self.time: float = body['time']
        self.nonce: str = body['nonce']
        self.context: dict = body['context']
        self.args: dict = body['args']


class Opener:
    """Verifies envelopes sealed for one receiver with one key.

    :param key: the receiver's Fernet key
    :param target: the receiver (its instance id or topic)
    """

    def __init__(self, key: str, target: str,
                 replay_cache: ReplayCache | None = None) -> None:
        self._key = key
        self.target = target
        self.replay_cache = replay_cache or ReplayCache()

    def open(self, value: Any, method: str,
             now: float | None = None) -> Opened:
        """The envelope ``value`` of a message delivered for ``method``,
        verified.

        :raises EnvelopeRefused: see the module's docstring
        """
        if value is None:
            raise EnvelopeRefused('no envelope')
        if not is_envelope(value) or not isinstance(value['token'], str):
            raise EnvelopeRefused('not an envelope')
        if value['envelope'] != VERSION:
            raise EnvelopeRefused('envelope version %r is not %s'
                                  % (str(value['envelope'])[:16], VERSION))
        try:
            body = crypto.unseal(value['token'], self._key)
        except crypto.UnsealError:
            raise EnvelopeRefused('the seal does not verify with the '
                                  "receiver's key")
        body = self._well_formed(body)
        if body['method'] != method:
            raise EnvelopeRefused('sealed for method %r' % body['method'])
        if body['target'] != self.target:
            raise EnvelopeRefused('sealed for target %r' % body['target'])
        now = time.time() if now is None else now
        skew = CONF.rpc_clock_skew
        if body['time'] > now + skew:
            raise EnvelopeRefused('sent %.0f s in the future'
                                  % (body['time'] - now))
        expires = body['time'] + body['ttl'] + skew
        if expires < now:
            raise EnvelopeRefused('expired %.0f s ago' % (now - expires))
        self.replay_cache.check_and_add(body['nonce'], expires, now)
        return Opened(body)

    @staticmethod
    def _well_formed(body: Any) -> dict:
        if not isinstance(body, dict) or set(body) != set(_FIELDS) or \
                body['v'] != VERSION:
            raise EnvelopeRefused('malformed envelope')
        types = {'method': str, 'target': str, 'time': (int, float),
                 'ttl': (int, float), 'nonce': str, 'context': dict,
                 'args': dict}
        for field, kind in types.items():
            if not isinstance(body[field], kind) or \
                    isinstance(body[field], bool):
                raise EnvelopeRefused('malformed envelope (%s)' % field)
        return body
