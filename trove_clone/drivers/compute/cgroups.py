"""Memory and CPU limits for local servers through cgroup v1 controllers.

On hosts such as this project's, cgroup v2 offers no memory controller
while the v1 memory and cpu controllers work. Each server gets a child
group ``trove-<server id>`` under this process's own group of each
controller; where the host does not allow it, the server runs unlimited
(its engine is still sized by its configuration) and the reason is logged.
"""
import os

from oslo_log import log as logging

LOG = logging.getLogger(__name__)
ROOT = '/sys/fs/cgroup'
CPU_PERIOD_US = 100000


def own_group(controller: str, proc_cgroup: str = '/proc/self/cgroup'
              ) -> str | None:
    """This process's group path for a v1 ``controller``, if mounted."""
    try:
        with open(proc_cgroup) as groups:
            lines = groups.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _number, controllers, path = line.split(':', 2)
        if controller in controllers.split(','):
            base = os.path.join(ROOT, controller)
            return base + path if os.path.isdir(base) else None
    return None


def _group(controller: str, server_id: str) -> str | None:
    own = own_group(controller)
    return os.path.join(own, 'trove-%s' % server_id) if own else None


def _write(path: str, value) -> None:
    with open(path, 'w') as target:
        target.write(str(value))


def apply(server_id: str, pid: int, ram_mb: int, vcpus: int) -> list[str]:
    """Put ``pid`` under the flavor's limits; returns the groups used."""
    applied = []
    settings = {
        'memory': {'memory.limit_in_bytes': ram_mb * 1024 * 1024},
        'cpu': {'cpu.cfs_period_us': CPU_PERIOD_US,
                'cpu.cfs_quota_us': vcpus * CPU_PERIOD_US},
    }
    for controller, values in settings.items():
        group = _group(controller, server_id)
        if group is None:
            continue
        try:
            os.makedirs(group, exist_ok=True)
            for name, value in values.items():
                _write(os.path.join(group, name), value)
            _write(os.path.join(group, 'cgroup.procs'), pid)
            applied.append(group)
        except OSError as error:
            LOG.warning('No %s limit for server %s: %s', controller,
                        server_id, error)
    return applied


def release(groups: list[str]) -> None:
    """Remove a server's groups once its processes are gone."""
    for group in groups:
        try:
            os.rmdir(group)
        except FileNotFoundError:
            continue
        except OSError as error:
            LOG.warning('Cannot remove cgroup %s: %s', group, error)
