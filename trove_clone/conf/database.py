"""Control database options (group database, registered by oslo.db)."""
from oslo_config import cfg
from oslo_db import options as db_options

DEFAULT_CONNECTION = 'sqlite:////var/lib/trove/trove.sqlite'


def register_opts(conf: cfg.ConfigOpts) -> None:
    db_options.set_defaults(conf, connection=DEFAULT_CONNECTION)


def list_opts() -> list:
    return [('database', db_options.database_opts)]
