"""The backup capability of a datastore: stream a running engine's data
into backup storage, and restore a chain of backups onto a new
instance's empty volume before its engine first starts.

The control plane calls, on the guest agent:

1. :meth:`Backup.create` (from the ``create_backup`` cast, in a thread of
   the agent, the engine running) with ``backup_info`` (``id``,
   ``incremental``, ``parent``: None or the parent's ``{'id', 'location',
   'checksum', 'metadata'}``, ``storage``: the options of
   :func:`trove_clone.drivers.backup_storage.load`, ``container``,
   ``encryption_key``: base64 of 32 bytes). The engine's backup tool
   writes to a pipe; :mod:`trove_clone.guestagent.backup_stream`
   compresses, encrypts and stores it: nothing of the size of the data is
   written to the volume. Returns ``{'size': GB (float), 'location',
   'checksum': MD5 of the stored object, 'metadata': engine facts (the
   format, LSN or WAL positions), which an incremental backup's parent
   brings back}``; raises :class:`BackupFailed` (or another TroveError)
   with a reason a user can read, the object not stored.
2. :meth:`Backup.restore` (from ``prepare(backup_info=...)``, on a new
   instance, the engine never started) with ``backup_info`` (``id``,
   ``chain``: the full backup then its incrementals, each ``{'id',
   'location', 'checksum', 'metadata'}``, ``storage``,
   ``encryption_key``). Each object is verified (tags, MD5) while it is
   extracted into ``<volume>/restore/<n>`` (scratch space beside the
   data directory, on the same file system so that moving is renaming);
   only once every object of the chain has verified does the engine hook
   :meth:`Backup.install` put the data into the data directory, with the
   engine's ownership and the agent's own credentials (the restored data
   carries the old instance's). The lifecycle's prepare then starts the
   engine on it as on data of its own. A failure raises
   RestoreBackupIntegrityError (corrupt, truncated, wrong key) or
   BackupFailed; the scratch space is removed either way, and the data
   directory is untouched when the failure is the stream's.

An engine subclass says how its tool is run (:meth:`producer`), how a
stream is extracted (:meth:`extractor`) and installed (:meth:`install`);
the rest is here.
"""
import os
import shutil

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.drivers import backup_storage
from trove_clone.guestagent import backup_stream
from trove_clone.guestagent.capabilities import lifecycle as base

LOG = logging.getLogger(__name__)

#: Where restores extract, beside the data directory (on the volume).
RESTORE_DIR = 'restore'
#: Where backups keep their small files (LSN records), beside the data.
WORK_DIR = 'backup'
GB = 1024 ** 3


class BackupFailed(exception.TroveError):
    """A backup or a restore failed; the message is for the user."""

    message_template = '%(reason)s'


def remove(path: str) -> None:
    """Remove a file or a tree if it exists."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


class Backup:
    """Back up and restore one engine's data.

    :param engine: the :class:`lifecycle.Lifecycle` of this server's
        engine (running for :meth:`create`, never started for
        :meth:`restore`)
    """

    #: The datastore name used in messages.
    datastore: str = ''
    #: What the stream is (recorded in the metadata as ``format``).
    stream_format: str = ''
    #: What an incremental backup's stream is, when not the same.
    incremental_format: str = ''
    #: Whether incremental backups are supported.
    incremental: bool = False
    #: Why not, when they are not.
    incremental_reason: str = ''

    def __init__(self, engine: base.Lifecycle) -> None:
        self.engine = engine

    # --- where things are ----------------------------------------------

    @property
    def volume_dir(self) -> str:
        return os.path.dirname(self.engine.data_dir)

    @property
    def restore_dir(self) -> str:
        return os.path.join(self.volume_dir, RESTORE_DIR)

    @property
    def work_dir(self) -> str:
        return os.path.join(self.volume_dir, WORK_DIR)

    def format_of(self, info: dict) -> str:
        """The stream format of the backup ``info`` describes."""
        if info.get('incremental') and self.incremental_format:
            return self.incremental_format
        return self.stream_format

    def object_name(self, info: dict) -> str:
        """The object of the backup in its container."""
        return '%s.%s.zst.enc' % (info['id'], self.format_of(info))

    # --- create ----------------------------------------------------------

    def producer(self, info: dict) -> backup_stream.Producer:
        """What writes the backup stream, the engine running; for an
        incremental backup, since ``info['parent']``."""
        raise NotImplementedError

    def metadata(self, info: dict) -> dict:
        """The engine facts of the backup just streamed (after the
        producer finished); ``format`` is added."""
        return {}

    def create(self, backup_info: dict) -> dict:
        """Back the running engine up into storage (see the module's
        docstring).

        :raises BackupFailed: the reason for the user
        :raises exception.TroveError: the storage's or the stream's error
        """
        info = dict(backup_info)
        if info.get('incremental') and not self.incremental:
            raise BackupFailed(reason=self.incremental_reason or (
                'incremental backups are not supported for the %s '
                'datastore' % self.datastore))
        if info.get('incremental') and not info.get('parent'):
            raise BackupFailed(reason='an incremental backup needs its '
                                      'parent backup')
        key = backup_stream.decode_key(info.get('encryption_key') or '')
        storage = backup_storage.load(info.get('storage') or {})
        if not self.engine.is_healthy():
            raise BackupFailed(reason='the %s engine is not running' %
                                      self.datastore)
        remove(self.work_dir)
        os.makedirs(self.work_dir, mode=0o700)
        try:
            stored = backup_stream.save(
                self.producer(info), storage, info['container'],
                self.object_name(info), key,
                metadata={'backup_id': info['id'],
                          'datastore': self.datastore,
                          'format': self.format_of(info),
                          'parent_id': (info.get('parent') or {}).get('id')})
            metadata = dict(self.metadata(info), format=self.format_of(info))
        finally:
            remove(self.work_dir)
        LOG.info('Backup %s stored at %s (%d bytes).', info['id'],
                 stored['location'], stored['size'])
        return {'size': round(stored['size'] / GB, 6),
                'location': stored['location'],
                'checksum': stored['checksum'], 'metadata': metadata}

    # --- restore -----------------------------------------------------------

    def extractor(self, entry: dict,
                  directory: str) -> backup_stream.Consumer:
        """What extracts the stream of the chain's ``entry`` into
        ``directory`` (empty, the engine's user's)."""
        raise NotImplementedError

    def check_chain(self, chain: list[dict]) -> None:
        """Raise BackupFailed before anything is read when ``chain`` is
        not one this engine restores: an object of another format (the
        ``format`` its metadata records), incrementals where the engine
        has none. Engines add their own checks."""
        if not chain:
            raise BackupFailed(reason='the restore names no backup')
        if len(chain) > 1 and not self.incremental:
            raise BackupFailed(reason=self.incremental_reason)
        for number, entry in enumerate(chain):
            recorded = (entry.get('metadata') or {}).get('format')
            wanted = self.format_of({'incremental': number > 0})
            if recorded and recorded != wanted:
                raise BackupFailed(
                    reason='backup %s is a %s stream, not one of the %s '
                           'datastore (%s)' % (entry.get('id'), recorded,
                                               self.datastore, wanted))

    def install(self, chain: list[dict], directories: list[str]) -> None:
        """Make the data directory from the extracted ``directories`` (in
        the chain's order), owned by the engine's user, with the agent's
        own credentials; the engine is started afterwards by the
        lifecycle's prepare."""
        raise NotImplementedError

    def restore(self, backup_info: dict) -> None:
        """Restore the chain of ``backup_info`` into the (empty) data
        directory (see the module's docstring).

        :raises exception.RestoreBackupIntegrityError: an object does not
            verify (the data directory untouched)
        :raises BackupFailed: a tool failed
        """
        chain = list(backup_info.get('chain') or [])
        backup_id = backup_info.get('id') or (chain[-1].get('id')
                                              if chain else '')
        self.check_chain(chain)
        key = backup_stream.decode_key(
            backup_info.get('encryption_key') or '')
        storage = backup_storage.load(backup_info.get('storage') or {})
        if os.path.isdir(self.engine.data_dir) and \
                os.listdir(self.engine.data_dir):
            raise BackupFailed(reason='the data directory %s is not empty: '
                                      'a backup is restored only onto a new '
                                      'volume' % self.engine.data_dir)
        remove(self.restore_dir)
        self.engine.private_dir(self.restore_dir)
        try:
            directories = []
            for number, entry in enumerate(chain):
                directory = os.path.join(self.restore_dir, str(number))
                self.engine.private_dir(directory)
                LOG.info('Restoring backup %s from %s.', entry.get('id'),
                         entry.get('location'))
                try:
                    backup_stream.restore(
                        storage, entry['location'], entry.get('checksum'),
                        key, self.extractor(entry, directory),
                        entry.get('id') or backup_id)
                except backup_stream.StreamError as error:
                    raise BackupFailed(reason='extracting backup %s failed:'
                                              ' %s' % (entry.get('id'),
                                                       error.message))
                directories.append(directory)
            self.engine.private_dir(self.engine.data_dir)
            self.install(chain, directories)
        finally:
            remove(self.restore_dir)
