"""The descriptor of the Redis engine (the redis manager).

A leaf module: it imports nothing of the guest agent, so that the
services read it (account rules) without loading the engine's code.
"""
import re

from trove_clone.common import engines

PACKAGE = 'trove_clone.guestagent.datastores.redis'

ENGINE = engines.Descriptor(
    name='redis',
    managers=('redis',),
    port=6379,
    versions=('7.0', '6.2'),
    capabilities={
        'lifecycle': PACKAGE + '.lifecycle:RedisLifecycle',
        'accounts': PACKAGE + '.accounts:RedisAccounts',
        'overrides': PACKAGE + '.overrides:RedisOverrides',
        'upgrade': PACKAGE + '.upgrade:RedisUpgrade',
        'modules': PACKAGE + '.modules:RedisCommands',
        'logs': PACKAGE + '.logs:RedisLogs',
        'backup': PACKAGE + '.backup:RedisBackup',
        'replication': PACKAGE + '.replication:RedisReplication',
        'cluster': PACKAGE + '.cluster:RedisCluster',
    },
    template_dir='redis',
    # Redis numbers its databases: no database names.
    account_rules=engines.AccountRules(
        datastore='redis', database_name=None,
        user_name=re.compile(r'^[A-Za-z0-9_.-]{1,64}$'),
        reserved_users=frozenset({'default', 'root'}),
        reserved_databases=frozenset(), has_hosts=False),
    statement_noun='command',
    client_command='redis-cli -h IP --user app --pass app-password',
)
