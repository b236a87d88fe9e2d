"""MariaDB (also the mysql manager) GTID replication.

Every server writes a binary log with strict GTIDs and a ``server-id``
of its own (templates/mariadb/config.template, ``log-slave-updates``), so
any replica can become the source. A new replica is seeded from a fresh
backup of the source (:attr:`backup_required`: the control plane passes
``backup_info`` to the replica's prepare); the backup's metadata records
the GTID position it ends at (``gtid``, from ``xtrabackup_info``), which
becomes the replica's ``gtid_slave_pos`` before ``CHANGE MASTER TO ...
MASTER_USE_GTID=slave_pos``: the replica asks for the first transaction
after the backup, never one twice.

An instance re-pointed later (the old source after a switchover, the
other replicas after a promotion) starts from ``@@gtid_current_pos``:
per domain, the last GTID of its binary log when it wrote it itself (a
former source), else what its replication applied (a replica, or one
restored from a backup whose binary log is empty). With
``gtid_strict_mode``, a former source holding a transaction the new one
lacks stops with the engine's error (visible in the heartbeat) rather
than diverging silently.

Each replica logs in as its own account on the source,
``'os_repl_<id>'@'<its address>'`` with ``REPLICATION SLAVE`` only; the
account is made through the binary log, so every replica has the
accounts of the others (a promoted one needs no new account for them,
the control plane still asks for a fresh password). Replicas are
``read_only`` (the tenant's users cannot write; the agent's root, with
READ ONLY ADMIN, can). The agent never writes on a replica through the
binary log (``sql_log_bin=0``), which would give it GTIDs of its own.
"""
import os

import pymysql

from trove_clone.guestagent.capabilities import replication
from trove_clone.guestagent.datastores.mariadb import lifecycle

#: The binary log position files mariadb-backup leaves in the data.
BINLOG_INFO_FILES = ('mariadb_backup_binlog_info', 'xtrabackup_binlog_info')
#: How long a promotion waits for the relay log to be applied.
APPLY_TIMEOUT = 60


def gtid_rank(position: str) -> int:
    """A number that grows with a GTID position (the sum of its
    sequence numbers; one domain here)."""
    total = 0
    for gtid in filter(None, (position or '').split(',')):
        total += int(gtid.strip().rsplit('-', 1)[1])
    return total


def binlog_info_gtid(datadir: str) -> str | None:
    """The GTID of the binary log position file a restore left in
    ``datadir`` (``file<TAB>position<TAB>gtid``), if any."""
    for name in BINLOG_INFO_FILES:
        try:
            with open(os.path.join(datadir, name)) as source:
                fields = source.read().split()
        except FileNotFoundError:
            continue
        return fields[2] if len(fields) > 2 else ''
    return None


class MariadbReplication(replication.Replication):

    datastore = 'mariadb'
    backup_required = True
    engine: lifecycle.MariadbLifecycle

    def _query(self, statement: str, args=None, local: bool = False
               ) -> list[dict]:
        """Run ``statement`` as the agent; rows as dicts. ``local``: not
        into the binary log (on a replica)."""
        with self.engine.cursor() as cursor:
            if local:
                cursor.execute('SET SESSION sql_log_bin = 0')
            try:
                cursor.execute(statement, args)
            except pymysql.Error as error:
                raise replication.ReplicationError(
                    reason='MariaDB refused %s: %s' % (
                        statement.split(' (')[0][:40], error.args[-1]))
            if not cursor.description:
                return []
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def _value(self, statement: str):
        return list(self._query(statement)[0].values())[0]

    def _slave_status(self) -> dict:
        rows = self._query('SHOW SLAVE STATUS')
        return rows[0] if rows else {}

    # --- source -----------------------------------------------------------

    def _local(self) -> bool:
        return replication.is_replica(self.engine)

    def _grant(self, user: str, password: str, address: str) -> None:
        local = self._local()
        self._query('CREATE OR REPLACE USER %s@%s IDENTIFIED BY %s',
                    (user, address, password), local=local)
        self._query('GRANT REPLICATION SLAVE ON *.* TO %s@%s',
                    (user, address), local=local)

    def _revoke(self, user: str) -> None:
        for row in self._query('SELECT Host FROM mysql.user WHERE User = %s',
                               (user,)):
            self._query('DROP USER IF EXISTS %s@%s', (user, row['Host']),
                        local=self._local())

    def _backup_position(self, backup: dict) -> str | None:
        return (backup.get('metadata') or {}).get('gtid')

    def latest_txn_id(self) -> str:
        return self._value('SELECT @@GLOBAL.gtid_binlog_pos')

    def make_read_only(self, read_only: bool) -> None:
        self._query('SET GLOBAL read_only = %s' % (1 if read_only else 0))

    # --- replica ------------------------------------------------------------

    def start_position(self, snapshot: dict, seeded: bool) -> str:
        """Where the replica starts (see the module's docstring)."""
        if seeded:
            position = ((snapshot.get('dataset') or {}).get('log_position'))
            if position is None:
                position = binlog_info_gtid(self.engine.datadir)
            if position is None:
                raise replication.ReplicationError(
                    reason='the replica was seeded from a backup with no '
                           'recorded GTID position')
            return position
        return self._value('SELECT @@GLOBAL.gtid_current_pos')

    def _follow(self, master: dict, snapshot: dict, seeded: bool) -> None:
        position = self.start_position(snapshot, seeded)
        self._query('STOP SLAVE')
        self._query('SET GLOBAL gtid_slave_pos = %s', (position,))
        self._query(
            'CHANGE MASTER TO MASTER_HOST = %s, MASTER_PORT = %s, '
            'MASTER_USER = %s, MASTER_PASSWORD = %s, '
            'MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1',
            (master['host'], int(master['port']), master['user'],
             master['password']))
        self.make_read_only(True)
        self._query('START SLAVE')

    def _streaming(self):
        status = self._slave_status()
        if status.get('Slave_SQL_Running') == 'No' and \
                status.get('Last_SQL_Error'):
            raise replication.ReplicationError(
                reason='MariaDB replication stopped: %s'
                       % status['Last_SQL_Error'])
        if status.get('Slave_IO_Running') == 'Yes' and \
                status.get('Slave_SQL_Running') == 'Yes':
            return True
        return False, status.get('Last_IO_Error') or 'IO thread %s' % \
            status.get('Slave_IO_Running')

    def _applied(self, txn: str):
        rows = self._query('SELECT MASTER_GTID_WAIT(%s, 0.5) AS waited',
                           (txn,))
        return rows[0]['waited'] == 0, 'waiting'

    def last_txn(self) -> dict:
        status = self._slave_status()
        position = status.get('Gtid_IO_Pos') or \
            self._value('SELECT @@GLOBAL.gtid_slave_pos')
        return {'position': position, 'rank': gtid_rank(position)}

    def _unfollow(self) -> None:
        status = self._slave_status()
        if status:
            # What was received is applied before the source is forgotten.
            self._query('STOP SLAVE IO_THREAD')
            received = self._slave_status().get('Gtid_IO_Pos') or ''
            if received and status.get('Slave_SQL_Running') == 'Yes':
                replication.wait(lambda: self._applied(received),
                                 APPLY_TIMEOUT, 'applying the relay log')
        self._query('STOP SLAVE')
        self._query('RESET SLAVE ALL')

    def _replica_status(self) -> dict:
        status = self._slave_status()
        io, sql = status.get('Slave_IO_Running'), \
            status.get('Slave_SQL_Running')
        error = status.get('Last_SQL_Error') or status.get('Last_IO_Error')
        if io == 'Yes' and sql == 'Yes':
            state = 'streaming'
        elif error:
            state = 'error'
        elif io == 'Connecting':
            state = 'connecting'
        else:
            state = 'stopped'
        lag = status.get('Seconds_Behind_Master')
        return {'state': state, 'error': error or None,
                'lag_seconds': float(lag) if lag is not None else None,
                'position': status.get('Gtid_IO_Pos')}

    def _connected_replicas(self) -> int | None:
        return int(self._value(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
            "WHERE COMMAND = 'Binlog Dump'"))
