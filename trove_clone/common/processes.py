"""Facts about local processes, for the local backend and the tools."""
import os


def alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs: it exists and is not a zombie (dead
    but not yet reaped by its parent). False for no pid."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as stat:
            return stat.read().rsplit(') ', 1)[-1][:1] != 'Z'
    except OSError:
        return False
