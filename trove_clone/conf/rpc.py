"""RPC topics (group DEFAULT). The transport options belong to
oslo.messaging and are registered by it."""
from oslo_config import cfg

rpc_opts = [
    cfg.StrOpt('taskmanager_queue', default='trove-taskmanager',
               help='RPC topic of the taskmanager.'),
    cfg.StrOpt('conductor_queue', default='trove-conductor',
               help='RPC topic of the conductor.'),
    cfg.StrOpt('guest_topic_prefix', default='guestagent',
               help='Guest agents listen on "<prefix>.<instance id>".'),
    cfg.StrOpt('guest_id',
               help='Instance id the guest agent serves. Written into the '
                    "guest's configuration at create time."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(rpc_opts)


def list_opts() -> list:
    return [('DEFAULT', rpc_opts)]
