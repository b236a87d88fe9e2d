"""Trove's instance task and service statuses, and the API status derived
from them.

Codes and descriptions are Trove's (trove/instance/tasks.py and
service_status.py), so the control database reads the same.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Task:
    code: int
    name: str
    action: str
    description: str
    is_error: bool = False


def _task(code: int, name: str, description: str, action: str = '',
          is_error: bool = False) -> Task:
    return Task(code, name, action or name, description, is_error)


NONE = _task(0x01, 'NONE', 'No tasks for the instance.')
DELETING = _task(0x02, 'DELETING', 'Deleting the instance.')
REBOOTING = _task(0x03, 'REBOOTING', 'Rebooting the instance.')
RESIZING = _task(0x04, 'RESIZING', 'Resizing the instance.')
BUILDING = _task(0x05, 'BUILDING', 'The instance is building.')
RESTART_REQUIRED = _task(0x07, 'RESTART_REQUIRED',
                         'Instance requires a restart.')
UPGRADING = _task(0x59, 'UPGRADING', 'Upgrading the instance.')
#: Not one of Trove's tasks (Trove derives BACKUP from a running backups
#: row): ours, so that starting a backup and any other action race on one
#: conditional UPDATE of the instance and only one wins. A code Trove
#: does not use.
BACKING_UP = _task(0x70, 'BACKING_UP', 'Backing up the instance.')
BUILDING_ERROR_SERVER = _task(0x51, 'BUILDING_ERROR_SERVER',
                              'Build error: Server.', 'BUILDING', True)
BUILDING_ERROR_VOLUME = _task(0x52, 'BUILDING_ERROR_VOLUME',
                              'Build error: Volume.', 'BUILDING', True)
BUILDING_ERROR_TIMEOUT_GA = _task(0x5b, 'BUILDING_ERROR_TIMEOUT_GA',
                                  'Build error: guestagent timeout.',
                                  'ERROR', True)

UPDATING = _task(0x0c, 'UPDATING', 'Updating the instance.')
PROMOTING = _task(0x08, 'PROMOTING',
                  'Promoting the instance to replica source.')
EJECTING = _task(0x09, 'EJECTING', 'Ejecting the replica source.')
DETACHING = _task(0x0b, 'DETACHING', 'Detaching the instance from replica '
                  'source.')
BUILDING_ERROR_REPLICA = _task(0x54, 'BUILDING_ERROR_REPLICA',
                               'Build error: Replica.', 'BUILDING', True)
PROMOTION_ERROR = _task(0x55, 'PROMOTION_ERROR', 'Replica Promotion Error.',
                        'PROMOTING', True)
EJECTION_ERROR = _task(0x56, 'EJECTION_ERROR',
                       'Replica Source Ejection Error.', 'EJECTING', True)

TASKS = {task.code: task for task in (
    NONE, DELETING, REBOOTING, RESIZING, BUILDING, RESTART_REQUIRED,
    UPGRADING, UPDATING, BACKING_UP, BUILDING_ERROR_SERVER,
    BUILDING_ERROR_VOLUME,
    BUILDING_ERROR_TIMEOUT_GA,
    _task(0x06, 'MIGRATING', 'Migrating the instance.'),
    PROMOTING, EJECTING, DETACHING, BUILDING_ERROR_REPLICA,
    PROMOTION_ERROR, EJECTION_ERROR,
)}


def task(code: int) -> Task:
    return TASKS.get(code) or _task(code, 'UNKNOWN', 'Unknown task.')


@dataclasses.dataclass(frozen=True)
class ServiceStatus:
    code: int
    description: str
    api_status: str


RUNNING = ServiceStatus(0x01, 'running', 'ACTIVE')
BLOCKED = ServiceStatus(0x02, 'blocked', 'BLOCKED')
PAUSED = ServiceStatus(0x03, 'paused', 'SHUTDOWN')
SHUTDOWN = ServiceStatus(0x04, 'shutdown', 'SHUTDOWN')
DELETED = ServiceStatus(0x05, 'deleted', 'DELETED')
CRASHED = ServiceStatus(0x06, 'crashed', 'SHUTDOWN')
FAILED = ServiceStatus(0x08, 'failed to spawn', 'FAILED')
BUILD = ServiceStatus(0x09, 'building', 'BUILD')
UNKNOWN = ServiceStatus(0x16, 'unknown', 'ERROR')
NEW = ServiceStatus(0x17, 'new', 'NEW')
FAILED_TIMEOUT_GUESTAGENT = ServiceStatus(0x18, 'guestagent error', 'ERROR')
INSTANCE_READY = ServiceStatus(0x19, 'instance ready', 'BUILD')
RESTART_REQUIRED_STATUS = ServiceStatus(0x20, 'restart required',
                                        'RESTART_REQUIRED')
HEALTHY = ServiceStatus(0x21, 'healthy', 'HEALTHY')
RESTARTING = ServiceStatus(0x22, 'restarting', 'RESTARTING')

SERVICE_STATUSES = {status.description: status for status in (
    RUNNING, BLOCKED, PAUSED, SHUTDOWN, DELETED, CRASHED, FAILED, BUILD,
    UNKNOWN, NEW, FAILED_TIMEOUT_GUESTAGENT, INSTANCE_READY,
    RESTART_REQUIRED_STATUS, HEALTHY, RESTARTING)}
SERVICE_CODES = {status.code: status for status in
                 SERVICE_STATUSES.values()}
#: Service statuses in which an instance accepts an action.
ACTION_ALLOWED = (RUNNING, SHUTDOWN, CRASHED, BLOCKED, HEALTHY,
                  RESTART_REQUIRED_STATUS)
#: API statuses of an instance whose guest can answer calls (accounts,
#: modules, configuration).
GUEST_READY = ('ACTIVE', 'HEALTHY', 'RESTART_REQUIRED')


#: How the message of a fault a guest reports about its engine (stopped,
#: did not start) begins.
ENGINE_FAULT_PREFIX = 'The database stopped'
#: How the message of the fault of a guest whose engine runs on a full
#: volume (its writes fail or wait) begins.
VOLUME_FULL_FAULT_PREFIX = 'The data volume is full'
#: The faults a guest reports (and the conductor clears once the engine is
#: healthy and the guest reports none).
GUEST_FAULT_PREFIXES = (ENGINE_FAULT_PREFIX, VOLUME_FULL_FAULT_PREFIX)


def service_status(description: str) -> ServiceStatus:
    """The status a guest reports by its description (UNKNOWN if none)."""
    return SERVICE_STATUSES.get(description, UNKNOWN)


_TASK_STATUSES = {'BUILDING': 'BUILD', 'REBOOTING': 'REBOOT',
                  'RESIZING': 'RESIZE', 'UPGRADING': 'UPGRADE',
                  'RESTART_REQUIRED': 'RESTART_REQUIRED',
                  'PROMOTING': 'PROMOTE', 'EJECTING': 'EJECT',
                  'DETACHING': 'DETACH', 'BACKING_UP': 'BACKUP'}


def api_status(task_code: int, server_status: str | None,
               service: ServiceStatus) -> str:
    """The ``status`` the API shows, derived without I/O in Trove's order
    (task error, task, deleting, server status, service status)."""
    current = task(task_code)
    if current.is_error:
        return 'ERROR'
    if current.action == 'DELETING':
        return 'SHUTDOWN' if server_status in (
            None, 'ACTIVE', 'SHUTDOWN', 'DELETED') else 'ERROR'
    if current.action == 'BUILDING' and server_status == 'ERROR':
        return 'ERROR'
    if current.action in _TASK_STATUSES:
        return _TASK_STATUSES[current.action]
    if server_status in ('BUILD', 'ERROR', 'REBOOT', 'RESIZE', 'SHUTDOWN'):
        return server_status
    if service in (SHUTDOWN, CRASHED, PAUSED):
        return 'SHUTDOWN'
    if service in (FAILED, UNKNOWN, FAILED_TIMEOUT_GUESTAGENT):
        return 'ERROR'
    if server_status == 'ACTIVE':
        return 'ACTIVE'
    return 'BUILD' if service in (NEW, BUILD) else 'ACTIVE'


def operating_status(task_code: int, server_status: str | None,
                     service: ServiceStatus) -> str:
    """Trove's ``operating_status``: the service status's API name when
    no task runs and the server is up, else ''."""
    if task_code != NONE.code or server_status != 'ACTIVE':
        return ''
    return service.api_status
