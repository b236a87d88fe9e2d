"""Upgrades of Redis (6.2 → 7.0, or to a newer patch release).

A newer Redis reads the files of an older one: 7.0 turns the single
append-only file of 6.2 into its ``appendonlydir`` itself at the first
start. So pre_upgrade compacts the append-only file (BGREWRITEAOF, with
its RDB preamble), writes an RDB (SAVE) and notes how many keys without
an expiry there are, stops Redis and copies the data directory (the data,
redis.conf with CONFIG REWRITE's lines, the ACL file, overrides.conf) to
``<volume>/upgrade/data.backup``. post_upgrade starts the new Redis (its
lifecycle renders trove.conf again) and checks that at least those keys
came back; otherwise, or when it does not start, the copy is put back.
Downgrades of major.minor (7.0 → 6.2) are refused: an older Redis cannot
read the newer formats.
"""
import time

import redis

from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import upgrade

#: How long pre_upgrade waits for the append-only file rewrite.
REWRITE_TIMEOUT = 300.0


def persistent_keys(keyspace: dict) -> int:
    """The keys without an expiry in INFO keyspace's
    ``{'db0': {'keys': n, 'expires': m, ...}, ...}``."""
    return sum(int(db.get('keys', 0)) - int(db.get('expires', 0))
               for db in keyspace.values() if isinstance(db, dict))


class RedisUpgrade(upgrade.Upgrade):
    """Upgrades of a :class:`redis.RedisLifecycle`."""

    datastore = 'redis'
    major_width = 2

    def _client(self) -> redis.Redis:
        return self.engine.client(timeout=60)

    def before_stop(self, info: dict) -> None:
        client = self._client()
        try:
            if client.info('persistence').get('aof_enabled'):
                client.bgrewriteaof()
                self._wait_for_rewrite(client)
            client.save()
            info['persistent_keys'] = persistent_keys(
                client.info('keyspace'))
        except redis.RedisError as error:
            raise base.EngineError('Redis failed: %s' % error) from error
        finally:
            client.close()

    @staticmethod
    def _wait_for_rewrite(client: redis.Redis) -> None:
        deadline = time.monotonic() + REWRITE_TIMEOUT
        while time.monotonic() < deadline:
            persistence = client.info('persistence')
            if not (persistence.get('aof_rewrite_in_progress') or
                    persistence.get('aof_rewrite_scheduled')):
                return
            time.sleep(0.05)
        raise base.EngineError('The append-only file rewrite did not end '
                               'in %d seconds' % REWRITE_TIMEOUT)

    def verify(self, info: dict) -> None:
        expected = info.get('persistent_keys')
        if expected is None:
            return
        client = self._client()
        try:
            found = sum(int(db.get('keys', 0))
                        for db in client.info('keyspace').values()
                        if isinstance(db, dict))
        except redis.RedisError as error:
            raise base.EngineError('Redis failed: %s' % error) from error
        finally:
            client.close()
        if found < expected:
            raise base.EngineError(
                'Redis %s loaded %d keys, the old data had %d without an '
                'expiry' % (info['to_version'], found, expected))
