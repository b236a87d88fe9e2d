"""The upgrade capability of each datastore manager."""
from trove_clone.common import exception
from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import mariadb_upgrade
from trove_clone.guestagent.datastores import postgresql_upgrade
from trove_clone.guestagent.datastores import redis_upgrade
from trove_clone.guestagent.datastores import upgrade as upgrade_base

UPGRADES = {
    'mysql': mariadb_upgrade.MariadbUpgrade,
    'mariadb': mariadb_upgrade.MariadbUpgrade,
    'postgresql': postgresql_upgrade.PostgresqlUpgrade,
    'redis': redis_upgrade.RedisUpgrade,
}


def upgrade(manager: str, engine: base.Lifecycle) -> upgrade_base.Upgrade:
    """The upgrades of ``manager`` for ``engine`` (the lifecycle of the
    current image); DatastoreOperationNotSupported for a manager without
    them."""
    if manager not in UPGRADES:
        raise exception.DatastoreOperationNotSupported(
            operation='upgrade', datastore=manager)
    return UPGRADES[manager](engine)
