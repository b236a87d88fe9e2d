"""What a guest agent knows about its server (group DEFAULT).

The compute driver writes these into ``guest_info.conf`` when it creates or
rebuilds the server.
"""
from oslo_config import cfg

guest_opts = [
    cfg.StrOpt('guest_address', default='127.0.0.1',
               help='The address the engine listens on.'),
    cfg.StrOpt('guest_root', default='/',
               help='Where the guest image was unpacked (its manifest.json '
                    'names the engine programs).'),
    cfg.StrOpt('guest_volume', default='',
               help='Mountpoint of the data volume ("" : none).'),
    cfg.IntOpt('guest_ram_mb', default=512, min=64,
               help='RAM of the flavor, to size the engine.'),
    cfg.IntOpt('guest_vcpus', default=1, min=1,
               help='vCPUs of the flavor.'),
    cfg.StrOpt('guest_engine_user', default='',
               help='The unprivileged OS user the engine runs as when the '
                    'agent runs as root, created for this server by the '
                    'compute backend ("" : the datastore\'s system user, '
                    'such as mysql or postgres).'),
    cfg.StrOpt('datastore_manager', default='',
               help='The datastore manager of this instance (mysql, '
                    'mariadb, postgresql, redis), written by the '
                    'taskmanager.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(guest_opts)


def list_opts() -> list:
    return [('DEFAULT', guest_opts)]
