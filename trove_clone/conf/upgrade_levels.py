"""RPC version caps for rolling upgrades (group upgrade_levels)."""
from oslo_config import cfg

upgrade_levels_group = cfg.OptGroup(
    'upgrade_levels', title='RPC version caps',
    help='Cap the RPC version each client sends, so that new services can '
         'talk to old ones during a rolling upgrade. "latest" means no cap; '
         'a release alias or a version number such as "1.0" caps it.')

upgrade_levels_opts = [
    cfg.StrOpt('taskmanager', default='latest',
               help='RPC version cap for messages to the taskmanager. '
                    'Below 2.0 (e.g. "2027.1") messages are not sealed in '
                    'an envelope, for taskmanagers not yet upgraded.'),
    cfg.StrOpt('conductor', default='latest',
               help='RPC version cap for messages to the conductor.'),
    cfg.StrOpt('guestagent', default='latest',
               help='RPC version cap for messages to guest agents. Below '
                    '2.0 (e.g. "2027.1") messages are not sealed in an '
                    'envelope (only their arguments are), for agents not '
                    'yet upgraded; agents of 2.0 refuse them.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(upgrade_levels_group)
    conf.register_opts(upgrade_levels_opts, group=upgrade_levels_group)


def list_opts() -> list:
    return [(upgrade_levels_group, upgrade_levels_opts)]
