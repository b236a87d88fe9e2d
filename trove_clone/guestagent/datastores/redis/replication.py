"""Redis replication: ``REPLICAOF`` with an ACL user of the source.

Each replica logs in to its source as its own ACL user
(``os_repl_<id>``: ``+psync +replconf +ping``, nothing else, saved in the
ACL file), given to it as ``masteruser``/``masterauth``. The source
streams its data from memory at once (``repl-diskless-sync yes``, delay
0: in sync in tens of milliseconds here). Replicas are read-only
(``replica-read-only``, for every client). ACL users are not replicated:
a context carries the tenant's users (``ACL LIST`` lines but the
agent's) and a replica makes them as they are, so the tenant reads there
with the same passwords.

The replica's settings are kept in the replication state and rendered
into trove.conf at every start (templates/redis/config.template); at
run time they are applied with ``CONFIG SET`` and ``REPLICAOF``.

A planned switchover pauses the source's writes (``CLIENT PAUSE ...
WRITE``: writers wait, nothing is refused or lost, and the replication
offset stays still); positions are replication offsets; promote is
``REPLICAOF NO ONE`` (the new source keeps the old replication id as its
second one, so the others and the old source resync partially).
"""
import redis

from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.redis import lifecycle

#: What a replication user may do: the replication handshake only.
REPLICATION_RULES = ('+psync', '+replconf', '+ping')
#: How long a demoted source holds its writers (ms) unless attached or
#: made writable again first.
PAUSE_MS = 60000


def tenant_acl(lines: list) -> list[str]:
    """The ``ACL LIST`` lines of the tenant's users (not ``default``, not
    the agent's ``os_`` users)."""
    kept = []
    for line in lines:
        line = line.decode() if isinstance(line, bytes) else line
        words = line.split()
        if len(words) < 2 or words[0] != 'user' or \
                words[1] == 'default' or words[1].startswith('os_'):
            continue
        kept.append(line)
    return kept


def parse_info(text) -> dict:
    """``INFO replication`` (a dict from redis-py) with text values."""
    return {str(key): value.decode() if isinstance(value, bytes) else value
            for key, value in dict(text).items()}


class RedisReplication(replication.Replication):

    datastore = 'redis'
    engine: lifecycle.RedisLifecycle

    def _command(self, *args):
        client = self.engine.client(timeout=10)
        try:
            return client.execute_command(*args)
        except redis.RedisError as error:
            raise replication.ReplicationError(
                reason='Redis refused %s: %s' % (args[0], error)) from error
        finally:
            client.close()

    def _info(self) -> dict:
        client = self.engine.client(timeout=5)
        try:
            return parse_info(client.info('replication'))
        finally:
            client.close()

    # --- source -----------------------------------------------------------

    def _grant(self, user: str, password: str, address: str) -> None:
        self._command('ACL', 'SETUSER', user, 'reset', 'on',
                      '>' + password, *REPLICATION_RULES)
        self._command('ACL', 'SAVE')

    def _context_extra(self) -> dict:
        return {'acl': tenant_acl(self._command('ACL', 'LIST'))}

    def _revoke(self, user: str) -> None:
        self._command('ACL', 'DELUSER', user)
        self._command('ACL', 'SAVE')

    def latest_txn_id(self) -> str:
        return str(self._info()['master_repl_offset'])

    def make_read_only(self, read_only: bool) -> None:
        if read_only:
            self._command('CLIENT', 'PAUSE', PAUSE_MS, 'WRITE')
        else:
            self._command('CLIENT', 'UNPAUSE')

    # --- replica ------------------------------------------------------------

    def _follow(self, master: dict, snapshot: dict, seeded: bool) -> None:
        for line in snapshot.get('acl') or []:
            words = line.split()
            self._command('ACL', 'SETUSER', words[1], 'reset', *words[2:])
        self._command('ACL', 'SAVE')
        self._command('CONFIG', 'SET', 'masteruser', master['user'])
        self._command('CONFIG', 'SET', 'masterauth', master['password'])
        self._command('CONFIG', 'SET', 'replica-read-only', 'yes')
        self._command('REPLICAOF', master['host'], str(master['port']))
        # A demoted source holds its writers until now: they are refused
        # (READONLY) from here on, never applied.
        self._command('CLIENT', 'UNPAUSE')

    def _streaming(self):
        info = self._info()
        if info.get('role') != 'slave':
            return False, 'not a replica'
        if info.get('master_link_status') != 'up' or \
                int(info.get('master_sync_in_progress', 0)):
            return False, 'link %s' % info.get('master_link_status')
        return True

    def _applied(self, txn: str):
        info = self._info()
        offset = int(info.get('slave_repl_offset',
                              info.get('master_repl_offset', -1)))
        return offset >= int(txn), 'at offset %d' % offset

    def last_txn(self) -> dict:
        info = self._info()
        offset = int(info.get('slave_repl_offset',
                              info.get('master_repl_offset', 0)))
        return {'position': str(offset), 'rank': offset}

    def _unfollow(self) -> None:
        self._command('REPLICAOF', 'NO', 'ONE')
        self._command('CONFIG', 'SET', 'masteruser', '')
        self._command('CONFIG', 'SET', 'masterauth', '')

    def _replica_status(self) -> dict:
        info = self._info()
        if info.get('master_link_status') == 'up':
            state = 'syncing' if int(info.get('master_sync_in_progress',
                                              0)) else 'streaming'
            # The source pings every second: a replica whose link is up
            # is at most that far behind.
            return {'state': state, 'lag_seconds': float(info.get(
                'master_last_io_seconds_ago', 0) or 0)}
        return {'state': 'connecting',
                'lag_seconds': float(info.get(
                    'master_link_down_since_seconds', -1) or -1)}

    def _connected_replicas(self) -> int | None:
        return int(self._info().get('connected_slaves', 0))
