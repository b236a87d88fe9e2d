"""Backups of PostgreSQL: pg_basebackup, and the WAL since the parent.

A full backup streams ``pg_basebackup -D - -Ft -X fetch -c fast``: one
tar of the whole cluster on stdout, with the write-ahead log the backup
needs (``-X stream`` cannot go to stdout; one stream needs one
tablespace, which is how the agent makes clusters). It runs as the agent
over the private socket, as the superuser by peer authentication
(pg_hba.conf allows it the ``replication`` pseudo-database). The WAL
start and end points pg_basebackup prints are the metadata.

An incremental backup is the WAL written since its parent ended (as
Trove's, which archives WAL; here nothing is copied on the volume): the
physical replication slot :data:`SLOT`, made before the first full
backup, keeps the WAL from the last backup on (at most
``max_slot_wal_keep_size``, a quarter of the volume: past it the slot
gives the WAL up and the next incremental fails, asking for a full
backup). ``pg_switch_wal()`` closes the current segment; the segments
from the parent's end to that point are streamed as a tar
(``pg_wal-tar``) read straight from ``pg_wal``; then the slot moves on to
the new end. Each backup moves the slot to where the next incremental
will start, so an incremental's parent is the latest backup.

A restore extracts the full backup's tar (as the engine's user, owners
not taken from the archive) into ``<volume>/restore/0`` and renames it to
the cluster's directory, and puts each incremental's segments into its
``pg_wal``; at its first start postgres replays the WAL from the backup's
checkpoint (its ``backup_label``) to the end of the last segment, a
consistent state with every transaction committed before the last
backup. The agent's access needs no reset: it logs in by peer
authentication, and the lifecycle writes pg_hba.conf and pg_ident.conf
again at every start, so the old instance's access files never apply.
The restored cluster has no slot (slots are not in base backups): its
first backup is a full one.
"""
import os
import re
import shutil
import tarfile
import typing

import psycopg

from trove_clone.guestagent import backup_stream
from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.datastores.postgresql import lifecycle

#: The replication slot that keeps the WAL of incremental backups.
SLOT = 'trove_backups'
#: A WAL segment's file name.
SEGMENT = re.compile(r'^[0-9A-F]{24}$')
_POINT = re.compile(r'write-ahead log (start|end) point: (\S+)'
                    r'(?: on timeline (\d+))?')


def wal_points(text: str) -> dict:
    """The WAL start and end points of pg_basebackup's verbose output."""
    facts = {}
    for match in _POINT.finditer(text):
        facts['wal_%s' % match.group(1)] = match.group(2)
        if match.group(3):
            facts['timeline'] = int(match.group(3))
    return facts


class PostgresqlBackup(backup.Backup):

    datastore = 'postgresql'
    stream_format = 'pg_basebackup-tar'
    incremental_format = 'pg_wal-tar'
    incremental = True

    def program(self, name: str) -> str:
        return self.engine.programs.get(name) or shutil.which(name) or name

    def backup_command(self, info: dict) -> list[str]:
        return [self.program('pg_basebackup'), '-h', self.engine.run_dir,
                '-p', str(self.engine.port), '-U', lifecycle.SUPERUSER,
                '-D', '-', '-Ft', '-X', 'fetch', '-c', 'fast', '-w', '-v',
                '--label=trove_clone backup %s' % info['id']]

    def producer(self, info: dict) -> backup_stream.Producer:
        if info.get('incremental'):
            self._segments, self._end = self.wal_since(info['parent'])
            return backup_stream.Writer(self.write_segments,
                                        'the WAL archive')
        self.keep_wal()
        self._producer = backup_stream.Command(
            self.backup_command(info), 'pg_basebackup', cwd=self.work_dir)
        return self._producer

    def metadata(self, info: dict) -> dict:
        if info.get('incremental'):
            parent = info['parent'].get('metadata') or {}
            facts = {'wal_start': parent['wal_end'], 'wal_end': self._end,
                     'segments': len(self._segments)}
            if self._segments:
                facts['timeline'] = int(self._segments[-1][:8], 16)
        else:
            facts = wal_points(self._producer.stderr_text)
        with self.engine.connect() as connection:
            facts['server_version'] = connection.execute(
                'SHOW server_version').fetchone()[0]
            # The next incremental starts where this backup ends.
            self._advance(connection, facts.get('wal_end'))
        return facts

    # --- the WAL of incrementals -------------------------------------------

    def keep_wal(self) -> None:
        """Make the slot (again, if the WAL it kept was given up)."""
        with self.engine.connect() as connection:
            row = connection.execute(
                'SELECT wal_status FROM pg_replication_slots WHERE '
                'slot_name = %s', (SLOT,)).fetchone()
            if row is not None and row[0] == 'lost':
                connection.execute('SELECT pg_drop_replication_slot(%s)',
                                   (SLOT,))
                row = None
            if row is None:
                connection.execute(
                    'SELECT pg_create_physical_replication_slot(%s, true)',
                    (SLOT,))

    @staticmethod
    def _advance(connection: psycopg.Connection, lsn: str | None) -> None:
        if not lsn:
            return
        connection.execute(
            'SELECT pg_replication_slot_advance(slot_name, %s::pg_lsn) '
            'FROM pg_replication_slots WHERE slot_name = %s AND '
            'restart_lsn < %s::pg_lsn', (lsn, SLOT, lsn))

    def wal_since(self, parent: dict) -> tuple[list[str], str]:
        """The names of the WAL segments from the end of ``parent`` to now
        (the current one closed first) and the LSN they end at.

        :raises backup.BackupFailed: the parent has no WAL end, or the
            WAL since it is no longer kept
        """
        start = (parent.get('metadata') or {}).get('wal_end')
        if not start:
            raise backup.BackupFailed(
                reason='the parent backup %s has no recorded WAL end '
                       '(wal_end)' % parent.get('id'))
        gone = backup.BackupFailed(
            reason='the WAL written since backup %s is no longer kept on '
                   'the instance (the last backup was another one, or more '
                   'WAL than max_slot_wal_keep_size was written): take a '
                   'full backup' % parent.get('id'))
        with self.engine.connect() as connection:
            row = connection.execute(
                'SELECT restart_lsn <= %s::pg_lsn AND wal_status <> '
                "'lost' FROM pg_replication_slots WHERE slot_name = %s",
                (start, SLOT)).fetchone()
            if not row or not row[0]:
                raise gone
            # The segment holding the byte at ``start`` (pg_walfile_name
            # names the one before for a segment's first byte).
            first = connection.execute(
                'SELECT pg_walfile_name(%s::pg_lsn + 1)',
                (start,)).fetchone()[0]
            end = str(connection.execute(
                'SELECT pg_switch_wal()').fetchone()[0])
            if connection.execute('SELECT %s::pg_lsn <= %s::pg_lsn',
                                  (end, start)).fetchone()[0]:
                # Nothing written since the parent: an empty increment.
                return [], start
            last = connection.execute('SELECT pg_walfile_name(%s::pg_lsn)',
                                      (end,)).fetchone()[0]
        wal_dir = os.path.join(self.engine.pgdata, 'pg_wal')
        segments = sorted(name for name in os.listdir(wal_dir)
                          if SEGMENT.match(name) and first <= name <= last
                          and name[:8] == last[:8])
        if not segments or segments[0] != first or segments[-1] != last:
            raise gone
        return segments, end

    def write_segments(self, out: typing.BinaryIO) -> None:
        """A tar of the segments :meth:`wal_since` found, read from
        ``pg_wal`` (the slot keeps them there)."""
        wal_dir = os.path.join(self.engine.pgdata, 'pg_wal')
        with tarfile.open(fileobj=out, mode='w|') as archive:
            for name in self._segments:
                with open(os.path.join(wal_dir, name), 'rb') as segment:
                    member = tarfile.TarInfo(name)
                    member.size = os.fstat(segment.fileno()).st_size
                    member.mode = 0o600
                    archive.addfile(member, segment)

    # --- restore -----------------------------------------------------------

    def extractor(self, entry: dict,
                  directory: str) -> backup_stream.Command:
        return backup_stream.Command(
            ['tar', '-x', '--no-same-owner', '-C', directory, '-f', '-'],
            'tar -x', cwd=directory, **self.engine._privileges())

    def check_chain(self, chain: list[dict]) -> None:
        """Also: each incremental starts where the backup before ended
        (when their metadata says)."""
        super().check_chain(chain)
        for before, entry in zip(chain, chain[1:]):
            end = (before.get('metadata') or {}).get('wal_end')
            start = (entry.get('metadata') or {}).get('wal_start')
            if end and start and end != start:
                raise backup.BackupFailed(
                    reason='incremental backup %s starts at WAL %s, its '
                           'parent ends at %s' % (entry.get('id'), start,
                                                  end))

    def install(self, chain: list[dict], directories: list[str]) -> None:
        source = directories[0]
        if not os.path.isfile(os.path.join(source, 'PG_VERSION')):
            raise backup.BackupFailed(reason='the backup holds no '
                                             'PostgreSQL cluster')
        os.rename(source, self.engine.pgdata)
        os.chmod(self.engine.pgdata, 0o700)
        wal_dir = os.path.join(self.engine.pgdata, 'pg_wal')
        for entry, directory in zip(chain[1:], directories[1:]):
            names = os.listdir(directory)
            if not all(SEGMENT.match(name) for name in names):
                raise backup.BackupFailed(
                    reason='incremental backup %s holds other files than '
                           'WAL segments' % entry.get('id'))
            for name in names:
                os.replace(os.path.join(directory, name),
                           os.path.join(wal_dir, name))
        self.engine._own(self.engine.data_dir)
