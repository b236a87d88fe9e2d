"""Configuration options of trove_clone, one module per option group.

Importing this package registers every option on ``oslo_config.cfg.CONF``;
callers use ``from trove_clone.conf import CONF``.
"""
from oslo_config import cfg

from trove_clone.conf import api
from trove_clone.conf import backup
from trove_clone.conf import database
from trove_clone.conf import default
from trove_clone.conf import drivers
from trove_clone.conf import glance
from trove_clone.conf import guest
from trove_clone.conf import guest_logs
from trove_clone.conf import local
from trove_clone.conf import modules
from trove_clone.conf import mongodb
from trove_clone.conf import quota
from trove_clone.conf import rpc
from trove_clone.conf import service_credentials
from trove_clone.conf import swift
from trove_clone.conf import taskflow
from trove_clone.conf import taskmanager
from trove_clone.conf import upgrade_levels

CONF = cfg.CONF

for _module in (api, backup, database, default, drivers, glance, guest, local,
                modules, mongodb, quota, rpc, service_credentials, taskflow,
                taskmanager, upgrade_levels):
    _module.register_opts(CONF)
# Backups in Swift (next to [DEFAULT] storage_strategy).
swift.register_opts(CONF)
guest_logs.register_opts(CONF)
