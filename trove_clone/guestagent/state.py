"""What the guest agent keeps on its data volume about itself.

``<volume>/trove-guest.json`` (:data:`STATE_FILE`) says which manager was
prepared there and whether an upgrade is pending, so that an agent that
starts on a prepared volume (reboot, resize, rebuild, upgrade) knows its
engine. The volume's use is reported with every heartbeat.
"""
import json
import os
import shutil

from trove_clone.guestagent.datastores import loader

#: What the agent keeps on the volume once the engine is prepared.
STATE_FILE = 'trove-guest.json'


def _path() -> str:
    return os.path.join(loader.volume_dir(), STATE_FILE)


def load() -> dict | None:
    """``{'manager', 'prepared', 'upgrade_pending'}`` of the volume, None
    when it was never prepared (or the file cannot be read)."""
    try:
        with open(_path()) as source:
            return json.load(source)
    except (OSError, ValueError):
        return None


def save(manager: str, upgrade_pending: bool = False) -> None:
    """Record ``manager`` as prepared on the volume (atomically)."""
    path = _path()
    temporary = '%s.%d.%s.new' % (path, os.getpid(), os.urandom(6).hex())
    with open(temporary, 'w') as state:
        json.dump({'manager': manager, 'prepared': True,
                   'upgrade_pending': upgrade_pending}, state)
    os.replace(temporary, path)


def volume_used_percent() -> float | None:
    """How full the data volume is, None when it cannot be told."""
    try:
        usage = shutil.disk_usage(loader.volume_dir())
    except OSError:
        return None
    return round(100.0 * usage.used / usage.total, 1) if usage.total \
        else None


def filesystem_stats() -> dict:
    """The volume's ``total``, ``used`` and ``free`` GB."""
    usage = shutil.disk_usage(loader.volume_dir())
    gb = 1024.0 ** 3
    return {'total': round(usage.total / gb, 2),
            'used': round(usage.used / gb, 2),
            'free': round(usage.free / gb, 2)}
