"""The taskmanager's periodic looks for due scheduled backups
(services/backup_schedules.py) and running restore drills
(services/backup_drills.py): every taskmanager looks, one takes each
run or ends each drill."""
from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.db import models
from trove_clone.services import backup_drills
from trove_clone.services import backup_schedules
from trove_clone.taskmanager import rpcapi

LOG = logging.getLogger(__name__)


def run_backup_schedules() -> list[str]:
    """Take the due runs this taskmanager claims; the instances' ids."""
    taken = backup_schedules.run_due(trove_context.admin_context(),
                                     rpcapi.TaskManagerAPI(),
                                     models.utcnow())
    if taken:
        LOG.info('Scheduled backups started for %s.', ', '.join(taken))
    return taken


def end_restore_drills() -> list[str]:
    """End the restore drills that are ready, failed or late; the ids of
    the backups this taskmanager ended."""
    ended = backup_drills.poll(trove_context.admin_context(),
                               rpcapi.TaskManagerAPI(), models.utcnow())
    if ended:
        LOG.info('Restore drills ended for backups %s.', ', '.join(ended))
    return ended
