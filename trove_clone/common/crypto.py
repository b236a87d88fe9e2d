"""Keys and sealed messages of guest RPC.

Each instance gets its own key (a Fernet key) at create time. The control
database keeps it wrapped with the deployment's secret
(``common.secrets.rpc_key_secret()``: ``inst_rpc_key_encr_key`` or the
generated ``inst_rpc_key_file``); the guest finds it in its configuration.
A sealed message is authenticated as well as encrypted, so the conductor
knows a heartbeat came from the holder of the instance's key.
"""
import base64
import hashlib
import json
import os
from typing import Any

from cryptography import fernet


class UnsealError(Exception):
    """A message did not decrypt with the key it should have."""


def _wrapping_key(secret: str) -> fernet.Fernet:
    digest = hashlib.sha256(secret.encode('utf-8')).digest()
    return fernet.Fernet(base64.urlsafe_b64encode(digest))


def generate_key() -> str:
    """A new instance key."""
    return fernet.Fernet.generate_key().decode('ascii')


def wrap_key(key: str, secret: str) -> str:
    """``key`` encrypted with ``secret`` for the control database."""
    return _wrapping_key(secret).encrypt(key.encode('ascii')).decode('ascii')


def unwrap_key(wrapped: str, secret: str) -> str:
    """The instance key from its stored form; UnsealError if ``secret``
    is not the one that wrapped it."""
    try:
        return _wrapping_key(secret).decrypt(
            wrapped.encode('ascii')).decode('ascii')
    except (fernet.InvalidToken, ValueError) as error:
        raise UnsealError('The stored instance key does not decrypt with '
                          'the deployment secret (inst_rpc_key_encr_key '
                          'or inst_rpc_key_file): %s' % error)


def seal(value: Any, key: str) -> str:
    """``value`` (JSON-serialisable) encrypted and signed with ``key``."""
    data = json.dumps(value).encode('utf-8')
    return fernet.Fernet(key.encode('ascii')).encrypt(data).decode('ascii')


def unseal(token: str, key: str) -> Any:
    """The value ``seal`` sealed; UnsealError when ``token`` was not
    sealed with ``key`` or was changed."""
    try:
        data = fernet.Fernet(key.encode('ascii')).decrypt(
            token.encode('ascii'))
    except (fernet.InvalidToken, ValueError, AttributeError) as error:
        raise UnsealError('The message does not decrypt with the key of '
                          'its sender: %s' % (error or 'invalid token'))
    return json.loads(data)


def generate_secret() -> str:
    """A random secret for a deployment's stored data (e.g. modules)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode('ascii')


def encrypt_text(text: str, secret: str) -> str:
    """``text`` encrypted and authenticated with ``secret``."""
    return _wrapping_key(secret).encrypt(text.encode('utf-8')).decode(
        'ascii')


def decrypt_text(token: str, secret: str) -> str:
    """The text ``encrypt_text`` encrypted; UnsealError with another
    secret or changed data."""
    try:
        return _wrapping_key(secret).decrypt(token.encode('ascii')).decode(
            'utf-8')
    except (fernet.InvalidToken, ValueError) as error:
        raise UnsealError('Stored data does not decrypt with the module '
                          'key: %s' % (error or 'invalid token'))
