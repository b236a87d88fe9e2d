"""The upgrade capability of a datastore: carry an instance's data over to
a newer datastore version when its server is rebuilt on the new version's
guest image, keeping the data volume.

The control plane calls, on the running guest agent:

1. :meth:`Upgrade.pre_upgrade` on the OLD image, the engine running: it
   checks that the upgrade can be done (no downgrade of the engine's major
   version, enough free space on the volume), stops the engine cleanly and
   saves on the volume, in ``<volume>/upgrade/`` beside the data directory,
   what the new image needs (a copy of the data to roll back to, the old
   engine's binaries when a migration needs them); it returns
   ``upgrade_info``, a JSON-able dict, also kept in
   ``<volume>/upgrade/upgrade_info.json``. Refusing raises
   :class:`UpgradeRefused` with the engine still running.
2. The server is rebuilt on the new image; the volume is kept.
3. :meth:`Upgrade.post_upgrade` on the NEW image (a new agent, the engine
   stopped) with that ``upgrade_info``: it migrates the data when the
   engine's on-disk format changes, starts the engine and waits until it
   is healthy. On failure it stops the engine, puts the old data back and
   raises :class:`UpgradeFailed`, whose message says whether the old data
   was restored. On success ``<volume>/upgrade/`` is removed: volumes are
   small, and the backup of an upgrade that worked is not worth the space.

Names in ``upgrade_info`` that are not absolute paths are relative to
``<volume>/upgrade/``: a rebuilt server may mount the volume elsewhere.
"""
import abc
import json
import os
import re
import shutil
import subprocess

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import lifecycle as base

LOG = logging.getLogger(__name__)

#: The directory beside the data directory (on the volume) where an
#: upgrade keeps what the new image needs.
UPGRADE_DIR = 'upgrade'
#: The upgrade_info of the pending upgrade, in the upgrade directory.
INFO_FILE = 'upgrade_info.json'
#: Where the copy of the data directory goes, in the upgrade directory.
BACKUP_NAME = 'data.backup'
#: Free space kept on the volume beyond the copies: at least this much...
MIN_SPACE_MARGIN = 16 * 1024 * 1024
#: ... or this fraction of the copies, whichever is larger.
SPACE_MARGIN_RATIO = 0.1
#: The block size file sizes are rounded up to when estimating space.
BLOCK = 4096


class UpgradeRefused(exception.BadRequest):
    """pre_upgrade will not upgrade; the engine still runs its data."""

    message_template = ('The %(datastore)s engine cannot be upgraded from '
                        '%(current)s to %(target)s: %(reason)s')


class UpgradeFailed(exception.TroveError):
    """post_upgrade failed; the message says what happened to the data."""

    message_template = ('The upgrade of the %(datastore)s engine from '
                        '%(current)s to %(target)s failed: %(reason)s. '
                        '%(outcome)s')


def parse_version(text: str) -> tuple[int, ...]:
    """The numbers of a version name: ``'16.15'`` → ``(16, 15)``,
    ``'7.0.15'`` → ``(7, 0, 15)``; ValueError when it has none."""
    numbers = re.findall(r'\d+', str(text or ''))
    if not numbers:
        raise ValueError('%r is not a version' % (text,))
    return tuple(int(number) for number in numbers)


def leading(version: tuple[int, ...], width: int) -> tuple[int, ...]:
    """The first ``width`` numbers of ``version``, missing ones as 0."""
    return (version + (0,) * width)[:width]


def target_version(target: dict) -> str:
    """The engine version of the new image in ``target``: its
    ``engine_version``, else its datastore ``version``; '' when it has
    neither."""
    target = target if isinstance(target, dict) else {}
    return str(target.get('engine_version') or target.get('version') or '')


def tree_size(path: str) -> int:
    """The bytes the files under ``path`` take (sizes rounded up to
    blocks, hard links counted once, links not followed)."""
    seen = set()
    total = 0
    for directory, _dirs, files in os.walk(path):
        for name in files:
            status = os.lstat(os.path.join(directory, name))
            if (status.st_dev, status.st_ino) in seen:
                continue
            seen.add((status.st_dev, status.st_ino))
            total += -(-status.st_size // BLOCK) * BLOCK
    return total


def space_margin(needed: int) -> int:
    """The free space to keep beyond ``needed`` bytes of copies."""
    return max(MIN_SPACE_MARGIN, int(needed * SPACE_MARGIN_RATIO))


def copy_tree(source: str, target: str) -> None:
    """Copy ``source`` to ``target`` (which must not exist) keeping
    owners, modes, times and special files; EngineError on failure."""
    result = subprocess.run(['cp', '-a', source, target],
                            capture_output=True, text=True)
    if result.returncode:
        raise base.EngineError('Copying %s to %s failed: %s' % (
            source, target, result.stderr.strip()[-500:]))


def is_inside(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or under it."""
    path, directory = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([path, directory]) == directory


def remove(path: str) -> None:
    """Remove a file or a tree if it exists."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.remove(path)


class Upgrade(abc.ABC):
    """Carry one engine's data from an old image to a new one.

    :param engine: the :class:`lifecycle.Lifecycle` of the CURRENT image: the
        old one in pre_upgrade (started), the new one in post_upgrade
        (stopped), on the same data directory.

    Subclasses say how many numbers of a version name make its major
    version (the on-disk format) and fill in the hooks; the steps, the
    checks and the rollback are here.
    """

    #: The datastore name used in messages.
    datastore: str = ''
    #: How many leading numbers of a version name are its major version.
    major_width: int = 1
    #: Whether pre_upgrade copies the whole data directory as the backup
    #: post_upgrade restores on failure.
    backup_data: bool = True

    def __init__(self, engine: base.Lifecycle) -> None:
        self.engine = engine

    # --- where things are ------------------------------------------------

    @property
    def upgrade_dir(self) -> str:
        """``<volume>/upgrade``, beside the data directory."""
        return os.path.join(os.path.dirname(self.engine.data_dir),
                            UPGRADE_DIR)

    def path(self, name: str) -> str:
        """A name of upgrade_info as a path (absolute ones stay)."""
        return os.path.join(self.upgrade_dir, name)

    def current_version(self) -> str:
        """The engine version of the image this engine comes from."""
        return str(base.read_manifest(self.engine.root)['engine_version'])

    def major(self, version: str) -> tuple[int, ...]:
        """The major version (the on-disk format) of a version name."""
        return leading(parse_version(version), self.major_width)

    def major_changes(self, info: dict) -> bool:
        """Whether the upgrade of ``info`` changes the major version."""
        return self.major(info['from_version']) != self.major(
            info['to_version'])

    # --- pre_upgrade -----------------------------------------------------

    def check(self, current: str, target: str) -> None:
        """Refuse (UpgradeRefused) an upgrade this engine cannot do; the
        default refuses downgrades of the major version."""
        try:
            old, new = self.major(current), self.major(target)
        except ValueError as error:
            raise self.refused(current, target, str(error))
        if new < old:
            raise self.refused(current, target, 'a downgrade of the major '
                               'version is not supported')

    def refused(self, current: str, target: str,
                reason: str) -> UpgradeRefused:
        return UpgradeRefused(datastore=self.datastore, current=current,
                              target=target, reason=reason)

    def space_needed(self, info: dict) -> int:
        """Bytes the upgrade will write on the volume."""
        return tree_size(self.engine.data_dir) if self.backup_data else 0

    def check_space(self, info: dict) -> None:
        """UpgradeRefused when the volume cannot hold the copies."""
        needed = self.space_needed(info)
        if not needed:
            return
        free = shutil.disk_usage(os.path.dirname(
            self.engine.data_dir)).free
        if needed + space_margin(needed) > free:
            raise self.refused(
                info['from_version'], info['to_version'],
                'the volume has %d MB free, the upgrade needs %d MB '
                '(a copy of the data to roll back to)' % (
                    free // 2 ** 20,
                    -(-(needed + space_margin(needed)) // 2 ** 20)))

    def before_stop(self, info: dict) -> None:
        """With the engine running: make its files consistent and note in
        ``info`` what post_upgrade will check."""

    def save(self, info: dict) -> None:
        """With the engine stopped and the upgrade directory empty: save
        what post_upgrade needs, noting it in ``info``."""
        if self.backup_data:
            copy_tree(self.engine.data_dir, self.path(BACKUP_NAME))
            info['backup'] = BACKUP_NAME

    def pre_upgrade(self, target: dict) -> dict:
        """Check, stop the engine cleanly and save on the volume what
        post_upgrade needs.

        :param target: ``{'engine_version': ..., 'version': ...}`` of the
            new image (the engine version its manifest reports and its
            datastore version)
        :returns: upgrade_info, for post_upgrade on the new image
        :raises UpgradeRefused: with the engine still running, when the
            upgrade is a downgrade, the volume lacks space, or saving
            failed (the partial copies are removed)
        """
        current = self.current_version()
        info = {'datastore': self.datastore, 'from_version': current,
                'to_version': target_version(target)}
        if not info['to_version']:
            raise self.refused(current, '?', 'the target names no engine '
                               'version')
        self.check(current, info['to_version'])
        self.check_space(info)
        if self.engine.is_running():
            self.before_stop(info)
        LOG.info('Stopping %s %s to upgrade it to %s.', self.datastore,
                 current, info['to_version'])
        self.engine.stop()
        remove(self.upgrade_dir)
        os.makedirs(self.upgrade_dir)
        try:
            self.save(info)
            with open(self.path(INFO_FILE), 'w') as record:
                json.dump(info, record, indent=2, sort_keys=True)
        except Exception as error:  # noqa: B902 - undone, then reported
            LOG.exception('Saving the data for the upgrade failed.')
            remove(self.upgrade_dir)
            self.engine.start()
            raise self.refused(current, info['to_version'],
                               'saving the data failed: %s' % (
                                   getattr(error, 'message', error),))
        return info

    # --- post_upgrade ----------------------------------------------------

    def migrate(self, info: dict) -> None:
        """With the engine stopped: convert the old data for the new
        engine (nothing by default: same on-disk format)."""

    def start(self, info: dict) -> None:
        """Start the new engine on the (migrated) data and wait until it
        answers; raise when it does not."""
        self.engine.start()

    def verify(self, info: dict) -> None:
        """With the engine started: raise when the data did not come
        over (nothing checked by default)."""

    def restore(self, info: dict) -> None:
        """With the engine stopped: put the old data back in place."""
        backup = self.path(info.get('backup') or BACKUP_NAME)
        if not os.path.isdir(backup):
            raise base.EngineError('the backup %s is missing' % backup)
        remove(self.engine.data_dir)
        os.rename(backup, self.engine.data_dir)

    def check_saved(self, info: dict) -> None:
        """Raise before anything is touched when what pre_upgrade saved
        is missing."""
        if self.backup_data and not os.path.isdir(
                self.path(info.get('backup') or BACKUP_NAME)):
            raise base.EngineError('the copy pre_upgrade saves in %s is '
                                   'missing' % self.upgrade_dir)

    def post_upgrade(self, upgrade_info: dict) -> None:
        """Bring the old data over to this (new) engine and start it.

        :param upgrade_info: what pre_upgrade returned on the old image
        :raises UpgradeFailed: the engine is stopped; the message says
            that the old data was restored (or, should that fail too,
            where its copy is)
        """
        info = dict(upgrade_info)
        info['to_version'] = self.current_version()
        current = info.get('from_version', '?')
        try:
            self.check_saved(info)
        except Exception as error:  # noqa: B902 - reported as the fault
            raise UpgradeFailed(
                datastore=self.datastore, current=current,
                target=info['to_version'],
                reason=getattr(error, 'message', str(error)),
                outcome='The data was not touched.')
        try:
            self.migrate(info)
            self.start(info)
            self.verify(info)
        except Exception as error:  # noqa: B902 - rolled back, reported
            LOG.exception('The upgrade failed; restoring the old data.')
            reason = getattr(error, 'message', str(error))
            self.engine.stop()
            try:
                self.restore(info)
            except Exception as restore_error:  # noqa: B902 - reported
                LOG.exception('Restoring the old data failed.')
                outcome = ('Restoring the old data failed too (%s); its '
                           'copy is kept in %s.' % (
                               getattr(restore_error, 'message',
                                       restore_error), self.upgrade_dir))
            else:
                remove(self.upgrade_dir)
                outcome = ('The old data was restored on the volume: the '
                           'old image can run it again.')
            raise UpgradeFailed(datastore=self.datastore, current=current,
                                target=info['to_version'], reason=reason,
                                outcome=outcome)
        remove(self.upgrade_dir)
        LOG.info('Upgraded %s from %s to %s.', self.datastore, current,
                 info['to_version'])
