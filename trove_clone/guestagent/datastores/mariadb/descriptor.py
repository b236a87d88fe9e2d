"""The descriptor of the MariaDB engine (the mysql and mariadb managers).

A leaf module: it imports nothing of the guest agent, so that the
services read it (account rules) without loading the engine's code.
"""
import re

from trove_clone.common import engines

PACKAGE = 'trove_clone.guestagent.datastores.mariadb'

ENGINE = engines.Descriptor(
    name='mariadb',
    managers=('mysql', 'mariadb'),
    port=3306,
    versions=('10.11',),
    capabilities={
        'lifecycle': PACKAGE + '.lifecycle:MariadbLifecycle',
        'accounts': PACKAGE + '.accounts:MariadbAccounts',
        'overrides': PACKAGE + '.overrides:MariadbOverrides',
        'upgrade': PACKAGE + '.upgrade:MariadbUpgrade',
        'modules': PACKAGE + '.modules:MariadbStatements',
        'logs': PACKAGE + '.logs:MariadbLogs',
        'backup': PACKAGE + '.backup:MariadbBackup',
        'pitr': PACKAGE + '.pitr:MariadbLogs',
        'replication': PACKAGE + '.replication:MariadbReplication',
        'cluster': PACKAGE + '.galera:MariadbGalera',
    },
    template_dir='mariadb',
    account_rules=engines.AccountRules(
        datastore='mysql',
        database_name=re.compile(r'^[A-Za-z0-9_$-]{1,64}$'),
        database_name_hint='use at most 64 letters, digits and _ $ -',
        user_name=re.compile(r'^[A-Za-z0-9_.$-]{1,80}$'),
        reserved_users=frozenset({'root', 'mariadb.sys', 'mysql',
                                  'PUBLIC'}),
        reserved_databases=frozenset({'mysql', 'information_schema',
                                      'performance_schema', 'sys',
                                      'lost+found'})),
    statement_noun='statement',
    client_command='{manager} -h IP -u app -papp-password appdb',
)
