"""Backups of Redis: an RDB snapshot and the tenant's ACL users.

The stream is a tar archive (``redis-rdb-tar``) of two members:
``dump.rdb``, the RDB file of a ``BGSAVE`` made for the backup (read
through a descriptor opened once the save finished: a later save
replaces the file by renaming, so the one read stays whole), and
``users.acl``, the rules ``ACL LIST`` gives for the tenant's users (not
the ``default`` user, not the agent's ``os_admin``: those are the new
instance's own).

A restore puts the RDB in the data directory as ``dump.rdb`` and as
``appendonly.aof`` (the engine runs with the append-only file on, and
Redis ignores an RDB when it starts without one: an old-style AOF whose
content is an RDB is loaded and migrated into ``appendonlydir``), and the
users in ``users.acl``, which the lifecycle rewrites at start with the
default user off and the new agent's own password. Incremental backups
are not supported.
"""
import io
import os
import tarfile
import time
import typing

import redis

from trove_clone.guestagent import backup_stream
from trove_clone.guestagent.capabilities import backup
from trove_clone.guestagent.datastores.redis import lifecycle

RDB_MEMBER = 'dump.rdb'
ACL_MEMBER = 'users.acl'
#: How long a BGSAVE may take.
SAVE_TIMEOUT = 3600


def tenant_acl(rules: typing.Iterable) -> str:
    """The lines of ``ACL LIST`` for the tenant's users only."""
    kept = []
    for line in rules:
        line = line.decode() if isinstance(line, bytes) else str(line)
        words = line.split()
        if len(words) >= 2 and words[0] == 'user' and \
                words[1] not in ('default', lifecycle.AGENT_USER):
            kept.append(line)
    return ''.join(line + '\n' for line in kept)


class RedisBackup(backup.Backup):

    datastore = 'redis'
    stream_format = 'redis-rdb-tar'
    incremental_reason = ('incremental backups are not supported for the '
                          'redis datastore: each backup is a full RDB '
                          'snapshot')

    def _save(self, client: redis.Redis) -> str:
        """BGSAVE and wait for it; the RDB file's path."""
        before = client.lastsave()
        deadline = time.monotonic() + SAVE_TIMEOUT
        while True:
            try:
                client.bgsave()
                break
            except redis.ResponseError as error:
                # Another save (or an AOF rewrite) runs: wait for it.
                if time.monotonic() > deadline:
                    raise backup.BackupFailed(reason='BGSAVE failed: %s'
                                                     % error)
                time.sleep(0.1)
        while True:
            persistence = client.info('persistence')
            if not persistence.get('rdb_bgsave_in_progress'):
                break
            if time.monotonic() > deadline:
                raise backup.BackupFailed(reason='BGSAVE did not finish')
            time.sleep(0.05)
        if persistence.get('rdb_last_bgsave_status') != 'ok' or \
                client.lastsave() < before:
            raise backup.BackupFailed(reason='BGSAVE failed: see the '
                                             'engine log')
        config = client.config_get('dir')
        config.update(client.config_get('dbfilename'))
        return os.path.join(config['dir'], config['dbfilename'])

    def write_archive(self, out: typing.BinaryIO) -> None:
        """Write the tar stream (see the module's docstring) to ``out``."""
        client = self.engine.client(timeout=60, decode_responses=True)
        try:
            path = self._save(client)
            users = tenant_acl(client.execute_command('ACL', 'LIST'))
        finally:
            client.close()
        with open(path, 'rb') as rdb, \
                tarfile.open(fileobj=out, mode='w|') as archive:
            member = tarfile.TarInfo(RDB_MEMBER)
            member.size = os.fstat(rdb.fileno()).st_size
            member.mode = 0o600
            archive.addfile(member, rdb)
            self._rdb_size = member.size
            data = users.encode()
            member = tarfile.TarInfo(ACL_MEMBER)
            member.size, member.mode = len(data), 0o600
            archive.addfile(member, io.BytesIO(data))

    def producer(self, info: dict) -> backup_stream.Writer:
        return backup_stream.Writer(self.write_archive, 'the Redis archive')

    def metadata(self, info: dict) -> dict:
        return {'rdb_bytes': getattr(self, '_rdb_size', None)}

    # --- restore -----------------------------------------------------------

    def extractor(self, entry: dict,
                  directory: str) -> backup_stream.Reader:
        def read(source: typing.BinaryIO) -> None:
            with tarfile.open(fileobj=source, mode='r|') as archive:
                for member in archive:
                    if member.name not in (RDB_MEMBER, ACL_MEMBER) or \
                            not member.isfile():
                        raise backup.BackupFailed(
                            reason='unexpected member %r in the Redis '
                                   'archive' % member.name[:100])
                    data = archive.extractfile(member)
                    path = os.path.join(directory, member.name)
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT |
                                 os.O_EXCL | os.O_NOFOLLOW, 0o600)
                    with os.fdopen(fd, 'wb') as target:
                        while True:
                            chunk = data.read(backup_stream.CHUNK)
                            if not chunk:
                                break
                            target.write(chunk)
        return backup_stream.Reader(read, 'reading the Redis archive')

    def install(self, chain: list[dict], directories: list[str]) -> None:
        source = directories[-1]
        rdb = os.path.join(source, RDB_MEMBER)
        if not os.path.isfile(rdb):
            raise backup.BackupFailed(reason='the backup has no RDB file')
        data_dir = self.engine.data_dir
        os.replace(rdb, os.path.join(data_dir, RDB_MEMBER))
        os.link(os.path.join(data_dir, RDB_MEMBER),
                os.path.join(data_dir, 'appendonly.aof'))
        acl = os.path.join(source, ACL_MEMBER)
        if os.path.isfile(acl):
            os.replace(acl, self.engine.acl_path)
        self.engine._own(data_dir)
