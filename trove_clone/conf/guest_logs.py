"""Guest logs (group DEFAULT, Trove's names): where published logs go in
the object store and how they are cut. Read by trove-api, which sends
them to the guest with each log request (the guest has no access to the
control host's configuration)."""
from oslo_config import cfg

guest_log_opts = [
    cfg.StrOpt('guest_log_container_name', default='database_logs',
               help="Container of the project's object store account the "
                    'guest logs are published to (made when missing).'),
    cfg.IntOpt('guest_log_limit', default=1000000, min=1024,
               help='Largest object (bytes) a published log is cut into: '
                    'a publish writes the new part of a log as objects of '
                    'at most this size, cut at line ends.'),
    cfg.IntOpt('guest_log_expiry', default=2592000, min=60,
               help='Seconds after which the object store deletes a '
                    'published log object (X-Delete-After).'),
    cfg.IntOpt('guest_log_long_query_time', default=3000, min=0,
               help='Milliseconds a statement must run to be written to '
                    'the slow query log (MariaDB) or the general log '
                    '(PostgreSQL) when the log is enabled and the '
                    "configuration group does not set the engine's own "
                    'parameter (long_query_time, '
                    'log_min_duration_statement).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(guest_log_opts)


def list_opts() -> list:
    return [('DEFAULT', guest_log_opts)]
