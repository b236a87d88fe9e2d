"""General options (group DEFAULT)."""
from oslo_config import cfg

default_opts = [
    cfg.StrOpt('region', default='LOCAL_DEV',
               help='Region this deployment serves, shown in instance '
                    'views.'),
    cfg.StrOpt('default_datastore',
               help='Datastore used when a request names none.'),
    cfg.IntOpt('agent_heartbeat_time', default=10, min=1,
               help='Seconds between two guest agent heartbeats.'),
    cfg.IntOpt('agent_heartbeat_expiry', default=90, min=1,
               help='Seconds after which an instance whose guest agent '
                    'sent no heartbeat is reported SHUTDOWN.'),
    cfg.IntOpt('agent_call_low_timeout', default=15, min=1,
               help='Timeout of quick guest agent calls, in seconds.'),
    cfg.IntOpt('agent_call_high_timeout', default=180, min=1,
               help='Timeout of slow guest agent calls, in seconds.'),
    cfg.IntOpt('max_accepted_volume_size', default=10, min=1,
               help='Largest volume, in GB, a user may request.'),
    cfg.IntOpt('volume_autogrow_threshold', default=0, min=0, max=99,
               help='Storage autogrow: when the guest of an instance '
                    'reports its data volume used at this percent or '
                    'more, the volume is grown (as a resize volume, '
                    'counted against the quota) by '
                    'volume_autogrow_step_percent of its size, 1 GB at '
                    'least, up to volume_autogrow_max_gb. 0 (the default) '
                    'turns autogrow off. See doc/volumes.md.'),
    cfg.IntOpt('volume_autogrow_max_gb', default=0, min=0,
               help='Storage autogrow never grows a volume beyond this '
                    'size in GB (0: max_accepted_volume_size).'),
    cfg.IntOpt('volume_autogrow_step_percent', default=10, min=1,
               max=100,
               help='Storage autogrow grows a volume by this percent of '
                    'its size, 1 GB at least.'),
    cfg.BoolOpt('trove_volume_support', default=True,
                help='Whether instances get a separate data volume.'),
    cfg.IntOpt('graceful_shutdown_timeout', default=10, min=1,
               help='Seconds an RPC service (trove-taskmanager, '
                    'trove-conductor, trove-guestagent) waits after SIGTERM '
                    'for its work in progress and its broker connections '
                    'to finish before it exits anyway (a dead broker must '
                    'not keep it running).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(default_opts)


def list_opts() -> list:
    return [('DEFAULT', default_opts)]
