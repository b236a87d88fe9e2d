"""The deployment's secrets at rest, and files only their owner may read.

Each deployment has its own random secrets, never a literal default. A
secret that is not configured explicitly lives in a key file beside the
first ``--config-file`` (mode 0600), written by ``trove-manage db_sync``;
every trove-api, trove-taskmanager and trove-conductor host needs the same
file (or the same explicit option).

* ``inst_rpc_key_encr_key`` / ``inst_rpc_key_file`` (``instance-rpc.key``):
  wraps each instance's RPC key in the control database.

Before this module, ``inst_rpc_key_encr_key`` had a literal default
(:data:`LEGACY_RPC_KEY`). Keys wrapped with it still unwrap, with a
warning, until ``trove-manage db_sync`` (or ``db_contract``) wraps them
again with the deployment's key.

Private files are created with their mode (:func:`write_private_file`,
:func:`private_umask`), never chmod-ed after the fact, so that no other
user can open them in between.
"""
import contextlib
import os
import re
import stat
from typing import Iterator

from oslo_log import log as logging

from trove_clone.common import crypto
from trove_clone.common import exception
from trove_clone.conf import CONF

LOG = logging.getLogger(__name__)

#: The literal default ``inst_rpc_key_encr_key`` had; still accepted to
#: unwrap stored keys (with a warning), never to wrap new ones.
LEGACY_RPC_KEY = 'trove-clone-default-instance-key-wrapping-key'
RPC_KEY_FILE_NAME = 'instance-rpc.key'
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


# --- private files -----------------------------------------------------------

@contextlib.contextmanager
def private_umask(mask: int = 0o077) -> Iterator[None]:
    """Files and directories created inside are not group/other
    accessible (``mask`` 0o077) or not group/other writable and readable
    but traversable (0o066 for directories another uid must enter).

    The umask is per process: use it around code that creates files
    through a library that takes no mode (sqlite, tarfile)."""
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def make_private_dirs(path: str, mode: int = PRIVATE_DIR_MODE) -> None:
    """``os.makedirs`` whose new directories get ``mode`` (0700; 0711
    where another uid must traverse). Existing ones are left as they are."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path:
        make_private_dirs(parent, mode)
    try:
        os.mkdir(path, mode)
    except FileExistsError:
        return
    # mkdir applies the process umask; a 0711 directory must not lose its
    # x bits to a umask of 0o077 set by the caller.
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)


def create_private_file(path: str, text: str) -> bool:
    """Create ``path`` (mode 0600) holding ``text`` unless it exists;
    returns whether it was created. Missing directories are made 0700."""
    make_private_dirs(os.path.dirname(os.path.abspath(path)))
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                             PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, 'w') as target:
        target.write(text)
    return True


def write_private_file(path: str, text: str) -> None:
    """Replace ``path`` by a new file of mode 0600 holding ``text``.

    The text goes to a new file first, created with its mode, then
    renamed over ``path``: no reader sees half a file, and a file that was
    readable by others before is replaced, not reused."""
    # Unique per writer: two threads of one process replacing the same
    # file must not unlink each other's new file.
    temporary = '%s.%d.%s.new' % (path, os.getpid(), os.urandom(6).hex())
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         PRIVATE_FILE_MODE)
    try:
        with os.fdopen(descriptor, 'w') as target:
            target.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def exposure(path: str) -> str | None:
    """Why ``path`` is not private (its mode lets group or others read
    or write it), or None when it is private or absent."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return None
    if mode & 0o066:
        return '%s is mode %04o (group or others may read it): make it ' \
               '0600.' % (path, mode)
    return None


_SECRET_LINE = re.compile(
    r'^\s*(?P<name>[\w.-]*(password|secret|_key|_pass)|transport_url|'
    r'connection)\s*=\s*(?P<value>\S.*)$', re.IGNORECASE | re.MULTILINE)


def holds_secret(text: str) -> bool:
    """Whether configuration ``text`` sets a password, key or URL with
    credentials (which makes the file private)."""
    for match in _SECRET_LINE.finditer(text):
        name, value = match.group('name').lower(), match.group('value')
        if name in ('transport_url', 'connection'):
            # A URL with a password: scheme://user:password@host
            if re.search(r'://[^/@:]*:[^/@]+@', value):
                return True
        elif not name.endswith('_key_file'):
            return True
    return False


# --- key files ---------------------------------------------------------------

def beside_config(configured: str | None, file_name: str) -> str:
    """The path of a key file: ``configured`` if set, else ``file_name``
    beside the first ``--config-file`` (``~/.trove_clone`` without one)."""
    if configured:
        return os.path.abspath(configured)
    if CONF.config_file:
        return os.path.join(os.path.dirname(os.path.abspath(
            CONF.config_file[0])), file_name)
    return os.path.join(os.path.expanduser('~'), '.trove_clone', file_name)


def ensure_key_file(path: str) -> bool:
    """Write a new random secret to ``path`` (0600) unless it exists;
    returns whether it did."""
    if os.path.exists(path):
        return False
    created = create_private_file(path, crypto.generate_secret() + '\n')
    if created:
        LOG.info('Generated a new deployment secret in %s.', path)
    return created


def read_key_file(path: str, option: str) -> str:
    """The secret in ``path``.

    :raises: DeploymentSecretMissing when the file is missing or empty
    """
    try:
        with open(path) as source:
            secret = source.read().strip()
    except FileNotFoundError:
        raise exception.DeploymentSecretMissing(path=path, option=option)
    if not secret:
        # Never wrap under an empty key (a truncated file, or one another
        # process has created but not written yet).
        raise exception.DeploymentSecretMissing(path=path, option=option)
    if exposure(path):
        LOG.warning('The key file %s is readable by other users: make it '
                    'mode 0600.', path)
    return secret


# --- the instances' RPC keys -------------------------------------------------

def rpc_key_file() -> str:
    """Where the generated ``inst_rpc_key_encr_key`` lives."""
    return beside_config(CONF.inst_rpc_key_file, RPC_KEY_FILE_NAME)


def ensure_rpc_key() -> str | None:
    """Generate the RPC key-wrapping secret file when no key is configured
    and the file does not exist yet; returns the path written, or None."""
    if CONF.inst_rpc_key_encr_key:
        return None
    path = rpc_key_file()
    return path if ensure_key_file(path) else None


def rpc_key_secret() -> str:
    """The secret the instances' RPC keys are wrapped with in the control
    database: ``inst_rpc_key_encr_key`` when set, else the key file's.

    :raises: DeploymentSecretMissing when neither is there (this host was
        never given the deployment's key: it must not make its own, or the
        keys it wraps could not be read elsewhere)
    """
    if CONF.inst_rpc_key_encr_key:
        return CONF.inst_rpc_key_encr_key
    return read_key_file(rpc_key_file(), 'inst_rpc_key_encr_key')


def wrap_instance_key(key: str) -> str:
    """An instance's RPC key as the control database stores it."""
    return crypto.wrap_key(key, rpc_key_secret())


def unwrap_instance_key(wrapped: str) -> str:
    """An instance's RPC key from its stored form. A key wrapped with the
    old literal default still unwraps, with a warning.

    :raises: crypto.UnsealError when neither secret wrapped it
    """
    secret = rpc_key_secret()
    try:
        return crypto.unwrap_key(wrapped, secret)
    except crypto.UnsealError:
        if secret == LEGACY_RPC_KEY:
            raise
        try:
            key = crypto.unwrap_key(wrapped, LEGACY_RPC_KEY)
        except crypto.UnsealError:
            pass
        else:
            LOG.warning('An instance RPC key is wrapped with the old '
                        'default inst_rpc_key_encr_key: run trove-manage '
                        'db_sync to wrap it with this deployment\'s key.')
            return key
        raise


def is_legacy_wrapped(wrapped: str) -> bool:
    """Whether ``wrapped`` was wrapped with the old literal default."""
    try:
        crypto.unwrap_key(wrapped, LEGACY_RPC_KEY)
    except crypto.UnsealError:
        return False
    return True


def rewrapped(wrapped: str) -> str | None:
    """``wrapped`` wrapped again with the deployment's key when the old
    literal default wrapped it (None otherwise)."""
    if rpc_key_secret() == LEGACY_RPC_KEY or not is_legacy_wrapped(wrapped):
        return None
    return crypto.wrap_key(crypto.unwrap_key(wrapped, LEGACY_RPC_KEY),
                           rpc_key_secret())
