"""Cloud drivers: compute, volume, image, flavor and backup storage.

Each kind defines a small interface in ``drivers/<kind>/base.py``; backends
are stevedore entry points in the ``trove_clone.drivers.<kind>`` namespace
and the configuration names the one to use.
"""
import functools

from stevedore import driver as stevedore_driver

from trove_clone.common import exception
from trove_clone.conf import CONF

_OPTION_BY_KIND = {
    'flavor': 'flavor_driver',
    'compute': 'compute_driver',
    'image': 'image_driver',
    'volume': 'volume_driver',
}


@functools.lru_cache(maxsize=None)
def _load(kind: str, name: str):
    try:
        manager = stevedore_driver.DriverManager(
            namespace='trove_clone.drivers.%s' % kind, name=name,
            invoke_on_load=True)
    except Exception as error:
        raise exception.TroveError(
            'Cannot load the %(kind)s driver %(name)s: %(error)s'
            % {'kind': kind, 'name': name, 'error': error})
    return manager.driver


def get(kind: str):
    """The configured driver instance of ``kind`` (one per process)."""
    return _load(kind, getattr(CONF, _OPTION_BY_KIND[kind]))


def reset() -> None:
    """Forget loaded drivers (tests change the configuration)."""
    _load.cache_clear()
