"""Storage autogrow (beyond Trove; RDS and Cloud SQL have it): a data
volume used past ``volume_autogrow_threshold`` percent is grown before it
fills, without the user asking.

The conductor calls :func:`check` with each heartbeat's
``volume_used_percent``. A grow is a resize volume like a user's
(services.instances.resize_volume): the instance takes the RESIZING task
(one conductor wins), the growth is counted against the project's quota,
and the taskmanager's resize_volume flow stops the database, grows the
volume and starts the database again. What refuses it (the quota, the
maximum size) leaves a fault on the instance, said once; an instance busy
with another task is grown at a later heartbeat. See doc/volumes.md.
"""
import math
import threading
import time

from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone.services import instances as instance_service

LOG = logging.getLogger(__name__)
#: Seconds between two tries to grow one instance's volume (a grow in
#: progress, or refused, is not asked again at every heartbeat).
RETRY_SECONDS = 30.0
FAULT_MESSAGE = 'Storage autogrow could not grow the data volume'

_last_try: dict[str, float] = {}
_lock = threading.Lock()


def enabled() -> bool:
    return bool(CONF.volume_autogrow_threshold)


def maximum_gb() -> int:
    """The largest size autogrow grows a volume to."""
    return CONF.volume_autogrow_max_gb or CONF.max_accepted_volume_size


def next_size(size: int) -> int | None:
    """The size a ``size`` GB volume grows to: by
    volume_autogrow_step_percent, 1 GB at least, no larger than
    :func:`maximum_gb`; None when it cannot grow."""
    step = max(1, math.ceil(size * CONF.volume_autogrow_step_percent
                            / 100.0))
    grown = min(size + step, maximum_gb())
    return grown if grown > size else None


def _due(instance_id: str, now: float) -> bool:
    with _lock:
        if now - _last_try.get(instance_id, -RETRY_SECONDS) < RETRY_SECONDS:
            return False
        _last_try[instance_id] = now
        return True


def check(context, instance_id: str, used_percent, tasks) -> int | None:
    """Grow the instance's volume when autogrow is on and it is used at
    the threshold or more; returns the size asked for, or None.

    :param tasks: the taskmanager caster (services.instances.Tasks)
    """
    if not enabled() or not isinstance(used_percent, (int, float)) or \
            used_percent < CONF.volume_autogrow_threshold:
        return None
    if not _due(instance_id, time.monotonic()):
        return None
    row = db_instances.get(context, instance_id)
    if not row['volume_size'] or row['task_id'] != statuses.NONE.code:
        return None
    size = next_size(row['volume_size'])
    if size is None:
        _refused(context, row, 'it is %d GB already, the most autogrow '
                 'may give it (volume_autogrow_max_gb)' % row['volume_size'])
        return None
    instance_service.derive_status(row)
    project = trove_context.TroveContext(
        user_id='trove', project_id=row['tenant_id'], is_admin=True,
        roles=['admin'], overwrite=False)
    LOG.info('Instance %s: its data volume is %.0f%% used (autogrow '
             'threshold %d%%): growing it from %d to %d GB.', instance_id,
             used_percent, CONF.volume_autogrow_threshold,
             row['volume_size'], size)
    try:
        instance_service.resize_volume(project, row, size, tasks)
    except exception.UnprocessableEntity:
        LOG.info('Instance %s is busy: its volume grows later.',
                 instance_id)
        return None
    except (exception.QuotaExceeded, exception.VolumeSizeTooLarge) as error:
        _refused(context, row, 'growing it to %d GB was refused: %s' % (
            size, error.message))
        return None
    except Exception as error:  # noqa: B902 - tried again later
        LOG.warning('Instance %s: autogrow to %d GB not started: %s',
                    instance_id, size, error)
        return None
    return size


def _refused(context, row: dict, why: str) -> None:
    details = ('The data volume of instance %s is used past the autogrow '
               'threshold (%d%%) but %s. Free space in the database, or '
               'grow the volume yourself when the quota allows: '
               'openstack database instance resize volume %s <size in GB>.'
               % (row['id'], CONF.volume_autogrow_threshold, why,
                  row['id']))
    LOG.warning(details)
    db_instances.add_fault_once(context, row['id'], FAULT_MESSAGE, details)
