"""The users, databases and root capability of each datastore manager."""
from trove_clone.common import exception
from trove_clone.guestagent.datastores import accounts as accounts_base
from trove_clone.guestagent.datastores import base
from trove_clone.guestagent.datastores import mariadb_accounts
from trove_clone.guestagent.datastores import postgresql_accounts
from trove_clone.guestagent.datastores import redis_accounts

ACCOUNTS = {
    'mysql': mariadb_accounts.MariadbAccounts,
    'mariadb': mariadb_accounts.MariadbAccounts,
    'postgresql': postgresql_accounts.PostgresqlAccounts,
    'redis': redis_accounts.RedisAccounts,
}


def accounts(manager: str, engine: base.Lifecycle) -> accounts_base.Accounts:
    """The accounts of ``manager`` on its running ``engine``;
    DatastoreOperationNotSupported for a manager without them."""
    if manager not in ACCOUNTS:
        raise exception.DatastoreOperationNotSupported(
            operation='users and databases', datastore=manager)
    return ACCOUNTS[manager](engine)
