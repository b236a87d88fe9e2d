"""The lifecycle capability of a datastore, as the guest agent drives it.

A datastore implements the capabilities it supports (lifecycle here;
users, configuration, backup, replication... elsewhere), each a small
interface. The engine runs as a child of the guest agent, in the agent's
process group, so that stopping the server stops the engine.
"""
import abc
import json
import os
import pwd
import signal
import subprocess
import time

from oslo_log import log as logging

from trove_clone.common import exception

LOG = logging.getLogger(__name__)


class EngineError(exception.TroveError):
    """The engine failed; the message carries the engine's own words."""


def read_manifest(root: str) -> dict:
    """The manifest of the image unpacked at ``root``."""
    path = os.path.join(root, 'manifest.json')
    try:
        with open(path) as source:
            return json.load(source)
    except (OSError, ValueError) as error:
        raise exception.TroveError('The guest image has no readable '
                                   'manifest at %s: %s' % (path, error))


class Lifecycle(abc.ABC):
    """Prepare, start, stop and probe one engine.

    :param root: the server's root (where the image was unpacked)
    :param address: the address the engine listens on
    :param data_dir: where the engine keeps its data (on the volume)
    :param programs: program name → path, from the image manifest
    :param ram_mb: the flavor's RAM, to size the engine's memory
    """

    #: The standard port of the engine.
    port: int = 0
    #: The system user the engine runs as when the agent runs as root.
    system_user: str | None = None
    #: The engine's process, a child of the agent, once started.
    process: subprocess.Popen | None = None
    #: The signal that shuts the engine down cleanly.
    stop_signal: int = signal.SIGTERM

    def __init__(self, root: str, address: str, data_dir: str,
                 programs: dict, ram_mb: int) -> None:
        self.root = root
        self.address = address
        self.data_dir = data_dir
        self.programs = {name: path if os.path.isabs(path)
                         else os.path.join(root, path)
                         for name, path in programs.items()}
        self.ram_mb = ram_mb
        self.log_path = os.path.join(data_dir, 'engine.log')

    # --- helpers for the engines -------------------------------------------

    def _user(self):
        """(uid, gid) to run the engine as, or None to stay who we are."""
        if os.geteuid() != 0 or not self.system_user:
            return None
        entry = pwd.getpwnam(self.system_user)
        return entry.pw_uid, entry.pw_gid

    def _own(self, path: str) -> None:
        user = self._user()
        if user is None:
            return
        for directory, dirs, files in os.walk(path):
            os.chown(directory, *user)
            for name in files:
                os.chown(os.path.join(directory, name), *user)

    def _run(self, argv: list[str], what: str, timeout: float = 120) -> str:
        user = self._user()
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout,
            user=user[0] if user else None, group=user[1] if user else None)
        if result.returncode:
            raise EngineError('%s failed: %s' % (
                what, (result.stderr or result.stdout).strip()[-500:]))
        return result.stdout

    def _spawn(self, argv: list[str],
               drop_privileges: bool = True) -> subprocess.Popen:
        """Start the engine; as ``system_user`` unless the engine drops
        privileges itself (``drop_privileges`` False)."""
        user = self._user() if drop_privileges else None
        log = open(self.log_path, 'ab')
        try:
            return subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                user=user[0] if user else None,
                group=user[1] if user else None)
        finally:
            log.close()

    def engine_log_tail(self, size: int = 800) -> str:
        try:
            with open(self.log_path, 'rb') as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(log.tell() - size, 0))
                return log.read().decode('utf-8', 'replace').strip()
        except OSError:
            return ''

    def wait_until_healthy(self, timeout: float = 60.0) -> None:
        """Return once the engine answers a query; raise EngineError with
        the engine's own log when it does not in ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.is_healthy():
                return
            if not self.is_running():
                break
            time.sleep(0.05)
        raise EngineError('The engine did not start: %s'
                          % self.engine_log_tail())

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
        """Stop the engine cleanly (its data is consistent afterwards)."""
        if not self.is_running():
            return
        self.process.send_signal(self.stop_signal)
        self.process.wait(timeout)

    def is_running(self) -> bool:
        """Whether the engine process exists."""
        return self.process is not None and self.process.poll() is None

    @abc.abstractmethod
    def is_healthy(self) -> bool:
        """Whether the engine answers a real query."""
