"""PostgreSQL streaming replication.

On the source, each replica has a role ``os_repl_<id>`` (LOGIN
REPLICATION, a fresh password per context, a member of ``os_replication``,
which may EXECUTE the four functions pg_rewind reads files with), a
physical replication slot of the same name (the source keeps the WAL the
replica has not received, up to ``max_slot_wal_keep_size``) and
pg_hba.conf lines allowing ``replication`` and the ``postgres`` database
(pg_rewind) for that role from the replica's address alone; members of
``os_replication`` are refused everywhere else, on every server (the
roles are replicated everywhere). The lifecycle writes pg_hba.conf from
the replication state at every start.

A new replica is seeded straight from the source before its first start:
``pg_basebackup -X stream -R -S <slot> -c fast`` over TCP as its role
(the password in the environment, not on the command line); ``-R``
writes ``standby.signal`` and ``primary_conninfo`` (with the password,
inside the 0700 cluster directory). A hot standby refuses every write.

Promotion is ``pg_promote()``, then the standby settings are reset and a
checkpoint written (pg_rewind reads the new timeline from the control
file). An instance re-pointed later (the old source after a planned
switchover, a replica after a promotion) is stopped cleanly, rewound with
``pg_rewind`` against the new source (nothing to do when it has not
diverged; the clusters have data checksums and ``wal_log_hints``), given
``standby.signal`` and the new ``primary_conninfo`` and
``primary_slot_name``, and started. A planned switchover stops the old
source cleanly first (:meth:`demote`): its WAL up to the shutdown
checkpoint reaches the replicas, whose position it returns
(``pg_controldata``).
"""
import os
import re
import subprocess

import psycopg
from psycopg import sql

from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides
from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.postgresql import lifecycle

#: The functions pg_rewind calls on its source (besides a superuser).
REWIND_FUNCTIONS = (
    'pg_catalog.pg_ls_dir(text, boolean, boolean)',
    'pg_catalog.pg_stat_file(text, boolean)',
    'pg_catalog.pg_read_binary_file(text)',
    'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)')
#: The settings of a standby in postgresql.auto.conf.
STANDBY_SETTINGS = ('primary_conninfo', 'primary_slot_name')
#: How long pg_basebackup and pg_rewind may take.
TOOL_TIMEOUT = 3600
_CHECKPOINT = re.compile(r'^Latest checkpoint location:\s+(\S+)$', re.M)


def lsn_rank(lsn: str | None) -> int:
    """A WAL location ``X/Y`` as a number (0 for None)."""
    if not lsn:
        return 0
    high, low = str(lsn).split('/')
    return (int(high, 16) << 32) + int(low, 16)


def conninfo(master: dict, application_name: str) -> str:
    """The libpq connection string of ``master`` (its values are the
    agent's: host, port, names and a URL-safe password; quoted anyway)."""
    def quote(value) -> str:
        return "'%s'" % str(value).replace('\\', '\\\\').replace("'", "\\'")
    return ' '.join('%s=%s' % (name, quote(value)) for name, value in (
        ('host', master['host']), ('port', master['port']),
        ('user', master['user']), ('password', master['password']),
        ('application_name', application_name)))


def standby_settings(text: str, master: dict, application_name: str
                     ) -> str:
    """postgresql.auto.conf ``text`` with the standby settings of
    ``master`` in place of any it had."""
    kept = [line for line in text.splitlines()
            if line.split('=')[0].strip() not in STANDBY_SETTINGS]
    value = conninfo(master, application_name).replace("'", "''")
    kept.append("primary_conninfo = '%s'" % value)
    kept.append("primary_slot_name = '%s'" % master['slot'])
    return '\n'.join(kept) + '\n'


class PostgresqlReplication(replication.Replication):

    datastore = 'postgresql'
    engine: lifecycle.PostgresqlLifecycle

    def _query(self, statement, args=None) -> list[tuple]:
        try:
            with self.engine.connect() as connection:
                cursor = connection.execute(statement, args)
                return cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            raise replication.ReplicationError(
                reason='PostgreSQL failed: %s' % str(error).strip()
            ) from error

    def _value(self, statement, args=None):
        return self._query(statement, args)[0][0]

    def _in_recovery(self) -> bool:
        return bool(self._value('SELECT pg_is_in_recovery()'))

    def program(self, name: str) -> str:
        """A PostgreSQL program of the image (beside postgres when the
        manifest does not name it)."""
        return self.engine.programs.get(name) or os.path.join(
            os.path.dirname(self.engine.programs['postgres']), name)

    def _tool(self, argv: list[str], what: str, password: str) -> str:
        environment = dict(os.environ, PGPASSWORD=password,
                           PGCONNECT_TIMEOUT='10')
        try:
            result = subprocess.run(argv, capture_output=True, text=True,
                                    timeout=TOOL_TIMEOUT, env=environment,
                                    **self.engine._privileges())
        except subprocess.TimeoutExpired as error:
            raise replication.ReplicationError(
                reason='%s timed out: %s' % (what, error)) from error
        if result.returncode:
            raise replication.ReplicationError(reason='%s failed: %s' % (
                what, (result.stderr or result.stdout).strip()[-600:]))
        return result.stdout + result.stderr

    # --- source -----------------------------------------------------------

    def _grant(self, user: str, password: str, address: str) -> dict:
        role, group = sql.Identifier(user), sql.Identifier(
            lifecycle.REPLICATION_GROUP)
        if not self._query('SELECT 1 FROM pg_roles WHERE rolname = %s',
                           (lifecycle.REPLICATION_GROUP,)):
            self._query(sql.SQL('CREATE ROLE {} NOLOGIN').format(group))
            self._query(sql.SQL('GRANT EXECUTE ON FUNCTION {} TO {}').format(
                sql.SQL(', ').join(sql.SQL(name)
                                   for name in REWIND_FUNCTIONS), group))
        exists = self._query('SELECT 1 FROM pg_roles WHERE rolname = %s',
                             (user,))
        verb = sql.SQL('ALTER' if exists else 'CREATE')
        self._query(sql.SQL('{} ROLE {} LOGIN REPLICATION PASSWORD {}')
                    .format(verb, role, sql.Literal(password)))
        self._query(sql.SQL('GRANT {} TO {}').format(group, role))
        self._query('SELECT pg_create_physical_replication_slot(%s, true) '
                    'WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots '
                    'WHERE slot_name = %s)', (user, user))
        return {'slot': user}

    def _granted(self) -> None:
        self.engine.write_access_files(self.engine.pgdata)
        if self.engine.is_healthy():
            self._query('SELECT pg_reload_conf()')

    def _revoke(self, user: str) -> None:
        self._query('SELECT pg_terminate_backend(active_pid) FROM '
                    'pg_replication_slots WHERE slot_name = %s AND '
                    'active_pid IS NOT NULL', (user,))
        replication.wait(lambda: not self._query(
            'SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND '
            'active', (user,)), 10, 'the slot %s to be released' % user)
        self._query('SELECT pg_drop_replication_slot(slot_name) FROM '
                    'pg_replication_slots WHERE slot_name = %s', (user,))
        if self._in_recovery() or not self._query(
                'SELECT 1 FROM pg_roles WHERE rolname = %s', (user,)):
            return
        self._query(sql.SQL('DROP ROLE {}').format(sql.Identifier(user)))

    def demote(self) -> None:
        """Stop the source cleanly: its last WAL (the shutdown
        checkpoint) goes to the connected replicas first."""
        if self.engine.is_healthy():
            self._query('CHECKPOINT')
        self.engine.stop()

    def latest_txn_id(self) -> str:
        if self.engine.is_healthy():
            return self._value('SELECT CASE WHEN pg_is_in_recovery() THEN '
                               'pg_last_wal_replay_lsn() ELSE '
                               'pg_current_wal_lsn() END::text')
        output = self._tool([self.program('pg_controldata'), '-D',
                             self.engine.pgdata], 'pg_controldata', '')
        match = _CHECKPOINT.search(output)
        if match is None:
            raise replication.ReplicationError(
                reason='pg_controldata shows no checkpoint location')
        return match.group(1)

    def make_read_only(self, read_only: bool) -> None:
        # A standby refuses writes by itself; a promoted server takes
        # them. A running source is stopped instead (demote).
        if read_only:
            raise self.not_supported()

    # --- replica ------------------------------------------------------------

    def seed(self, snapshot: dict) -> None:
        master = replication.require_master(snapshot)
        pgdata = self.engine.pgdata
        if os.path.isdir(pgdata) and os.listdir(pgdata):
            raise replication.ReplicationError(
                reason='the cluster directory %s is not empty: a replica '
                       'is seeded only onto a new volume' % pgdata)
        self.engine.private_dir(self.engine.data_dir)
        self.engine.private_dir(pgdata)
        self._tool([self.program('pg_basebackup'), '-h', master['host'],
                    '-p', str(master['port']), '-U', master['user'],
                    '-D', pgdata, '-X', 'stream', '-R',
                    '-S', master['slot'], '-c', 'fast', '-w'],
                   'pg_basebackup from %s' % master['host'],
                   master['password'])
        self._write_standby(master)

    def _write_standby(self, master: dict) -> None:
        """standby.signal, and the standby settings of ``master`` in
        postgresql.auto.conf (the engine stopped)."""
        pgdata = self.engine.pgdata
        path = os.path.join(pgdata, 'postgresql.auto.conf')
        try:
            with open(path) as source:
                text = source.read()
        except FileNotFoundError:
            text = ''
        owner = self.engine._user()
        overrides.replace_file(path, standby_settings(
            text, master, master.get('replica_id') or master['user']),
            owner)
        overrides.replace_file(os.path.join(pgdata, 'standby.signal'), '',
                               owner)

    def _follow(self, master: dict, snapshot: dict, seeded: bool) -> None:
        if seeded:
            return
        self.engine.stop()
        source = ' '.join(conninfo(master, 'pg_rewind').split(' ')[:3]) + \
            ' dbname=postgres'
        output = self._tool([self.program('pg_rewind'),
                             '--target-pgdata=%s' % self.engine.pgdata,
                             '--source-server=%s' % source],
                            'pg_rewind from %s' % master['host'],
                            master['password'])
        replication.LOG.info('pg_rewind: %s', ' '.join(output.split()))
        self._write_standby(master)
        try:
            self.engine.start()
        except base.EngineError as error:
            raise replication.ReplicationError(
                reason='the rewound server did not start: %s'
                       % error.message) from error

    def _streaming(self):
        status = self._query('SELECT status FROM pg_stat_wal_receiver')
        if status and status[0][0] == 'streaming':
            return True
        return False, 'WAL receiver %s' % (status[0][0] if status
                                           else 'not running')

    def _applied(self, txn: str):
        return bool(self._value(
            'SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn', (txn,))), \
            'replayed up to %s' % self._value(
                'SELECT pg_last_wal_replay_lsn()::text')

    def last_txn(self) -> dict:
        position = self._value(
            'SELECT greatest(pg_last_wal_receive_lsn(), '
            'pg_last_wal_replay_lsn())::text')
        return {'position': position, 'rank': lsn_rank(position)}

    def _unfollow(self) -> None:
        if self._in_recovery():
            if not self._value('SELECT pg_promote(true, 60)'):
                raise replication.ReplicationError(
                    reason='pg_promote did not finish in 60 s')
        for name in STANDBY_SETTINGS:
            self._query(sql.SQL('ALTER SYSTEM RESET {}').format(
                sql.Identifier(name)))
        self._query('SELECT pg_reload_conf()')
        # pg_rewind of the others reads the new timeline from the
        # control file.
        self._query('CHECKPOINT')

    def _replica_status(self) -> dict:
        row = self._query(
            'SELECT (SELECT status FROM pg_stat_wal_receiver), '
            'pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '
            'pg_last_wal_replay_lsn())::bigint, '
            'CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() '
            'THEN 0 ELSE EXTRACT(EPOCH FROM now() - '
            'pg_last_xact_replay_timestamp()) END::float, '
            'pg_last_wal_replay_lsn()::text')[0]
        return {'state': row[0] or 'connecting', 'lag_bytes': row[1],
                'lag_seconds': row[2], 'position': row[3]}

    def _connected_replicas(self) -> int | None:
        return int(self._value("SELECT count(*) FROM pg_stat_replication "
                               "WHERE state = 'streaming'"))
