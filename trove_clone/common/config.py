"""Command-line and configuration-file handling shared by the services."""
import os

from oslo_config import cfg
from oslo_log import log as logging
import oslo_messaging

from trove_clone import conf as _conf  # noqa: F401  (registers options)

DEFAULT_CONFIG_FILE = '/etc/trove/trove.conf'
#: Names the configuration file to use when no --config-file is given (the
#: openrc of tools/trovestack sets it).
CONFIG_FILE_VARIABLE = 'OS_TROVE_CONFIG_FILE'
DEFAULT_TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
_DEFAULT_LOG_LEVELS = ['amqp=WARN', 'amqplib=WARN', 'kombu=WARN',
                       'oslo.messaging=INFO', 'stevedore=WARN',
                       'keystonemiddleware=INFO', 'urllib3=WARN',
                       'oslo_policy=INFO', 'glanceclient=WARN',
                       'waitress=WARN', 'alembic=WARN']

_logging_registered = False


def default_config_files() -> list[str]:
    """The file $OS_TROVE_CONFIG_FILE names, else the standard trove.conf
    when it exists (services also run without)."""
    if os.environ.get(CONFIG_FILE_VARIABLE):
        return [os.environ[CONFIG_FILE_VARIABLE]]
    return [DEFAULT_CONFIG_FILE] if os.path.exists(DEFAULT_CONFIG_FILE) \
        else []


def register_logging() -> None:
    global _logging_registered
    if not _logging_registered:
        logging.register_options(cfg.CONF)
        logging.set_defaults(default_log_levels=_DEFAULT_LOG_LEVELS)
        _logging_registered = True


def register_transport() -> None:
    """Register oslo.messaging's transport options with our defaults."""
    # Parsing a URL registers the transport options on the configuration.
    oslo_messaging.TransportURL.parse(cfg.CONF, DEFAULT_TRANSPORT_URL)
    oslo_messaging.set_transport_defaults(control_exchange='trove')
    cfg.CONF.set_default('transport_url', DEFAULT_TRANSPORT_URL)


def parse_args(argv: list[str], name: str = 'trove',
               setup_logging: bool = True) -> cfg.ConfigOpts:
    """Parse ``argv`` (without the program name) and set up oslo.log.

    ``--config-file`` defaults to /etc/trove/trove.conf when it exists.
    """
    register_logging()
    register_transport()
    cfg.CONF(argv, project='trove', prog=name,
             default_config_files=default_config_files())
    # Options whose bad values must stop the service now.
    _conf.mongodb.validate(cfg.CONF)
    if setup_logging:
        logging.setup(cfg.CONF, name)
    return cfg.CONF
