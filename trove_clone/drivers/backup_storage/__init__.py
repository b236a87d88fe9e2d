"""Backup storage: where backup streams are kept (see ``base.py``).

:func:`load` builds the driver an options dict names; the drivers are
the stevedore entry points of :data:`NAMESPACE` in setup.cfg.
"""
from stevedore import driver as stevedore_driver

from trove_clone.common import exception
from trove_clone.drivers.backup_storage import base

#: The entry point namespace of the backup storage drivers.
NAMESPACE = 'trove_clone.drivers.backup_storage'


def load(options: dict) -> base.BackupStorage:
    """The storage driver ``options['driver']`` built from ``options``.

    :raises exception.BackupStorageError: the options name no driver, or
        one that is not installed, or the driver refuses the options
    """
    name = options.get('driver') if isinstance(options, dict) else None
    if not isinstance(name, str) or not name:
        raise exception.BackupStorageError(
            reason='the storage options name no driver')
    try:
        manager = stevedore_driver.DriverManager(
            NAMESPACE, name, invoke_on_load=True, invoke_args=(options,))
    except exception.TroveError:
        raise
    except (RuntimeError, ImportError) as error:
        raise exception.BackupStorageError(
            reason='no backup storage driver %r: %s' % (name, error))
    return manager.driver
