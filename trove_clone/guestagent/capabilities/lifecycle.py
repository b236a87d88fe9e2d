"""The lifecycle capability of a datastore, as the guest agent drives it.

A datastore implements the capabilities it supports (lifecycle here;
users, configuration, backup, replication... elsewhere), each a small
interface. The engine runs as a child of the guest agent, in the agent's
process group, so that stopping the server stops the engine. A thread
waits for each engine process it starts: the agent reaps it the moment it
exits (no zombie is left under the agent), and an exit nobody asked for
(:meth:`Lifecycle.stop` was not called) is handed to
:attr:`Lifecycle.on_unexpected_exit` with the exit status, so the agent
can report why the engine stopped (its last log lines:
:meth:`Lifecycle.engine_log_lines`).

When the agent runs as root the engine never does: it runs as an
unprivileged OS user of its own (``os_user``, which the compute backend
creates for the server, else the datastore's ``system_user``), with no
supplementary groups, and its data and run directories are 0700 and owned
by that user. The agent's own secrets for the engine (the password of its
account, where the engine has passwords) live in ``<volume>/agent``, a
0700 directory of the agent's user that the engine's user cannot read.
"""
import abc
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import threading
import time
from typing import Callable

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.guestagent import source_filter

LOG = logging.getLogger(__name__)


class EngineError(exception.TroveError):
    """The engine failed; the message carries the engine's own words."""


def is_inside_dir(path: str, directory: str) -> bool:
    """Whether ``path`` is ``directory`` or under it."""
    path, directory = os.path.realpath(path), os.path.realpath(directory)
    return os.path.commonpath([path, directory]) == directory


def read_manifest(root: str) -> dict:
    """The manifest of the image unpacked at ``root``."""
    path = os.path.join(root, 'manifest.json')
    try:
        with open(path) as source:
            return json.load(source)
    except (OSError, ValueError) as error:
        raise exception.TroveError('The guest image has no readable '
                                   'manifest at %s: %s' % (path, error))


def _without_time(line: str) -> str:
    """A log line without its leading time stamp (the words of the first
    two fields when they hold digits), to tell repeated lines apart."""
    fields = line.split(' ', 2)
    if len(fields) == 3 and all(any(c.isdigit() for c in field)
                                for field in fields[:2]):
        return fields[2]
    return line


class Lifecycle(abc.ABC):
    """Prepare, start, stop and probe one engine.

    :param root: the server's root (where the image was unpacked)
    :param address: the address the engine listens on
    :param data_dir: where the engine keeps its data (on the volume)
    :param programs: program name → path, from the image manifest
    :param ram_mb: the flavor's RAM, to size the engine's memory
    :param os_user: the OS user the engine runs as when the agent runs as
        root (None: ``system_user``)
    """

    #: The standard port of the engine.
    port: int = 0
    #: The system user the engine runs as when the agent runs as root.
    system_user: str | None = None
    #: The engine's process, a child of the agent, once started.
    process: subprocess.Popen | None = None
    #: The signal that shuts the engine down cleanly.
    stop_signal: int = signal.SIGTERM
    #: Called (in the thread that reaped it) with the engine's exit status
    #: (negative: the signal that killed it) when it exits on its own.
    on_unexpected_exit: Callable[[int], None] | None = None
    #: Whether :meth:`stop` asked the current engine process to exit.
    _stopping: bool = False

    def __init__(self, root: str, address: str, data_dir: str,
                 programs: dict, ram_mb: int,
                 os_user: str | None = None) -> None:
        self.root = root
        self.os_user = os_user
        self.address = address
        self.data_dir = data_dir
        self.programs = {name: path if os.path.isabs(path)
                         else os.path.join(root, path)
                         for name, path in programs.items()}
        self.ram_mb = ram_mb
        self.log_path = os.path.join(data_dir, 'engine.log')

    # --- helpers for the engines -------------------------------------------

    @property
    def engine_user_name(self) -> str | None:
        """The name of the OS user the engine runs as, None when it runs
        as the agent's own user (an agent that is not root)."""
        if os.geteuid() != 0:
            return None
        return self.os_user or self.system_user

    def _user(self) -> tuple[int, int] | None:
        """(uid, gid) to run the engine as, or None to stay who we are.

        :raises EngineError: when the agent runs as root and the engine's
            user does not exist (the engine never runs as root)
        """
        name = self.engine_user_name
        if name is None:
            return None
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise EngineError('The OS user %s the engine runs as does not '
                              'exist; it never runs as root.' % name)
        if entry.pw_uid == 0:
            raise EngineError('The engine must not run as root (%s).'
                              % name)
        return entry.pw_uid, entry.pw_gid

    def _privileges(self) -> dict:
        """The subprocess arguments that run a program as the engine's
        user, without the agent's supplementary groups."""
        user = self._user()
        if user is None:
            return {}
        return {'user': user[0], 'group': user[1], 'extra_groups': []}

    @staticmethod
    def agent_user_name() -> str:
        """The name of the agent's own OS user."""
        return pwd.getpwuid(os.geteuid()).pw_name

    def _own(self, path: str) -> None:
        user = self._user()
        if user is None:
            return
        for directory, dirs, files in os.walk(path):
            os.lchown(directory, *user)
            for name in files:
                os.lchown(os.path.join(directory, name), *user)

    def private_dir(self, path: str, shared_parent: bool = False) -> None:
        """Make ``path`` a directory of mode 0700 owned by the engine's
        user (its content is left alone).

        :param shared_parent: ``path`` is in a directory others may write
            to (/tmp): whatever is in the way there (a link, a file, a
            directory another user made) is removed first
        """
        user = self._user()
        owner = user[0] if user is not None else os.geteuid()
        try:
            status = os.lstat(path)
        except FileNotFoundError:
            status = None
        if status is not None and shared_parent and (
                not stat.S_ISDIR(status.st_mode) or
                status.st_uid not in (owner, os.geteuid())):
            if stat.S_ISDIR(status.st_mode):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        os.makedirs(path, mode=0o700, exist_ok=True)
        if user is not None:
            os.chown(path, *user)
        os.chmod(path, 0o700)

    @property
    def agent_dir(self) -> str:
        """``<volume>/agent``: the agent's secrets for the engine, beside
        the data directory (so they survive rebuilds and upgrades), 0700
        and owned by the agent's user."""
        return os.path.join(os.path.dirname(self.data_dir), 'agent')

    def agent_secret(self, name: str) -> str:
        """The secret ``name`` of the agent (a random one made on first
        use), kept in a 0600 file of :attr:`agent_dir`."""
        os.makedirs(self.agent_dir, mode=0o700, exist_ok=True)
        os.chmod(self.agent_dir, 0o700)
        path = os.path.join(self.agent_dir, name)
        try:
            with open(path) as source:
                value = source.read().strip()
            if value:
                return value
        except FileNotFoundError:
            pass
        value = secrets.token_urlsafe(32)
        # First writer wins, across threads and processes: the new file
        # is linked into place, which fails if another made it first
        # (then its value is the one the engine was given).
        temporary = '%s.%d.%s.new' % (path, os.getpid(),
                                      secrets.token_hex(6))
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT |
                             os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(descriptor, 'w') as target:
                target.write(value + '\n')
                target.flush()
                os.fsync(target.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:
                with open(path) as source:
                    existing = source.read().strip()
                if existing:
                    value = existing
                else:
                    os.replace(temporary, path)
        finally:
            if os.path.lexists(temporary):
                os.unlink(temporary)
        return value

    def _run(self, argv: list[str], what: str, timeout: float = 120) -> str:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout,
            **self._privileges())
        if result.returncode:
            raise EngineError('%s failed: %s' % (
                what, (result.stderr or result.stdout).strip()[-500:]))
        return result.stdout

    def _spawn(self, argv: list[str],
               drop_privileges: bool = True) -> subprocess.Popen:
        """Start the engine; as ``system_user`` unless the engine drops
        privileges itself (``drop_privileges`` False)."""
        privileges = self._privileges() if drop_privileges else {}
        # Never through a link the engine's user may have put there.
        log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_APPEND |
                                os.O_CREAT | os.O_NOFOLLOW, 0o600), 'ab')
        try:
            process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                **privileges)
        finally:
            log.close()
        self.process, self._stopping = process, False
        threading.Thread(target=self._watch, args=(process,),
                         name='engine-watch', daemon=True).start()
        return process

    def _watch(self, process: subprocess.Popen) -> None:
        """Reap ``process`` when it exits, and report an exit that
        :meth:`stop` did not ask for (of the current engine process)."""
        returncode = process.wait()
        if process is not self.process or self._stopping:
            return
        LOG.error('The engine (pid %d) exited on its own with status %d.',
                  process.pid, returncode)
        callback = self.on_unexpected_exit
        if callback is not None:
            try:
                callback(returncode)
            except Exception:  # noqa: B902 - the watcher must not die loud
                LOG.exception('Reporting the engine exit failed.')

    def engine_log_lines(self, count: int = 20,
                         size: int = 16384) -> list[str]:
        """The engine's last ``count`` log lines (read from the last
        ``size`` bytes of its log), a run of identical lines (an engine
        retrying a write, say) given once with how often it came."""
        text = self.engine_log_tail(size).splitlines()
        if self._log_longer_than(size):
            text = text[1:]  # cut in the middle
        lines: list[str] = []
        repeats: list[int] = []
        for line in text:
            line = line.rstrip()
            if not line:
                continue
            if lines and _without_time(line) == _without_time(lines[-1]):
                repeats[-1] += 1
                continue
            lines.append(line)
            repeats.append(1)
        described = ['%s [%d times]' % (line, times) if times > 1 else line
                     for line, times in zip(lines, repeats)]
        return described[-count:]

    def _log_longer_than(self, size: int) -> bool:
        try:
            return os.lstat(self.log_path).st_size > size
        except OSError:
            return False

    def engine_log_tail(self, size: int = 800) -> str:
        try:
            with os.fdopen(os.open(self.log_path, os.O_RDONLY |
                                   os.O_NOFOLLOW), 'rb') as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(log.tell() - size, 0))
                return log.read().decode('utf-8', 'replace').strip()
        except OSError:
            return ''

    def wait_until_healthy(self, timeout: float = 60.0) -> None:
        """Return once the engine answers a query, its listening socket
        filtered by the instance's allowed CIDRs (source_filter) as soon
        as it listens; raise EngineError with the engine's own log when it
        does not answer in ``timeout`` seconds, or when its socket cannot
        be filtered (it never serves addresses it must refuse)."""
        deadline = time.monotonic() + timeout
        cidrs = self.allowed_cidrs()
        filtered = not cidrs
        while time.monotonic() < deadline:
            if not filtered:
                filtered = self._filter_listener(cidrs)
            if filtered and self.is_healthy():
                return
            if not self.is_running():
                break
            time.sleep(0.05)
        raise EngineError('The engine did not start: %s'
                          % self.engine_log_tail())

    # --- allowed client addresses -------------------------------------------

    def allowed_cidrs(self) -> list[str]:
        """The CIDRs clients may connect from ([]: any)."""
        return source_filter.load(self.agent_dir)

    def _filter_listener(self, cidrs: list[str]) -> bool:
        try:
            return source_filter.apply(self.process.pid, self.address,
                                       self.port, cidrs)
        except source_filter.SourceFilterError as error:
            self.stop()
            raise EngineError('The engine was stopped: %s' % error)

    def update_access(self, cidrs: list[str]) -> None:
        """Keep ``cidrs`` for every start of the engine and apply them to
        the running engine's socket now ([] lets any address in).

        :raises EngineError: when the running engine's socket cannot be
            filtered (the kept CIDRs are the old ones again)
        """
        old = self.allowed_cidrs()
        source_filter.save(self.agent_dir, cidrs)
        # Nothing was filtered and nothing is to be: the socket is left
        # alone (no pidfd_getfd needed).
        if not self.is_running() or not (cidrs or old):
            return
        try:
            applied = source_filter.apply(self.process.pid, self.address,
                                          self.port, cidrs)
        except source_filter.SourceFilterError as error:
            source_filter.save(self.agent_dir, old)
            raise EngineError(str(error))
        if not applied:
            source_filter.save(self.agent_dir, old)
            raise EngineError('The engine does not listen on %s:%d.'
                              % (self.address, self.port))
        if cidrs:
            try:
                closed = source_filter.cut_others(self.address, self.port,
                                                  cidrs)
            except (source_filter.SourceFilterError, OSError,
                    subprocess.SubprocessError) as error:
                LOG.warning('Connections from outside %s stay open until '
                            'they close: %s', cidrs, error)
            else:
                LOG.info('Closed %d connection(s) from outside %s.',
                         closed, cidrs)

    # --- the capability ----------------------------------------------------

    @abc.abstractmethod
    def prepare(self) -> None:
        """Initialise the data directory if it is empty, write the
        configuration sized by ``ram_mb``, start the engine and wait until
        it answers."""

    @abc.abstractmethod
    def start(self) -> None:
        """Start the engine on existing data."""

    def stop(self, timeout: float = 120.0) -> None:
        """Stop the engine cleanly (its data is consistent afterwards).
        One that has not stopped after ``timeout`` seconds is killed (a
        MariaDB waiting for space on a full volume never finishes its
        shutdown): its crash recovery brings the data back at its next
        start, on a volume that was grown meanwhile."""
        if not self.is_running():
            return
        self._stopping = True
        self.process.send_signal(self.stop_signal)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            LOG.warning('The engine (pid %d) did not stop in %d s: '
                        'killing it.', self.process.pid, timeout)
            self.process.kill()
            self.process.wait()

    def is_running(self) -> bool:
        """Whether the engine process exists."""
        return self.process is not None and self.process.poll() is None

    @abc.abstractmethod
    def is_healthy(self) -> bool:
        """Whether the engine answers a real query."""
