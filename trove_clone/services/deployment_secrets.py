"""The deployment's secrets and private files over their life: generated
by ``trove-manage db_sync``, stored keys wrapped again on upgrade, and
checked by ``trove-status upgrade check``.

See ``common/secrets.py`` for the secrets themselves and
doc/security-secrets.md for the list of files.
"""
import base64
import binascii
import glob
import os

import sqlalchemy as sa

from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone.services import modules as module_service


def ensure_rpc_key(context) -> str | None:
    """Generate the key file of ``inst_rpc_key_encr_key`` when none is
    configured and the file does not exist; returns the path written.

    :raises: DeploymentSecretMissing when instances already hold keys
        wrapped with a key this host does not have (another host's file)
    """
    if CONF.inst_rpc_key_encr_key or os.path.exists(secrets.rpc_key_file()):
        return None
    foreign = [instance_id for instance_id, wrapped
               in db_instances.wrapped_keys(context)
               if not secrets.is_legacy_wrapped(wrapped)]
    if foreign:
        raise exception.DeploymentSecretMissing(
            path=secrets.rpc_key_file(), option='inst_rpc_key_encr_key')
    return secrets.ensure_rpc_key()


BACKUP_KEY_FILE_NAME = 'backup.key'
BACKUP_KEY_BYTES = 32


def backup_key_file() -> str:
    """Where the generated backup key lives."""
    return secrets.beside_config(CONF.backup_key_file, BACKUP_KEY_FILE_NAME)


def ensure_backup_key() -> str | None:
    """Generate the backup key file (0600: base64 of 32 random bytes)
    when no key is configured and the file does not exist yet; returns
    the path written, or None."""
    if CONF.backup_aes_key:
        return None
    path = backup_key_file()
    if os.path.exists(path):
        return None
    key = base64.b64encode(os.urandom(BACKUP_KEY_BYTES)).decode('ascii')
    return path if secrets.create_private_file(path, key + '\n') else None


def backup_key(create: bool = False) -> str:
    """The deployment's backup encryption key, base64 of 32 bytes, as the
    guest agents get it in backup_info: ``backup_aes_key`` when set, else
    the key file's (made first when ``create``: a deployment that has
    taken no backup yet).

    :raises: DeploymentSecretMissing when there is none, or it is not
        base64 of 32 bytes
    """
    if CONF.backup_aes_key:
        key, source = CONF.backup_aes_key, 'backup_aes_key'
    else:
        if create:
            ensure_backup_key()
        source = backup_key_file()
        key = secrets.read_key_file(source, 'backup_aes_key')
    try:
        valid = len(base64.b64decode(key, validate=True)) == \
            BACKUP_KEY_BYTES
    except (binascii.Error, ValueError):
        valid = False
    if not valid:
        raise exception.DeploymentSecretMissing(path=source,
                                                option='backup_aes_key')
    return key


def rewrap_legacy_keys(context) -> int:
    """Wrap again, with the deployment's key, the instance RPC keys the
    old literal default wrapped; returns how many were."""
    done = 0
    for instance_id, wrapped in db_instances.wrapped_keys(context):
        new = secrets.rewrapped(wrapped)
        if new and db_instances.replace_wrapped_key(context, instance_id,
                                                    wrapped, new):
            done += 1
    return done


def legacy_key_count(context) -> int:
    """How many stored instance RPC keys the old literal default wraps."""
    return sum(1 for _instance_id, wrapped
               in db_instances.wrapped_keys(context)
               if secrets.is_legacy_wrapped(wrapped))


def secrets_check(context) -> tuple[bool, str]:
    """Whether the deployment's secrets are its own and private, and why
    (``trove-status upgrade check``)."""
    problems = []
    if CONF.inst_rpc_key_encr_key == secrets.LEGACY_RPC_KEY:
        problems.append('inst_rpc_key_encr_key is the old literal default: '
                        'remove it from the configuration (trove-manage '
                        'db_sync then generates %s) or set a random value.'
                        % secrets.rpc_key_file())
        source = 'inst_rpc_key_encr_key'
    elif CONF.inst_rpc_key_encr_key:
        source = 'inst_rpc_key_encr_key'
    else:
        source = secrets.rpc_key_file()
        try:
            secrets.read_key_file(source, 'inst_rpc_key_encr_key')
        except exception.DeploymentSecretMissing as error:
            problems.append(error.message)
    for path in _key_files():
        problems.append(secrets.exposure(path) or '')
    legacy = legacy_key_count(context)
    if legacy:
        problems.append('%d instance RPC keys are wrapped with the old '
                        'default inst_rpc_key_encr_key: run trove-manage '
                        'db_sync to wrap them with the key in %s.'
                        % (legacy, source))
    problems = [problem for problem in problems if problem]
    if problems:
        return False, ' '.join(problems)
    return True, 'Instance RPC keys are wrapped with the key in %s.' % source


def _key_files() -> list[str]:
    paths = []
    if not CONF.inst_rpc_key_encr_key:
        paths.append(secrets.rpc_key_file())
    if not CONF.module_aes_cbc_key:
        paths.append(module_service.key_file())
    if not CONF.backup_aes_key:
        paths.append(backup_key_file())
    return [path for path in paths if os.path.exists(path)]


def _sqlite_file() -> str | None:
    connection = CONF.database.connection
    if not connection:
        return None
    try:
        url = sa.engine.make_url(connection)
    except sa.exc.ArgumentError:
        return None
    if url.get_backend_name() != 'sqlite' or not url.database or \
            url.database == ':memory:':
        return None
    return os.path.abspath(url.database)


def _config_files() -> list[str]:
    paths = list(CONF.config_file or [])
    for directory in CONF.config_dir or []:
        paths += sorted(glob.glob(os.path.join(directory, '*.conf')))
    return [os.path.abspath(path) for path in paths]


def private_files() -> list[str]:
    """The files only the deployment's user may read: the SQLite control
    database, the key files and configuration files holding a secret."""
    paths = []
    database = _sqlite_file()
    if database and os.path.exists(database):
        paths.append(database)
    paths += _key_files()
    for path in _config_files():
        try:
            with open(path) as conf:
                if secrets.holds_secret(conf.read()):
                    paths.append(path)
        except OSError:
            continue
    return paths


def private_files_check() -> tuple[bool, str]:
    """Whether no other user may read the private files, and why."""
    paths = private_files()
    problems = [problem for problem in map(secrets.exposure, paths)
                if problem]
    if problems:
        return False, ' '.join(problems)
    return True, '%d private files, none readable by other users.' % len(
        paths)
