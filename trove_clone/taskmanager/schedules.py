"""The taskmanager's periodic look for due scheduled backups
(services/backup_schedules.py): every taskmanager looks, one takes each
run."""
from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.db import models
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
