"""Selection of the cloud drivers (group DEFAULT).

Each name is a stevedore entry point in the matching
``trove_clone.drivers.<kind>`` namespace declared in setup.cfg.
"""
from oslo_config import cfg

driver_opts = [
    cfg.StrOpt('flavor_driver', default='local',
               help='Flavor driver: "local" (flavors defined in '
                    'trove.conf) or "openstack" (Nova flavors).'),
    cfg.StrOpt('compute_driver', default='local',
               help='Compute driver: "local" (process groups on this '
                    'machine).'),
    cfg.StrOpt('volume_driver', default='local',
               help='Volume driver: "local" (loop-mounted files or '
                    'directories on this machine).'),
    cfg.StrOpt('image_driver', default='glance',
               help='Image driver. "glance" talks to the Image service '
                    'through python-glanceclient.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(driver_opts)


def list_opts() -> list:
    return [('DEFAULT', driver_opts)]
