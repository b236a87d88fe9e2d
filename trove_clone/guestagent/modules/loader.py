"""Module drivers by type: stevedore entry points in :data:`NAMESPACE`.

Each entry point's name is a module type (lower case) and its object a
:class:`base.ModuleDriver` class, instantiated once per process.
"""
import functools

from oslo_log import log as logging
from stevedore import extension

from trove_clone.guestagent.modules import base

LOG = logging.getLogger(__name__)
NAMESPACE = 'trove_clone.guestagent.module.drivers'


def _load_failed(manager, entry_point, error: Exception) -> None:
    # A broken third-party driver must not take the shipped ones down.
    LOG.error('The module driver %s cannot be loaded: %s',
              entry_point.name, error)


@functools.lru_cache(maxsize=1)
def _drivers() -> dict[str, base.ModuleDriver]:
    manager = extension.ExtensionManager(
        NAMESPACE, invoke_on_load=True,
        on_load_failure_callback=_load_failed)
    return {ext.name: ext.obj for ext in manager.extensions}


def names() -> list[str]:
    """The module types this guest has a driver for, sorted."""
    return sorted(_drivers())


def driver(module_type: str) -> base.ModuleDriver | None:
    """The driver of ``module_type`` (case-insensitive), None when this
    guest has none."""
    return _drivers().get((module_type or '').lower())


def reset() -> None:
    """Forget the loaded drivers (tests add their own)."""
    _drivers.cache_clear()
