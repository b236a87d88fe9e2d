"""Backups: take one (the guest streams it to the backup storage and
reports through the conductor) and delete one with the incremental
backups that depend on it."""
from taskflow.patterns import linear_flow

from trove_clone.taskmanager.tasks import backup


def get_create_flow() -> linear_flow.Flow:
    """Store: context, instance_id, backup_id."""
    return linear_flow.Flow('create_backup').add(
        backup.BackupGuard(),
        backup.StartBackup(),
        backup.WaitForBackup(),
        backup.EndBackup())


def get_delete_flow() -> linear_flow.Flow:
    """Store: context, backup_id."""
    return linear_flow.Flow('delete_backup').add(
        backup.DeleteGuard(),
        backup.DeleteObjects(),
        backup.MarkDeleted())
