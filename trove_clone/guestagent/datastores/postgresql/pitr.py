"""Point-in-time recovery of PostgreSQL: WAL archiving and replay to a
moment (see :mod:`trove_clone.guestagent.pitr` for the contract).

Every cluster runs with ``archive_mode = on`` (it needs a restart to
change); its ``archive_command`` is ``true`` until shipping is enabled,
then copies each completed segment into the spool directory
``<volume>/wal_spool`` (the lifecycle renders it from the presence of the
shipping settings; a reload applies it). The shipper closes the current
segment with ``pg_switch_wal()`` every interval when something was
written, stores the spooled segments and removes them.

A restore fetches the segments from the one the base backup starts in
while they exist, and starts postgres once with ``recovery.signal``, a
``restore_command`` that copies from them, ``recovery_target_time`` and
``recovery_target_action = 'promote'``. When the WAL has no commit after
the target, postgres stops with "recovery ended before configured
recovery target was reached": every commit up to the target is then
replayed, so it is started again without a target, to the end of the
WAL. Once promoted it is stopped and the recovery settings removed.
"""
import datetime
import os
import re
import time

from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.datastores.postgresql import lifecycle
from trove_clone.guestagent import pitr

#: A WAL segment (or timeline history file) as archive_command hands it.
ARCHIVED = re.compile(r'^([0-9A-F]{24}|[0-9A-F]{8}\.history)$')
#: The WAL segment size of the clusters the agent makes (initdb's).
SEGMENT_BYTES = 16 * 1024 * 1024
SEGMENTS_PER_LOG = 0x100000000 // SEGMENT_BYTES
#: The settings file of a replay, included from postgresql.conf.
RECOVERY_CONF = 'trove_recovery.conf'
NOT_REACHED = 'recovery ended before configured recovery target'
REPLAY_TIMEOUT = 3600


def segment_of(lsn: str, timeline: int) -> str:
    """The name of the segment holding the byte at ``lsn`` ('X/Y')."""
    high, low = lsn.split('/')
    number = ((int(high, 16) << 32) + int(low, 16)) // SEGMENT_BYTES
    return '%08X%08X%08X' % (timeline, number // SEGMENTS_PER_LOG,
                             number % SEGMENTS_PER_LOG)


def next_segment(name: str) -> str:
    timeline, log, seg = (int(name[i:i + 8], 16) for i in (0, 8, 16))
    seg += 1
    if seg == SEGMENTS_PER_LOG:
        log, seg = log + 1, 0
    return '%08X%08X%08X' % (timeline, log, seg)


def target_setting(target: str) -> str:
    """'2026-12-02T10:15:00Z' as recovery_target_time wants it."""
    moment = datetime.datetime.strptime(target, '%Y-%m-%dT%H:%M:%SZ')
    return moment.strftime('%Y-%m-%d %H:%M:%S+00')


class PostgresqlLogs(pitr.EngineLogs):

    def __init__(self, engine: lifecycle.PostgresqlLifecycle) -> None:
        super().__init__(engine)
        self._switched: str | None = None

    @property
    def spool_dir(self) -> str:
        return self.engine.wal_spool_dir

    def enable(self) -> None:
        self.engine.private_dir(self.spool_dir)
        self.engine._write_conf()
        with self.engine.connect() as connection:
            connection.execute('SELECT pg_reload_conf()')
            mode = connection.execute('SHOW archive_mode').fetchone()[0]
        if mode != 'on':
            raise backup.BackupFailed(
                reason='WAL archiving is off (archive_mode): restart the '
                       'instance once to enable point-in-time recovery')

    def close_current(self) -> float | None:
        moment = time.time()
        with self.engine.connect() as connection:
            archiving = connection.execute(
                'SHOW archive_command').fetchone()[0]
            if self.spool_dir not in archiving:
                # The reload of enable() not seen yet (or lost).
                connection.execute('SELECT pg_reload_conf()')
                return None
            closed = connection.execute(
                'SELECT pg_walfile_name(pg_switch_wal())').fetchone()[0]
        if closed != self._switched:
            self._switched = closed
        return moment

    def closed(self) -> list[tuple[str, str]]:
        try:
            names = sorted(name for name in os.listdir(self.spool_dir)
                           if ARCHIVED.match(name))
        except FileNotFoundError:
            return []
        return [(name, os.path.join(self.spool_dir, name))
                for name in names]

    def stored(self, name: str, path: str) -> None:
        os.remove(path)

    def covered(self) -> bool:
        if self.closed() or self._switched is None:
            return False
        with self.engine.connect() as connection:
            last = connection.execute(
                'SELECT last_archived_wal FROM pg_stat_archiver'
            ).fetchone()[0]
        return bool(last) and last[:24] >= self._switched

    # --- replay --------------------------------------------------------------

    def replay(self, info: dict, base_backup: dict,
               fetch: pitr.Fetcher) -> None:
        start = base_backup.get('wal_start')
        if not start:
            raise backup.BackupFailed(reason='the base backup has no '
                                             'recorded WAL start')
        first = segment_of(start, int(base_backup.get('timeline') or 1))
        fetch.fetch_from(first, next_segment, self.scratch_dir)
        self.engine._own(self.scratch_dir)
        pgdata = self.engine.pgdata
        with open(os.path.join(pgdata, 'recovery.signal'), 'w'):
            pass
        main = os.path.join(pgdata, 'postgresql.conf')
        with open(main) as source:
            included = RECOVERY_CONF in source.read()
        if not included:
            with open(main, 'a') as target:
                target.write("\ninclude_if_exists = '%s'\n" % RECOVERY_CONF)
        restore = "cp '%s/%%f' '%%p'" % self.scratch_dir
        try:
            self._recover(restore, target_setting(info['target']))
        except base.EngineError as error:
            if NOT_REACHED not in str(error):
                raise backup.BackupFailed(
                    reason='replaying the WAL to %s failed: %s' % (
                        info['target'], backup.one_line(str(error))))
            # Every commit up to the target is in the WAL: replay it all.
            self._recover(restore, None)
        finally:
            self.engine.stop()
            path = os.path.join(pgdata, RECOVERY_CONF)
            if os.path.exists(path):
                os.remove(path)

    def _recover(self, restore: str, target: str | None) -> None:
        lines = ["restore_command = '%s'" % restore.replace("'", "''")]
        if target:
            lines += ["recovery_target_time = '%s'" % target,
                      "recovery_target_action = 'promote'"]
        path = os.path.join(self.engine.pgdata, RECOVERY_CONF)
        with open(path, 'w') as target_file:
            target_file.write('\n'.join(lines) + '\n')
        self.engine._own(path)
        self.engine.private_dir(self.engine.data_dir)
        self.engine.start()

        def promoted() -> bool:
            if not self.engine.is_running():
                raise base.EngineError('postgres stopped while replaying '
                                       'the WAL: %s'
                                       % self.engine.engine_log_tail())
            try:
                with self.engine.connect() as connection:
                    return not connection.execute(
                        'SELECT pg_is_in_recovery()').fetchone()[0]
            except lifecycle.psycopg.Error:
                return False

        pitr.wait_for(promoted, REPLAY_TIMEOUT, 'the end of the WAL replay')
