"""Backups (group DEFAULT, Trove's names where Trove has the option):
where backups are stored, how long one may run, the key they are
encrypted with."""
from oslo_config import cfg

backup_opts = [
    cfg.StrOpt('storage_strategy', default='local',
               choices=[('local', 'a directory of the control host, '
                                  'backup_local_dir'),
                        ('swift', 'OpenStack Swift, or Ceph RGW\'s Swift '
                                  'API')],
               help='Where backups are stored: "local", a directory on the '
                    'control host (backup_local_dir), or "swift", an '
                    'OpenStack Swift (or Ceph RGW Swift API) object store. '
                    'The guest agents get the storage options with each '
                    'backup and restore request.'),
    cfg.StrOpt('backup_swift_container', default='database_backups',
               help='Container backups go to when neither the request nor '
                    "a backup strategy of the instance or project names "
                    'one.'),
    cfg.StrOpt('backup_local_dir',
               help='Directory of the "local" backup storage (its '
                    'containers are subdirectories). Default: backups '
                    'beside the first --config-file.'),
    cfg.IntOpt('backup_timeout', default=3600, min=1,
               help='Seconds a backup may run before the taskmanager marks '
                    'it FAILED and gives the instance back.'),
    cfg.StrOpt('backup_aes_key', secret=True,
               help='Base64 of the 32-byte key backups are encrypted with '
                    'by the guest agents. Unset (the default): the key in '
                    'backup_key_file, generated at random by the first '
                    'trove-manage db_sync. Every taskmanager host must have '
                    'the same key, or backups taken through one cannot be '
                    'restored through another.'),
    cfg.ListOpt('pitr_enabled', default=[],
                help='Datastore versions with point-in-time recovery, as '
                     '"<datastore>:<version name>" ("<datastore>:*" for '
                     'every version of a datastore). Their full backups '
                     'start shipping the engine\'s logs (PostgreSQL WAL, '
                     'MariaDB binary logs) to the backup storage, and '
                     'restorePoint.restore_time restores to a second of '
                     'the recoverable window. PostgreSQL and MariaDB '
                     '(mysql, mariadb managers) only.'),
    cfg.IntOpt('pitr_ship_interval', default=5, min=1,
               help='Seconds between two log shipments of an instance with '
                    'point-in-time recovery: the current log is closed '
                    'when something was written, so the recoverable window '
                    'ends at most about this long ago.'),
    cfg.IntOpt('backup_schedule_interval', default=30, min=0,
               help='Seconds between two looks of each taskmanager for due '
                    'scheduled backups (instances\' backup_schedule); 0 '
                    'turns scheduled backups off on this taskmanager. One '
                    'taskmanager takes each run (a conditional UPDATE of '
                    'the next run).'),
    cfg.IntOpt('restore_drill_timeout', default=1800, min=60,
               help='Seconds a restore drill (POST /backups/{id}/action '
                    '{"verify": {}}) waits for its throwaway instance\'s '
                    'engine to answer before it records a failure.'),
    cfg.StrOpt('backup_key_file',
               help='File holding the generated backup key (mode 0600). '
                    'Default: backup.key beside the first --config-file.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(backup_opts)


def list_opts() -> list:
    return [('DEFAULT', backup_opts)]
