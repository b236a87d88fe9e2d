"""Datastore managers by name, and the engine of this server."""
import os

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import mariadb
from trove_clone.guestagent.datastores import postgresql
from trove_clone.guestagent.datastores import redis

LIFECYCLES = {
    'mysql': mariadb.MariadbLifecycle,
    'mariadb': mariadb.MariadbLifecycle,
    'postgresql': postgresql.PostgresqlLifecycle,
    'redis': redis.RedisLifecycle,
}


def manifest() -> dict:
    """The image manifest of this server."""
    return base.read_manifest(CONF.guest_root)


def volume_dir() -> str:
    """Where this server's data volume is mounted."""
    return CONF.guest_volume or os.path.join(CONF.guest_root, 'var', 'lib',
                                             'trove')


def lifecycle(manager: str) -> base.Lifecycle:
    """The lifecycle of ``manager`` for this server's engine and volume."""
    if manager not in LIFECYCLES:
        raise exception.DatastoreOperationNotSupported(
            operation='prepare', datastore=manager)
    return LIFECYCLES[manager](CONF.guest_root, CONF.guest_address,
                               os.path.join(volume_dir(), 'data'),
                               manifest()['programs'], CONF.guest_ram_mb,
                               os_user=CONF.guest_engine_user or None)
