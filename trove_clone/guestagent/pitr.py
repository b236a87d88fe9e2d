"""Point-in-time recovery on the guest: ship the engine's logs as they
close, and replay them up to a moment on a restore.

Shipping. A full backup of an instance whose datastore version has
``pitr_enabled`` carries ``backup_info['pitr']`` = ``{'container',
'prefix', 'interval'}`` (the storage and key are the backup's). Before the
base backup is taken the agent:

1. keeps the settings (with the storage options and key) in
   ``<volume>/agent/pitr.json`` (0600, the agent's), so that shipping
   goes on after an agent restart;
2. asks the engine to hand over its logs (:meth:`EngineLogs.enable`:
   PostgreSQL's ``archive_command`` copies each completed WAL segment to
   a spool directory; MariaDB writes its binary log anyway);
3. starts :class:`Shipper`, a thread that every ``interval`` seconds
   closes the current log when something was written
   (``pg_switch_wal()``, ``FLUSH BINARY LOGS``) and stores every closed
   log, compressed and encrypted as a backup stream
   (:mod:`trove_clone.guestagent.backup_stream`), as the object
   ``<prefix><log name>`` of the container.

The heartbeat carries ``pitr_until``: the moment (UNIX time) up to which
every commit is in stored logs; the conductor keeps it as the instance's
``restorable_until``.

Restoring. ``prepare(backup_info=...)`` of a restore to a moment carries
``backup_info['pitr']`` = ``{'target': 'YYYY-MM-DDTHH:MM:SSZ',
'container', 'prefix'}``: after the base backup is installed, the
engine's :meth:`EngineLogs.replay` fetches the logs from the one the
base backup ends in, while they exist, and replays them up to the
target; the engine is stopped again, and the lifecycle's prepare starts
it as after any restore.
"""
import json
import os
import shutil
import threading
import time
import typing

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.drivers import backup_storage
from trove_clone.guestagent import backup_stream

LOG = logging.getLogger(__name__)

#: The file of the shipping settings, in the agent's directory.
SETTINGS = 'pitr.json'


class EngineLogs:
    """An engine's half of point-in-time recovery (a capability).

    :param engine: the engine's :class:`lifecycle.Lifecycle`
    """

    def __init__(self, engine) -> None:
        self.engine = engine

    @property
    def volume_dir(self) -> str:
        return os.path.dirname(self.engine.data_dir)

    def enable(self) -> None:
        """Make the running engine hand its logs over (idempotent)."""

    def close_current(self) -> float | None:
        """Close the log being written when anything was written to it.

        :returns: the UNIX time before which every commit is in a closed
            log once the logs returned by :meth:`closed` so far and the
            next ones are stored (None: unknown yet)
        """
        raise NotImplementedError

    def closed(self) -> list[tuple[str, str]]:
        """The closed logs not stored yet, oldest first: (name, path)."""
        raise NotImplementedError

    def stored(self, name: str, path: str) -> None:
        """``name`` is in the storage: forget it (or its spool copy)."""

    def covered(self) -> bool:
        """Whether every log closed by the last :meth:`close_current` is
        stored."""
        return not self.closed()

    @property
    def scratch_dir(self) -> str:
        """Where a restore puts the logs it fetched (removed after)."""
        return os.path.join(self.volume_dir, 'restore_logs')

    def replay_to(self, backup_info: dict) -> None:
        """Replay the shipped logs onto the data just restored from the
        base backup of ``backup_info`` (the first of its chain) up to
        ``backup_info['pitr']['target']``; the engine is stopped before
        and after.

        :raises BackupFailed: a log cannot be fetched or replayed
        """
        info = dict(backup_info['pitr'], storage=backup_info['storage'],
                    encryption_key=backup_info['encryption_key'])
        base = (backup_info['chain'][0].get('metadata') or {})
        remove_tree(self.scratch_dir)
        self.engine.private_dir(self.scratch_dir)
        try:
            self.replay(info, base, Fetcher(info))
        finally:
            remove_tree(self.scratch_dir)

    def replay(self, info: dict, base: dict, fetch: 'Fetcher') -> None:
        """Replay the logs after the base backup ``base`` (its
        ``metadata``) up to ``info['target']`` onto the restored data."""
        raise NotImplementedError


def remove_tree(path: str) -> None:
    if os.path.isdir(path):
        shutil.rmtree(path)


class Fetcher:
    """Reads shipped logs back from the storage into plain files."""

    def __init__(self, info: dict) -> None:
        self.storage = backup_storage.load(info.get('storage') or {})
        self.key = backup_stream.decode_key(info.get('encryption_key') or '')
        self.container = info['container']
        self.prefix = info['prefix']

    def exists(self, name: str) -> bool:
        location = self.storage.location(self.container, self.prefix + name)
        try:
            self.storage.metadata(location)
        except exception.BackupFileNotFound:
            return False
        return True

    def fetch(self, name: str, path: str) -> None:
        """The log ``name`` decrypted and decompressed into ``path`` (the
        agent's file: the caller gives it to the engine's user)."""
        location = self.storage.location(self.container, self.prefix + name)

        def write(source: typing.BinaryIO) -> None:
            with open(path, 'wb') as target:
                shutil.copyfileobj(source, target, backup_stream.CHUNK)

        backup_stream.restore(self.storage, location, None, self.key,
                              backup_stream.Reader(write, 'log %s' % name),
                              name)

    def fetch_from(self, first: str, successor: typing.Callable[[str], str],
                   directory: str) -> list[str]:
        """Fetch ``first`` and each next log (``successor``) while it
        exists into ``directory``; their names in order."""
        names: list[str] = []
        name = first
        while self.exists(name):
            self.fetch(name, os.path.join(directory, name))
            names.append(name)
            name = successor(name)
        return names


def settings_path(engine) -> str:
    return os.path.join(engine.agent_dir, SETTINGS)


def save_settings(engine, settings: dict) -> None:
    os.makedirs(engine.agent_dir, mode=0o700, exist_ok=True)
    path = settings_path(engine)
    temporary = path + '.new'
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC |
                         os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, 'w') as target:
        json.dump(settings, target)
    os.replace(temporary, path)


def load_settings(engine) -> dict | None:
    try:
        with open(settings_path(engine)) as source:
            return json.load(source)
    except (FileNotFoundError, ValueError):
        return None


class Shipper:
    """The thread that ships one engine's logs (see the module).

    :param logs: the engine's :class:`EngineLogs`
    :param settings: ``container``, ``prefix``, ``interval``, ``storage``,
        ``encryption_key``
    """

    def __init__(self, logs: EngineLogs, settings: dict) -> None:
        self.logs, self.settings = logs, settings
        self.until: float | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._storage = backup_storage.load(settings['storage'])
        self._key = backup_stream.decode_key(settings['encryption_key'])

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name='pitr',
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def _run(self) -> None:
        interval = max(float(self.settings.get('interval') or 5), 0.5)
        while not self._stop.is_set():
            try:
                self.ship_once()
                self.error = None
            except Exception as error:  # noqa: B902 - retried next round
                self.error = str(error)[:500]
                LOG.warning('Shipping logs failed (retried): %s', error)
            self._stop.wait(interval)

    def ship_once(self) -> None:
        """Close the current log, store every closed one, and move
        :attr:`until` when all are stored."""
        if not self.logs.engine.is_healthy():
            return
        moment = self.logs.close_current()
        for name, path in self.logs.closed():
            self.store(name, path)
            self.logs.stored(name, path)
        if moment is not None and self.logs.covered():
            self.until = moment

    def store(self, name: str, path: str) -> None:
        def copy(out: typing.BinaryIO) -> None:
            with open(path, 'rb') as source:
                shutil.copyfileobj(source, out, backup_stream.CHUNK)

        backup_stream.save(backup_stream.Writer(copy, 'log %s' % name),
                           self._storage, self.settings['container'],
                           self.settings['prefix'] + name, self._key,
                           metadata={'log': name})
        LOG.debug('Log %s shipped.', name)


def wait_for(condition: typing.Callable[[], bool], timeout: float,
             what: str) -> None:
    """Wait until ``condition()``; BackupFailed naming ``what`` after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise exception.TroveError('%s did not happen within %d s'
                                       % (what, timeout))
        time.sleep(0.2)


def start_shipping(logs: EngineLogs, backup_info: dict,
                   running: Shipper | None) -> Shipper:
    """Enable shipping with the settings of a full backup's
    ``backup_info['pitr']`` (kept for restarts) before its base backup is
    taken; the running shipper goes on when the settings are the same,
    else it is replaced.

    :raises BackupFailed: the engine cannot hand its logs over
    """
    settings = dict(backup_info['pitr'], storage=backup_info['storage'],
                    encryption_key=backup_info['encryption_key'])
    save_settings(logs.engine, settings)
    logs.enable()
    if running is not None and running.settings == settings:
        return running
    if running is not None:
        running.stop()
    shipper = Shipper(logs, settings)
    shipper.start()
    return shipper


def resume(logs: EngineLogs) -> Shipper | None:
    """The shipper of an engine that shipped before the agent started,
    started (None when it does not ship)."""
    settings = load_settings(logs.engine)
    if not settings:
        return None
    shipper = Shipper(logs, settings)
    shipper.start()
    return shipper


def stamp(result: dict, backup_info: dict, shipper: Shipper | None) -> None:
    """Add to a backup's metadata when it finished (UTC) and, for a full
    backup taken while shipping, where its logs go: the control plane
    picks base backups of restores to a moment by these."""
    metadata = dict(result.get('metadata') or {})
    metadata['finished_at'] = time.strftime('%Y-%m-%dT%H:%M:%SZ',
                                            time.gmtime())
    if shipper is not None and not backup_info.get('incremental'):
        metadata['pitr'] = {'container': shipper.settings['container'],
                            'prefix': shipper.settings['prefix']}
    result['metadata'] = metadata
