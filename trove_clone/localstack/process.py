"""Start and stop a service process group; wait for it to answer HTTP."""
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

VENVS = os.environ.get('TROVE_CLONE_VENVS',
                       os.path.expanduser('~/.cache/trove_clone/venvs'))


class ServiceError(RuntimeError):
    """A service could not be installed, started or reached."""


def venv_bin(venv: str, program: str) -> str:
    """The path of ``program`` in one of the service virtualenvs."""
    path = os.path.join(VENVS, venv, 'bin', program)
    if not os.path.exists(path):
        raise ServiceError('%s is missing: run tools/install-openstack-'
                           'services first.' % path)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def gunicorn_argv(venv: str, port: int, state_dir: str,
                  application: str) -> list[str]:
    """gunicorn serving ``application`` on 127.0.0.1:port, one process,
    its control socket and Python path in ``state_dir``."""
    return [venv_bin(venv, 'gunicorn'), '--bind', '127.0.0.1:%d' % port,
            '--workers', '1', '--threads', '4', '--timeout', '300',
            '--control-socket', os.path.join(state_dir, 'gunicorn.ctl'),
            '--pythonpath', state_dir, application]


def run(argv: list[str], env: dict | None = None, timeout: float = 300,
        log_path: str | None = None) -> None:
    """Run a set-up command; raises ServiceError with its output."""
    result = subprocess.run(argv, env=env, capture_output=True, text=True,
                            timeout=timeout)
    if log_path:
        with open(log_path, 'a') as log:
            log.write('$ %s\n%s%s' % (
                ' '.join(argv), result.stdout, result.stderr))
    if result.returncode != 0:
        raise ServiceError('%s failed (%d): %s' % (
            ' '.join(argv[:3]), result.returncode,
            (result.stderr or result.stdout)[-2000:]))


def start(argv: list[str], env: dict, log_path: str) -> subprocess.Popen:
    """Start ``argv`` as the leader of a new process group."""
    log = open(log_path, 'ab')
    try:
        return subprocess.Popen(argv, env=env, stdout=log, stderr=log,
                                stdin=subprocess.DEVNULL,
                                start_new_session=True)
    finally:
        log.close()


def wait_http(url: str, process: subprocess.Popen, timeout: float,
              log_path: str) -> float:
    """Wait until ``url`` answers (any HTTP status); returns seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return time.monotonic() - started
        except urllib.error.HTTPError:
            return time.monotonic() - started
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    tail = ''
    if os.path.exists(log_path):
        with open(log_path, errors='replace') as log:
            tail = log.read()[-3000:]
    stop(process)
    raise ServiceError('%s did not answer within %.0f s.\n%s'
                       % (url, timeout, tail))


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


class Service:
    """A service process with a state directory (see Keystone, Glance)."""

    state_dir: str
    process: subprocess.Popen | None = None

    def stop(self, remove: bool = True) -> None:
        """Stop the process group; remove the state unless told not to."""
        if self.process is not None:
            stop(self.process)
        if remove:
            shutil.rmtree(self.state_dir, ignore_errors=True)
