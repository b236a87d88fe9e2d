"""Volumes of the local backend.

``loop``: a sparse file formatted ext4 and loop-mounted (``mount -o
loop,discard``), so the engine meets a full disk at the volume's size;
growing it is done offline (unmount, truncate, e2fsck, resize2fs, mount),
since online resize2fs needs a capability this kind of host lacks.
``directory``: a plain directory whose size is only checked. Each volume's
record lives in ``<state_dir>/volumes/<id>/volume.json``.
"""
import datetime
import fcntl
import json
import os
import shutil
import subprocess
import time

from oslo_log import log as logging
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.common import processes
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone.drivers.volume import base

LOG = logging.getLogger(__name__)
GB = 1024 ** 3


def _run(volume_id: str, operation: str, argv: list[str],
         ok: tuple = (0,)) -> None:
    """Run one volume tool; an exit status not in ``ok`` fails."""
    try:
        child = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
    except OSError as error:
        raise exception.VolumeOperationFailed(
            volume=volume_id, operation=operation, reason=str(error))
    try:
        out, err = child.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        child.kill()
        out, err = child.communicate()
        err = 'timed out after 300 s. ' + (err or '')
        child.returncode = child.returncode or -9
    if child.returncode not in ok:
        raise exception.VolumeOperationFailed(
            volume=volume_id, operation=operation,
            reason=(err or out or 'exit status %d' % child.returncode
                    ).strip()[-300:])


def _tools_on(path: str) -> list[int]:
    """The processes whose command line names ``path`` (a volume tool an
    earlier, killed process left running on it)."""
    pids = []
    for name in os.listdir('/proc'):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open('/proc/%s/cmdline' % name, 'rb') as cmdline:
                if path.encode() in cmdline.read().split(b'\0'):
                    pids.append(int(name))
        except OSError:
            continue
    return [pid for pid in pids if processes.alive(pid)]


def loop_mounts_work() -> bool:
    """Whether this host lets us loop-mount (root with CAP_SYS_ADMIN)."""
    return os.geteuid() == 0 and shutil.which('mkfs.ext4') is not None \
        and os.path.exists('/dev/loop-control')


class LocalVolumeDriver(base.VolumeDriver):

    def __init__(self, state_dir: str | None = None,
                 backend: str | None = None) -> None:
        self.root = os.path.join(state_dir or CONF.local.state_dir,
                                 'volumes')
        os.makedirs(self.root, exist_ok=True)
        backend = backend or CONF.local.volume_backend
        if backend == 'auto':
            backend = 'loop' if loop_mounts_work() else 'directory'
        self.backend = backend

    # --- records ---------------------------------------------------------

    def _dir(self, volume_id: str) -> str:
        return os.path.join(self.root, volume_id)

    def _save(self, volume: dict) -> dict:
        path = os.path.join(self._dir(volume['id']), 'volume.json')
        secrets.write_private_file(path, json.dumps(volume))
        return self._view(volume)

    def _load(self, volume_id: str) -> dict:
        if not uuidutils.is_uuid_like(volume_id):
            raise exception.VolumeNotFound(volume=volume_id)
        try:
            with open(os.path.join(self._dir(volume_id),
                                   'volume.json')) as record:
                return json.load(record)
        except FileNotFoundError:
            raise exception.VolumeNotFound(volume=volume_id)

    def _view(self, volume: dict) -> dict:
        view = dict(volume)
        # A volume whose creating process died before it was made never
        # will be: it is a failed one.
        creator = view.pop('creator', None)
        view.pop('extending', None)
        if view['status'] == 'creating' and creator and \
                not processes.alive(creator):
            view['status'] = 'error'
        view['mountpoint'] = self._mountpoint(volume['id']) \
            if volume['attached_to'] else None
        return view

    def _mountpoint(self, volume_id: str) -> str:
        return os.path.join(self._dir(volume_id), 'data')

    def _lock(self):
        handle = open(os.path.join(self.root, '.lock'), 'w')
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    # --- the interface -----------------------------------------------------

    def list(self) -> list[dict]:
        volumes = []
        for name in os.listdir(self.root):
            if uuidutils.is_uuid_like(name):
                try:
                    volumes.append(self._load(name))
                except exception.VolumeNotFound:
                    continue
        return [self._view(volume) for volume in
                sorted(volumes, key=lambda volume: volume['created'])]

    def get(self, volume_id: str) -> dict:
        return self._view(self._load(volume_id))

    def create(self, size: int, name: str) -> dict:
        if not isinstance(size, int) or size < 1:
            raise exception.BadRequest('A volume size must be a whole '
                                       'number of GB, at least 1.')
        with self._lock():
            used = sum(volume['size'] for volume in self.list())
            pool = CONF.local.volume_pool_gb
            if used + size > pool:
                raise exception.VolumeLimitExceeded(size=size,
                                                    free=pool - used,
                                                    pool=pool)
            volume = {'id': uuidutils.generate_uuid(), 'name': name,
                      'size': size, 'status': 'creating',
                      'creator': os.getpid(),
                      'attached_to': None, 'backend': self.backend,
                      'created': datetime.datetime.now(
                          datetime.timezone.utc).isoformat()}
            os.makedirs(self._mountpoint(volume['id']))
            self._save(volume)
        try:
            if self.backend == 'loop':
                image = os.path.join(self._dir(volume['id']), 'disk.img')
                _run(volume['id'], 'create', ['truncate', '-s',
                                              str(size * GB), image])
                _run(volume['id'], 'format', ['mkfs.ext4', '-q', '-F', '-m',
                                              '0', image])
        except exception.TroveError:
            shutil.rmtree(self._dir(volume['id']), ignore_errors=True)
            raise
        volume['status'] = 'available'
        return self._save(volume)

    def _mount(self, volume: dict) -> None:
        if volume['backend'] != 'loop' or \
                os.path.ismount(self._mountpoint(volume['id'])):
            return
        _run(volume['id'], 'mount', [
            'mount', '-o', 'loop,discard',
            os.path.join(self._dir(volume['id']), 'disk.img'),
            self._mountpoint(volume['id'])])

    def _unmount(self, volume: dict) -> None:
        if volume['backend'] == 'loop' and \
                os.path.ismount(self._mountpoint(volume['id'])):
            _run(volume['id'], 'unmount',
                 ['umount', self._mountpoint(volume['id'])])

    def attach(self, volume_id: str, server_id: str) -> dict:
        volume = self._load(volume_id)
        if volume['attached_to'] not in (None, server_id):
            raise exception.BadRequest(
                'Volume %s is attached to server %s already.'
                % (volume_id, volume['attached_to']))
        self._mount(volume)
        volume.update(attached_to=server_id, status='in-use')
        return self._save(volume)

    def detach(self, volume_id: str) -> dict:
        volume = self._load(volume_id)
        self._unmount(volume)
        volume.update(attached_to=None, status='available')
        return self._save(volume)

    def extend(self, volume_id: str, new_size: int) -> dict:
        volume = self._load(volume_id)
        growing = volume.get('extending')
        if growing and growing['size'] == new_size:
            # An earlier extend to this size was killed mid-way: finish it.
            LOG.info('Volume %s: finishing an interrupted extend to %d GB',
                     volume_id, new_size)
        elif not isinstance(new_size, int) or new_size <= volume['size']:
            raise exception.BadRequest(
                'The new size of volume %s must be larger than %d GB.'
                % (volume_id, volume['size']))
        with self._lock():
            used = sum(v['size'] for v in self.list())
            pool = CONF.local.volume_pool_gb
            growth = new_size - volume['size']
            if used + growth > pool:
                raise exception.VolumeLimitExceeded(size=growth,
                                                    free=pool - used,
                                                    pool=pool)
        if volume['backend'] == 'loop':
            self._grow_loop(volume, new_size)
        volume.pop('extending', None)
        volume['size'] = new_size
        return self._save(volume)

    def _grow_loop(self, volume: dict, new_size: int) -> None:
        """Offline grow, safe to run again after a kill at any step: the
        plan (size, whether to mount again) is saved first; a rerun waits
        for a tool the killed process left running on the image, then does
        every step again (each is idempotent: truncate to a size, a forced
        check, resize2fs to the file's size)."""
        image = os.path.join(self._dir(volume['id']), 'disk.img')
        plan = volume.get('extending')
        if plan and plan['size'] == new_size:
            deadline = time.monotonic() + 600
            while _tools_on(image) and time.monotonic() < deadline:
                time.sleep(0.2)
        else:
            plan = {'size': new_size, 'mounted': os.path.ismount(
                self._mountpoint(volume['id']))}
        volume['extending'] = plan
        self._save(volume)
        self._unmount(volume)
        _run(volume['id'], 'extend', ['truncate', '-s', str(new_size * GB),
                                      image])
        # e2fsck: 1 and 2 mean it corrected something (an earlier grow
        # killed mid-way); 4 and above that it could not.
        _run(volume['id'], 'check', ['e2fsck', '-f', '-y', image],
             ok=(0, 1, 2))
        _run(volume['id'], 'resize', ['resize2fs', image])
        if plan['mounted']:
            self._mount(volume)

    def usage(self, volume_id: str) -> dict:
        volume = self._load(volume_id)
        path = self._mountpoint(volume_id)
        if volume['backend'] == 'loop' and os.path.ismount(path):
            stats = os.statvfs(path)
            return {'used': (stats.f_blocks - stats.f_bfree) *
                    stats.f_frsize, 'total': stats.f_blocks * stats.f_frsize}
        used = 0
        for directory, _dirs, files in os.walk(path):
            for name in files:
                try:
                    used += os.lstat(os.path.join(directory, name)).st_size
                except OSError:
                    continue
        return {'used': used, 'total': volume['size'] * GB}

    def delete(self, volume_id: str) -> None:
        volume = self._load(volume_id)
        self._unmount(volume)
        shutil.rmtree(self._dir(volume_id))
