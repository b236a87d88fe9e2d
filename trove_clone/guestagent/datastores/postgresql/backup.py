"""Backups of PostgreSQL with pg_basebackup.

A backup streams ``pg_basebackup -D - -Ft -X fetch -c fast``: one tar of
the whole cluster on stdout, with the write-ahead log the backup needs
(``-X stream`` cannot go to stdout; one stream needs one tablespace,
which is how the agent makes clusters). It runs as the agent over the
private socket, as the superuser by peer authentication (pg_hba.conf
allows it the ``replication`` pseudo-database). The WAL start and end
points pg_basebackup prints are the metadata.

A restore extracts the tar (as the engine's user, owners not taken from
the archive) into ``<volume>/restore/0`` and renames it to the cluster's
directory; at its first start postgres replays the WAL the archive
carries from the backup's checkpoint (its ``backup_label``) to a
consistent state. The agent's access needs no reset: it logs in by peer
authentication, and the lifecycle writes pg_hba.conf and pg_ident.conf
again at every start, so the old instance's access files never apply.

Incremental backups are not supported: they would need the WAL archived
since the parent (PostgreSQL before 17 has no incremental base backup),
and instances do not archive WAL; asking for one fails with that reason.
"""
import os
import re
import shutil

from trove_clone.guestagent import backup_stream
from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.datastores.postgresql import lifecycle

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
    incremental_reason = (
        'incremental backups are not supported for the postgresql '
        'datastore: they need WAL archiving, which instances do not do')

    def program(self, name: str) -> str:
        return self.engine.programs.get(name) or shutil.which(name) or name

    def backup_command(self, info: dict) -> list[str]:
        return [self.program('pg_basebackup'), '-h', self.engine.run_dir,
                '-p', str(self.engine.port), '-U', lifecycle.SUPERUSER,
                '-D', '-', '-Ft', '-X', 'fetch', '-c', 'fast', '-w', '-v',
                '--label=trove_clone backup %s' % info['id']]

    def producer(self, info: dict) -> backup_stream.Command:
        self._producer = backup_stream.Command(
            self.backup_command(info), 'pg_basebackup', cwd=self.work_dir)
        return self._producer

    def metadata(self, info: dict) -> dict:
        facts = wal_points(self._producer.stderr_text)
        with self.engine.connect() as connection:
            facts['server_version'] = connection.execute(
                'SHOW server_version').fetchone()[0]
        return facts

    # --- restore -----------------------------------------------------------

    def extractor(self, entry: dict,
                  directory: str) -> backup_stream.Command:
        return backup_stream.Command(
            ['tar', '-x', '--no-same-owner', '-C', directory, '-f', '-'],
            'tar -x', cwd=directory, **self.engine._privileges())

    def install(self, chain: list[dict], directories: list[str]) -> None:
        source = directories[0]
        if not os.path.isfile(os.path.join(source, 'PG_VERSION')):
            raise backup.BackupFailed(reason='the backup holds no '
                                             'PostgreSQL cluster')
        os.rename(source, self.engine.pgdata)
        os.chmod(self.engine.pgdata, 0o700)
        self.engine._own(self.engine.data_dir)
