"""The descriptor of the PostgreSQL engine (the postgresql manager).

A leaf module: it imports nothing of the guest agent, so that the
services read it (account rules) without loading the engine's code.
"""
import re

from trove_clone.common import engines

PACKAGE = 'trove_clone.guestagent.datastores.postgresql'
_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_$]{0,62}$')

ENGINE = engines.Descriptor(
    name='postgresql',
    managers=('postgresql',),
    port=5432,
    versions=('16', '15'),
    capabilities={
        'lifecycle': PACKAGE + '.lifecycle:PostgresqlLifecycle',
        'accounts': PACKAGE + '.accounts:PostgresqlAccounts',
        'overrides': PACKAGE + '.overrides:PostgresqlOverrides',
        'upgrade': PACKAGE + '.upgrade:PostgresqlUpgrade',
        'modules': PACKAGE + '.modules:PostgresqlStatements',
        'logs': PACKAGE + '.logs:PostgresqlLogs',
        'backup': PACKAGE + '.backup:PostgresqlBackup',
        'pitr': PACKAGE + '.pitr:PostgresqlLogs',
        'replication': PACKAGE + '.replication:PostgresqlReplication',
    },
    template_dir='postgresql',
    account_rules=engines.AccountRules(
        datastore='postgresql',
        database_name=_NAME,
        database_name_hint=('use at most 63 letters, digits and _ $, not '
                            'starting with a digit'),
        user_name=_NAME,
        reserved_users=frozenset({'postgres', 'root'}),
        reserved_databases=frozenset({'postgres', 'template0',
                                      'template1'}),
        has_hosts=False, root_name='root'),
    statement_noun='statement',
    client_command='PGPASSWORD=app-password psql -h IP -U app appdb',
)
