"""Deadlines of the taskmanager's flows (group DEFAULT, Trove's names)."""
from oslo_config import cfg

taskmanager_opts = [
    cfg.IntOpt('usage_timeout', default=600, min=1,
               help='Seconds a new instance has to report its database '
                    'healthy before it is put in ERROR.'),
    cfg.IntOpt('volume_time_out', default=120, min=1,
               help='Seconds to create, extend or delete a volume.'),
    cfg.IntOpt('server_time_out', default=300, min=1,
               help='Seconds to create, rebuild or delete a server.'),
    cfg.IntOpt('reboot_time_out', default=300, min=1,
               help='Seconds a reboot or restart has to bring the '
                    'database back.'),
    cfg.IntOpt('resize_time_out', default=900, min=1,
               help='Seconds a resize has to bring the database back.'),
    cfg.FloatOpt('state_poll_interval', default=0.1, min=0.01,
                 help='Seconds between two looks at a status the '
                      'taskmanager waits for.'),
    cfg.StrOpt('guest_log_file', default='guest.log',
               help="The guest agent's log file inside its server "
                    '(relative paths are under the server root).'),
    cfg.IntOpt('exists_notification_interval', default=3600, min=0,
               help='Seconds between two trove.instance.exists '
                    'notifications for every instance (0: never).'),
    cfg.IntOpt('server_watch_interval', default=10, min=0,
               help='Seconds between two looks for dead guest agents of '
                    'the local backend, which are restarted (0: never).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(taskmanager_opts)


def list_opts() -> list:
    return [('DEFAULT', taskmanager_opts)]
