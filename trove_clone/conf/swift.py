"""Swift as the backup storage (group DEFAULT, Trove's names where Trove
has them): used by ``drivers.backup_storage.swift.options_from_conf``
when ``storage_strategy = swift``."""
from oslo_config import cfg

swift_opts = [
    cfg.StrOpt('swift_url',
               help="Swift's URL up to the account's reseller prefix "
                    '(http://swift.example.com:8080/v1/AUTH_): a '
                    "backup's account is this followed by its project "
                    "id. Unset: the catalog's object-store endpoint, its "
                    "account replaced by the project's."),
    cfg.StrOpt('swift_service_type', default='object-store',
               help='Service type of Swift in the catalog.'),
    cfg.StrOpt('swift_endpoint_type', default='public',
               choices=['public', 'internal', 'admin'],
               help='Interface of the Swift endpoint taken from the '
                    'catalog.'),
    cfg.StrOpt('swift_reseller_prefix', default='AUTH_',
               help="Prefix of Swift's account names (keystoneauth's "
                    'reseller_prefix).'),
    cfg.BoolOpt('swift_api_insecure', default=False,
                help="Do not verify Swift's TLS certificate."),
    cfg.IntOpt('backup_segment_max_size', default=2 * 1024 ** 3,
               min=1024 ** 2,
               help='Bytes of one segment of a backup in Swift (a '
                    'Static Large Object); at most the max_file_size of '
                    'the Swift cluster (5 GiB by default).'),
    cfg.StrOpt('backup_swift_auth', default='user',
               choices=[('user', "the request's token and the project's "
                                 'account, as Trove does; when a context '
                                 'has no token (a resumed flow) a token '
                                 'of the service user'),
                        ('service', 'a token of [service_credentials] '
                                    "for the project's account: that user "
                                    "needs Swift's reseller admin role")],
               help='Which token the guest agent stores backups with. '
                    'Guests get a token, never a password: it must outlive '
                    'the backup (Keystone [token] expiration).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(swift_opts)


def list_opts() -> list:
    return [('DEFAULT', swift_opts)]
