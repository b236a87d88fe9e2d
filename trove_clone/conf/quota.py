"""Default quotas (group DEFAULT). -1 means unlimited."""
from oslo_config import cfg

quota_opts = [
    cfg.IntOpt('max_instances_per_tenant', default=10, min=-1,
               help='Default maximum number of instances per project.'),
    cfg.IntOpt('max_ram_per_tenant', default=-1, min=-1,
               help='Default maximum RAM, in MB, of all instances of a '
                    'project.'),
    cfg.IntOpt('max_volumes_per_tenant', default=40, min=-1,
               help='Default maximum volume space, in GB, per project.'),
    cfg.IntOpt('max_backups_per_tenant', default=50, min=-1,
               help='Default maximum number of backups per project.'),
    cfg.IntOpt('max_configurations_per_tenant', default=100, min=-1,
               help='Default maximum number of configuration groups per '
                    'project.'),
    cfg.IntOpt('max_modules_per_tenant', default=100, min=-1,
               help='Default maximum number of modules per project (those '
                    'of one project; modules for all projects are not '
                    'counted).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(quota_opts)


def list_opts() -> list:
    return [('DEFAULT', quota_opts)]
