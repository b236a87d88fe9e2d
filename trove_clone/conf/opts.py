"""Entry points for oslo-config-generator (``oslo.config.opts``)."""
import itertools

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

_MODULES = (api, backup, default, drivers, guest, modules, quota, rpc,
            database, glance, local, service_credentials, taskflow,
            taskmanager, upgrade_levels, swift, mongodb, guest_logs)


def list_opts() -> list:
    """Every option of trove_clone, grouped, for the sample generator."""
    grouped: dict = {}
    titles: dict = {}
    for module in _MODULES:
        for group, opts in module.list_opts():
            name = group.name if isinstance(group, cfg.OptGroup) else group
            titles.setdefault(name, group)
            grouped.setdefault(name, []).append(opts)
    return [(titles[name], list(itertools.chain(*chunks)))
            for name, chunks in grouped.items()]


def set_lib_defaults() -> None:
    """Our defaults for library options, shown in the sample."""
    database.register_opts(cfg.CONF)
