"""Options of the embedded "local" cloud backend (group local)."""
from oslo_config import cfg

local_group = cfg.OptGroup('local', title='Local cloud backend')

DEFAULT_FLAVORS = [
    '1:m1.tiny:512:1:1',
    '2:m1.small:1024:1:5',
    '3:m1.medium:2048:2:10',
    '4:m1.large:4096:2:20',
    '6:ds512M:512:1:5',
    '7:ds1G:1024:1:5',
    '8:ds2G:2048:1:10',
    # Seed 003 creates its instances and cluster members with flavor 15.
    '15:test.small-15:768:1:5',
]

local_opts = [
    cfg.StrOpt('state_dir', default='/var/lib/trove/local',
               help='Where the local backend keeps its servers, volumes '
                    'and image cache.'),
    cfg.StrOpt('volume_backend', default='auto',
               choices=[('auto', 'loop when this machine allows mounting, '
                                 'else directory'),
                        ('loop', 'a loop-mounted ext4 filesystem per '
                                 'volume: the engine sees a full disk at '
                                 'the size'),
                        ('directory', 'a plain directory; the size is '
                                      'checked, not enforced')],
               help='How local volumes are made.'),
    cfg.IntOpt('volume_pool_gb', default=100, min=1,
               help='Total size of all local volumes, in GB.'),
    cfg.StrOpt('address_pool', default='127.77.0.0/16',
               help='Loopback network the local servers take their '
                    'addresses from; each engine listens on its standard '
                    'port at its server\'s address.'),
    cfg.StrOpt('guest_agent', default='trove-guestagent',
               help='Program started in each local server: the guest '
                    'agent, found next to the running Python when not a '
                    'path.'),
    cfg.ListOpt('flavors', default=DEFAULT_FLAVORS,
                help='Flavors of the local backend, each written '
                     'ID:NAME:RAM_MB:VCPUS:DISK_GB.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(local_group)
    conf.register_opts(local_opts, group=local_group)


def list_opts() -> list:
    return [(local_group, local_opts)]
