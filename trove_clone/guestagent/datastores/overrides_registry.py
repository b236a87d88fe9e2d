"""The configuration-group capability of each datastore manager."""
from trove_clone.common import exception
from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import mariadb_overrides
from trove_clone.guestagent.datastores import overrides as overrides_base
from trove_clone.guestagent.datastores import postgresql_overrides
from trove_clone.guestagent.datastores import redis_overrides

OVERRIDES = {
    'mysql': mariadb_overrides.MariadbOverrides,
    'mariadb': mariadb_overrides.MariadbOverrides,
    'postgresql': postgresql_overrides.PostgresqlOverrides,
    'redis': redis_overrides.RedisOverrides,
}


def overrides(manager: str,
              engine: base.Lifecycle) -> overrides_base.Overrides:
    """The configuration groups of ``manager`` on its running ``engine``;
    DatastoreOperationNotSupported for a manager without them."""
    if manager not in OVERRIDES:
        raise exception.DatastoreOperationNotSupported(
            operation='configuration groups', datastore=manager)
    return OVERRIDES[manager](engine)
