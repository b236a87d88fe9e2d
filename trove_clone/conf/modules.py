"""Modules (group DEFAULT): the types allowed (and those only an
administrator may use), the key their contents are stored under, and the
limits of a reapply."""
from oslo_config import cfg

module_opts = [
    cfg.ListOpt('module_types', default=['ping', 'sql'],
                help='Module types users may create. Each needs a guest '
                     'driver of that name in the entry-point namespace '
                     'trove_clone.guestagent.module.drivers (shipped: ping, '
                     'sql).'),
    cfg.ListOpt('admin_only_module_types', default=['sql'],
                help='Module types only an administrator may create, '
                     'update, apply or reapply: those whose contents run '
                     'as code or SQL on the guest (a sql module runs with '
                     "the engine's administrator rights). A member asking "
                     'for one gets 403. ping stays open to members.'),
    cfg.StrOpt('module_aes_cbc_key', secret=True,
               help="Secret the modules' contents are encrypted with in the "
                    'control database. Unset (the default): the key in '
                    'module_key_file is used, generated at random by the '
                    'first trove-manage db_sync. Set it, or copy that file, '
                    'so that every trove-api and trove-taskmanager host '
                    'uses the same key.'),
    cfg.StrOpt('module_key_file',
               help='File holding the generated module key (mode 0600). '
                    'Default: module.key beside the first --config-file.'),
    cfg.IntOpt('module_contents_max_size', default=1024 * 1024, min=1,
               help='Largest module contents accepted, in bytes as the '
                    'client sends them (the trove CLI sends files '
                    'base64-encoded).'),
    cfg.IntOpt('module_reapply_max_batch_size', default=50, min=1,
               help='Largest reapply batch a non-administrator may ask '
                    'for (and the default batch size).'),
    cfg.IntOpt('module_reapply_min_batch_delay', default=2, min=0,
               help='Shortest pause between reapply batches, in seconds, '
                    'a non-administrator may ask for (and the default).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(module_opts)


def list_opts() -> list:
    return [('DEFAULT', module_opts)]
