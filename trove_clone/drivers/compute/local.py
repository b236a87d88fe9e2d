"""Servers of the local backend: process groups on this machine.

A server is its image unpacked as a root directory, a loopback address of
its own from ``[local] address_pool`` (so its engine listens on the
standard port there), its volume mounted, and the guest agent running as
the leader of a detached process group with its own log. Its record lives
in ``<state_dir>/servers/<id>/server.json``, so servers outlive every
control-plane daemon and a restarted taskmanager finds them.

When the driver runs as root each server also gets an OS user of its own,
``trove-<12 hex digits of its id>`` (a system user without a home or a
login shell), named in the guest's ``guest_engine_user``: the agent runs
its engine as that user, never as root or as the agent, so that engines of
different servers cannot read each other's files. The user is removed with
the server.
"""
from __future__ import annotations

import datetime
import fcntl
import ipaddress
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tarfile
import time

from oslo_log import log as logging
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.common import processes
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone import drivers
from trove_clone.drivers.compute import base
from trove_clone.drivers.compute import cgroups

LOG = logging.getLogger(__name__)
GUEST_INFO = 'etc/trove/conf.d/guest_info.conf'
GUEST_CONF = 'etc/trove/trove-guestagent.conf'
USER_DATA = 'var/lib/cloud/user-data'


#: Whether a server's (or its creator's) process runs.
process_alive = processes.alive


def processes_in(directory: str) -> list[int]:
    """PIDs of the processes working in ``directory`` or below it: a
    server's agent started by a creator that died before recording it."""
    found = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            cwd = os.readlink('/proc/%s/cwd' % name)
        except OSError:
            continue
        if cwd == directory or cwd.startswith(directory + os.sep):
            found.append(int(name))
    return found


def stop_group(pid: int | None, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, SIGKILL what lingers."""
    if not pid:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process_alive(pid):
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


#: The prefix of the servers' engine OS users.
ENGINE_USER_PREFIX = 'trove-'


def engine_user_name(server_id: str) -> str:
    """The OS user the engine of ``server_id`` runs as."""
    return ENGINE_USER_PREFIX + server_id.replace('-', '')[:12]


def _user_command(argv: list[str], attempts: int = 20) -> None:
    """Run useradd/userdel, again while another one holds the lock of
    /etc/passwd or (userdel) a process of the user is still exiting."""
    for attempt in range(attempts):
        result = subprocess.run(argv, capture_output=True, text=True,
                                timeout=60)
        if result.returncode == 0:
            return
        if not ('lock' in result.stderr or 'used by process' in
                result.stderr) or attempt == attempts - 1:
            raise exception.TroveError('%s failed: %s' % (
                argv[0], result.stderr.strip()[-300:]))
        time.sleep(0.2)


def create_engine_user(server_id: str) -> str | None:
    """Create the engine OS user of ``server_id`` and return its name;
    None when this process is not root (the engine then runs as the
    agent's user)."""
    if os.geteuid() != 0 or not shutil.which('useradd'):
        return None
    name = engine_user_name(server_id)
    _user_command(['useradd', '--system', '--user-group', '--no-create-home',
                   '--home-dir', '/nonexistent', '--shell',
                   '/usr/sbin/nologin', '--comment',
                   'trove_clone engine of server %s' % server_id, name])
    return name


def remove_engine_user(name: str | None) -> None:
    """Remove an engine OS user made by :func:`create_engine_user`."""
    if not name or not name.startswith(ENGINE_USER_PREFIX):
        return
    try:
        _user_command(['userdel', name])
    except exception.TroveError:
        LOG.exception('The engine user %s stays.', name)


def host_ram_mb() -> int:
    """This host's physical memory, in MB."""
    return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // \
        (1024 * 1024)


def check_fits(flavor: dict) -> None:
    """A flavor whose RAM this host does not have is refused, as a
    cloud's scheduler finds no valid host for it.

    :raises: NoValidHost
    """
    host = host_ram_mb()
    if flavor['ram'] > host:
        raise exception.NoValidHost(flavor=flavor['id'], ram=flavor['ram'],
                                    host=host)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _replace_file(path: str, text: str) -> None:
    """Write ``path`` as a new file of mode 0600 (never through a shared
    link): injected files are the guest's configuration, with its RPC key
    and broker URL."""
    if os.path.lexists(path):
        os.unlink(path)
    secrets.write_private_file(path, text)


class LocalComputeDriver(base.ComputeDriver):

    def __init__(self, state_dir: str | None = None) -> None:
        state = state_dir or CONF.local.state_dir
        self.root = os.path.join(state, 'servers')
        self.cache = os.path.join(state, 'images')
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self.cache, exist_ok=True)
        self._children: dict[int, subprocess.Popen] = {}

    # --- records and addresses --------------------------------------------

    def _dir(self, server_id: str) -> str:
        return os.path.join(self.root, server_id)

    def _lock(self):
        handle = open(os.path.join(self.root, '.lock'), 'w')
        fcntl.flock(handle, fcntl.LOCK_EX)
        return handle

    def _save(self, server: dict) -> None:
        # The record holds the injected files: private to this user.
        path = os.path.join(self._dir(server['id']), 'server.json')
        secrets.write_private_file(path, json.dumps(server))

    def _load(self, server_id: str) -> dict:
        if not uuidutils.is_uuid_like(server_id):
            raise exception.ServerNotFound(server=server_id)
        try:
            with open(os.path.join(self._dir(server_id),
                                   'server.json')) as record:
                return json.load(record)
        except FileNotFoundError:
            raise exception.ServerNotFound(server=server_id)

    def _records(self) -> list[dict]:
        records = []
        for name in os.listdir(self.root):
            if uuidutils.is_uuid_like(name):
                try:
                    records.append(self._load(name))
                except exception.ServerNotFound:
                    continue
        return sorted(records, key=lambda record: record['created'])

    def _allocate_address(self) -> str:
        pool = ipaddress.ip_network(CONF.local.address_pool)
        taken = {record['address'] for record in self._records()}
        for address in pool.hosts():
            if str(address) not in taken:
                return str(address)
        raise exception.AddressPoolExhausted(pool=str(pool))

    def _view(self, server: dict) -> dict:
        status = server['status']
        if status == 'ACTIVE' and not process_alive(server.get('pid')):
            status = 'ERROR'
        # A server whose creating process died before it started never
        # will: it is a failed build.
        if status == 'BUILD' and server.get('creator') and \
                not process_alive(server['creator']):
            status = 'ERROR'
        return {'id': server['id'], 'name': server['name'],
                'status': status, 'image_id': server['image_id'],
                'flavor_id': server['flavor_id'],
                'volume_id': server['volume_id'],
                'addresses': [{'address': server['address'],
                               'type': 'private'}],
                'metadata': dict(server.get('metadata') or {}),
                'created': server['created'], 'pid': server.get('pid'),
                'root': os.path.join(self._dir(server['id']), 'root')}

    # --- images and roots -------------------------------------------------

    def _fetch(self, image_id: str) -> str:
        """The image archive, cached by checksum: images with the same
        content share one copy, and a changed image is fetched again."""
        image = drivers.get('image').get(image_id)
        key = image.get('checksum') or image_id
        path = os.path.join(self.cache, '%s.tar.gz' % key)
        if not os.path.exists(path):
            # Fetched under a name of its own, then renamed into place: two
            # fetches at once (two threads, two taskmanagers sharing the
            # cache) each rename a whole copy and neither loses its file.
            partial = '%s.%s.fetch' % (path, uuidutils.generate_uuid())
            try:
                drivers.get('image').download(image_id, partial)
                os.replace(partial, path)
            finally:
                if os.path.exists(partial):
                    os.unlink(partial)
        return path

    def _unpacked(self, image_path: str) -> str:
        """The image unpacked once into the cache (a tree that servers
        share through hard links and never write to)."""
        tree = image_path[:-len('.tar.gz')] + '.root'
        if os.path.isdir(tree):
            return tree
        partial = '%s.%d.partial' % (tree, os.getpid())
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial)
        with tarfile.open(image_path) as archive:
            archive.extractall(partial, filter='data')
        try:
            os.rename(partial, tree)
        except OSError:
            # Another unpack of the same image won the race.
            shutil.rmtree(partial, ignore_errors=True)
        return tree

    def _unpack(self, server: dict, image_path: str) -> None:
        """The server's root: the cached image tree linked file by file
        (a copy where links are refused), then the injected files written
        as new files, so that the shared tree stays untouched."""
        root = os.path.join(self._dir(server['id']), 'root')
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self._unpacked(image_path), root, symlinks=True,
                        copy_function=_link_or_copy)
        for path, text in server['files'].items():
            target = os.path.join(root, path.lstrip('/'))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _replace_file(target, text)
        self._write_guest_info(server)

    def _write_guest_info(self, server: dict) -> None:
        root = os.path.join(self._dir(server['id']), 'root')
        flavor = drivers.get('flavor').get(server['flavor_id'])
        mountpoint = ''
        if server['volume_id']:
            mountpoint = drivers.get('volume').get(
                server['volume_id'])['mountpoint'] or ''
        target = os.path.join(root, GUEST_INFO)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _replace_file(target, (
            '[DEFAULT]\nguest_id = %s\nguest_address = %s\n'
            'guest_root = %s\nguest_volume = %s\n'
            'guest_ram_mb = %d\nguest_vcpus = %d\n'
            'guest_engine_user = %s\n' % (
                server['id'], server['address'], root, mountpoint,
                flavor['ram'], flavor['vcpus'],
                server.get('engine_user') or '')))

    # --- processes ----------------------------------------------------------

    def _agent_argv(self, root: str) -> list[str]:
        program = CONF.local.guest_agent
        if os.sep not in program:
            program = os.path.join(os.path.dirname(sys.executable), program)
        argv = [program]
        # What the taskmanager injects (GUEST_CONF) comes last and wins.
        for conf in (GUEST_INFO, GUEST_CONF):
            if os.path.exists(os.path.join(root, conf)):
                argv += ['--config-file', os.path.join(root, conf)]
        return argv

    def _start(self, server: dict) -> None:
        root = os.path.join(self._dir(server['id']), 'root')
        log = open(os.path.join(self._dir(server['id']), 'console.log'), 'ab')
        try:
            child = subprocess.Popen(
                self._agent_argv(root), cwd=root, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, start_new_session=True,
                env=dict(os.environ, TROVE_GUEST_ROOT=root,
                         TROVE_GUEST_ADDRESS=server['address']))
        finally:
            log.close()
        self._children[child.pid] = child
        flavor = drivers.get('flavor').get(server['flavor_id'])
        server.update(pid=child.pid, status='ACTIVE', cgroups=cgroups.apply(
            server['id'], child.pid, flavor['ram'], flavor['vcpus']))

    def _stop(self, server: dict) -> None:
        stop_group(server.get('pid'))
        child = self._children.pop(server.get('pid'), None)
        if child is not None:
            child.wait()
        cgroups.release(server.get('cgroups') or [])
        server.update(pid=None, cgroups=[])

    # --- the interface ------------------------------------------------------

    def create(self, name: str, image_id: str, flavor_id: str,
               volume_id: str | None = None,
               files: dict[str, str] | None = None,
               user_data: str | None = None,
               metadata: dict[str, str] | None = None) -> dict:
        check_fits(drivers.get('flavor').get(flavor_id))
        image_path = self._fetch(image_id)
        files = dict(files or {})
        if user_data is not None:
            files[USER_DATA] = user_data
        server = {'id': uuidutils.generate_uuid(), 'name': name,
                  'image_id': image_id, 'flavor_id': str(flavor_id),
                  'volume_id': volume_id, 'files': files,
                  'metadata': dict(metadata or {}),
                  'status': 'BUILD', 'pid': None, 'creator': os.getpid(),
                  'created': datetime.datetime.now(
                      datetime.timezone.utc).isoformat()}
        with self._lock():
            server['address'] = self._allocate_address()
            # 0711: the engine's OS user traverses it to its root.
            secrets.make_private_dirs(self._dir(server['id']), 0o711)
            self._save(server)
        try:
            server['engine_user'] = create_engine_user(server['id'])
            if volume_id:
                drivers.get('volume').attach(volume_id, server['id'])
            self._unpack(server, image_path)
            self._start(server)
        except Exception:
            self._discard(server)
            raise
        self._save(server)
        return self._view(server)

    def _discard(self, server: dict) -> None:
        self._stop(server)
        # What a creator that died in the middle started, unrecorded: its
        # agent would go on taking the instance's messages.
        own_group = os.getpgid(0)
        for pid in processes_in(self._dir(server['id'])):
            try:
                group = os.getpgid(pid)
            except ProcessLookupError:
                continue
            if group == pid and group != own_group:
                stop_group(pid)
        if server['volume_id']:
            try:
                drivers.get('volume').detach(server['volume_id'])
            except exception.TroveError:
                LOG.exception('Volume %s of server %s stays attached.',
                              server['volume_id'], server['id'])
        shutil.rmtree(self._dir(server['id']), ignore_errors=True)
        name = server.get('engine_user') or engine_user_name(server['id'])
        try:
            pwd.getpwnam(name)
        except KeyError:
            return
        remove_engine_user(name)

    def get(self, server_id: str) -> dict:
        return self._view(self._load(server_id))

    def list(self) -> list[dict]:
        return [self._view(record) for record in self._records()]

    def reboot(self, server_id: str) -> dict:
        server = self._load(server_id)
        self._stop(server)
        self._start(server)
        self._save(server)
        return self._view(server)

    def rebuild(self, server_id: str, image_id: str) -> dict:
        server = self._load(server_id)
        image_path = self._fetch(image_id)
        self._stop(server)
        server['image_id'] = image_id
        self._unpack(server, image_path)
        self._start(server)
        self._save(server)
        return self._view(server)

    def resize(self, server_id: str, flavor_id: str) -> dict:
        server = self._load(server_id)
        check_fits(drivers.get('flavor').get(flavor_id))
        server['flavor_id'] = str(flavor_id)
        self._write_guest_info(server)
        self._save(server)
        return self.reboot(server_id)

    def update_access(self, server_id: str, is_public: bool,
                      allowed_cidrs: list[str], ports: list[int]) -> None:
        """Servers here have one address, on this host's loopback: no
        network to publish it on and no rules of its own (no firewall is
        touched on a shared host). The guest's socket filter is what
        enforces ``allowed_cidrs`` (doc/instance-access.md); this only
        checks the server exists."""
        self._load(server_id)

    def delete(self, server_id: str) -> None:
        self._discard(self._load(server_id))
