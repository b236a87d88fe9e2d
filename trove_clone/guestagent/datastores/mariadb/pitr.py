"""Point-in-time recovery of MariaDB: binary logs shipped as they close,
replayed with mariadb-binlog up to a moment (see
:mod:`trove_clone.guestagent.pitr` for the contract).

The server always writes a binary log (``log-bin = mysql-bin``, in the
data directory). Every interval the shipper runs ``FLUSH BINARY LOGS``
when the current log grew since the last flush, then stores every closed
log from the one current when shipping was enabled on; the next name to
ship is kept in ``<volume>/agent/pitr_binlog`` so a restarted agent goes
on where it stopped.

A restore fetches the logs from the one the base backup ended in (its
``binlog_file`` and ``binlog_pos``, from ``xtrabackup_info``) while they
exist, starts the server, pipes ``mariadb-binlog
--start-position=<pos> --stop-datetime=<target>`` (in UTC) into the
``mariadb`` client as the agent's root over the socket (with
``sql_log_bin = 0``: the source's GTIDs are not logged again, they would
clash with the restored server's own in strict mode), and stops it.
``--stop-datetime`` stops at the first event of that second or later:
what was committed before the target second is replayed.
"""
import datetime
import os
import re
import shutil
import subprocess
import time

from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.datastores.mariadb import lifecycle
from trove_clone.guestagent import pitr

#: The file that keeps the next binary log to ship.
NEXT_FILE = 'pitr_binlog'
_NAME = re.compile(r'^(.*\.)(\d+)$')
REPLAY_TIMEOUT = 3600


def next_binlog(name: str) -> str:
    match = _NAME.match(name)
    if not match:
        raise ValueError('%r is not a binary log name' % name)
    digits = match.group(2)
    return '%s%0*d' % (match.group(1), len(digits), int(digits) + 1)


def stop_datetime(target: str) -> str:
    moment = datetime.datetime.strptime(target, '%Y-%m-%dT%H:%M:%SZ')
    return moment.strftime('%Y-%m-%d %H:%M:%S')


class MariadbLogs(pitr.EngineLogs):

    def __init__(self, engine: lifecycle.MariadbLifecycle) -> None:
        super().__init__(engine)
        self._position: tuple | None = None

    @property
    def _next_path(self) -> str:
        return os.path.join(self.engine.agent_dir, NEXT_FILE)

    def _next(self) -> str | None:
        try:
            with open(self._next_path) as source:
                return source.read().strip() or None
        except FileNotFoundError:
            return None

    def _set_next(self, name: str) -> None:
        temporary = self._next_path + '.new'
        with open(temporary, 'w') as target:
            target.write(name + '\n')
        os.replace(temporary, self._next_path)

    def _status(self) -> tuple:
        with self.engine.cursor() as cursor:
            cursor.execute('SHOW MASTER STATUS')
            row = cursor.fetchone()
        if not row:
            raise backup.BackupFailed(reason='the binary log is off')
        return row[0], int(row[1])

    def enable(self) -> None:
        if self._next() is None:
            self._set_next(self._status()[0])

    def close_current(self) -> float | None:
        moment = time.time()
        position = self._status()
        if position != self._position:
            with self.engine.cursor() as cursor:
                cursor.execute('FLUSH BINARY LOGS')
            self._position = self._status()
        return moment

    def closed(self) -> list[tuple[str, str]]:
        first = self._next()
        if first is None:
            return []
        with self.engine.cursor() as cursor:
            cursor.execute('SHOW BINARY LOGS')
            names = [row[0] for row in cursor.fetchall()]
        return [(name, os.path.join(self.engine.datadir, name))
                for name in names[:-1] if name >= first]

    def stored(self, name: str, path: str) -> None:
        self._set_next(next_binlog(name))

    # --- replay --------------------------------------------------------------

    def replay(self, info: dict, base_backup: dict,
               fetch: pitr.Fetcher) -> None:
        first, position = (base_backup.get('binlog_file'),
                           base_backup.get('binlog_pos'))
        if not first or position is None:
            raise backup.BackupFailed(reason='the base backup has no '
                                             'recorded binary log position')
        names = fetch.fetch_from(first, next_binlog, self.scratch_dir)
        if not names:
            return
        self.engine.start()
        try:
            self._apply(names, int(position), info['target'])
        finally:
            self.engine.stop()

    def _apply(self, names: list[str], position: int, target: str) -> None:
        binlog = self.engine.programs.get('binlog') or \
            shutil.which('mariadb-binlog') or 'mariadb-binlog'
        client = self.engine.programs.get('client') or \
            shutil.which('mariadb') or 'mariadb'
        decoder = subprocess.Popen(
            [binlog, '--start-position=%d' % position,
             '--stop-datetime=%s' % stop_datetime(target)] +
            [os.path.join(self.scratch_dir, name) for name in names],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(os.environ, TZ='UTC'))
        try:
            applied = subprocess.run(
                [client, '--no-defaults', '--user=root',
                 '--socket=%s' % self.engine.socket_path,
                 # Not logged again: the source's GTIDs would clash with
                 # the restored server's own in strict mode.
                 '--init-command=SET SESSION sql_log_bin = 0'],
                stdin=decoder.stdout, capture_output=True, text=True,
                timeout=REPLAY_TIMEOUT)
        finally:
            decoder.stdout.close()
            decoder_error = decoder.stderr.read().decode(errors='replace')
            decoder.wait()
        if decoder.returncode:
            raise backup.BackupFailed(
                reason='mariadb-binlog failed: %s' % backup.one_line(
                    decoder_error[-600:]))
        if applied.returncode:
            raise backup.BackupFailed(
                reason='replaying the binary logs failed: %s'
                       % backup.one_line(applied.stderr[-600:]))
