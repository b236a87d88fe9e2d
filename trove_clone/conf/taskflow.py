"""How the taskmanager runs its flows (group ``taskflow``).

Flows are OpenStack taskflow flows persisted in the control database.
With ``jobboard_backend = none`` one taskmanager runs the flows it is
cast and resumes, at its restart, those it left unfinished; with
``redis`` several taskmanagers share the flows through a taskflow
jobboard, each flow claimed by one of them with a lease.
"""
from oslo_config import cfg

taskflow_group = cfg.OptGroup(
    'taskflow', title='Flows of the taskmanager',
    help='Persistence, jobboard and executors of the taskmanager flows.')

taskflow_opts = [
    cfg.StrOpt('jobboard_backend', default='none',
               choices=[('none', 'One taskmanager: flows run where they '
                                 'are cast and resume at its restart.'),
                        ('redis', 'Several taskmanagers share the flows '
                                  'through a Redis jobboard.')],
               help='Where the taskmanagers post and claim flows.'),
    cfg.HostAddressOpt('jobboard_redis_host', default='127.0.0.1',
                       help='Address of the Redis server of the jobboard.'),
    cfg.PortOpt('jobboard_redis_port', default=6379,
                help='Port of the Redis server of the jobboard.'),
    cfg.StrOpt('jobboard_redis_password', default='', secret=True,
               help='Password of the Redis server of the jobboard (its '
                    'requirepass); a jobboard anyone may write to would '
                    'let them run flows.'),
    cfg.IntOpt('jobboard_redis_db', default=0, min=0,
               help='Redis database number of the jobboard.'),
    cfg.StrOpt('jobboard_namespace', default='trove_clone',
               help='Prefix of the jobboard keys in Redis (one per '
                    'deployment sharing a Redis server).'),
    cfg.FloatOpt('claim_lease', default=30.0, min=3.0,
                 help='Seconds a taskmanager owns a flow it claimed '
                      'without renewing the claim; it renews its claims '
                      'every third of this. A claim not renewed (its '
                      'taskmanager died) is taken over by another '
                      'taskmanager, which resumes the flow.'),
    cfg.IntOpt('max_flows', default=16, min=1,
               help='Flows one taskmanager runs at once.'),
    cfg.IntOpt('max_recovery_flows', default=4, min=1,
               help='Flows one taskmanager resumes at once after its '
                    'restart (an executor of their own, so that new '
                    'flows do not wait for them).'),
    cfg.FloatOpt('jobboard_poll_interval', default=0.2, min=0.01,
                 help='Seconds between two looks at the jobboard for '
                      'flows to claim when none was found.'),
    cfg.IntOpt('finished_flow_keep', default=3600, min=0,
               help='Seconds the state of a finished flow is kept in '
                    'the control database before it is deleted.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(taskflow_group)
    conf.register_opts(taskflow_opts, group=taskflow_group)


def list_opts() -> list:
    return [(taskflow_group, taskflow_opts)]
