"""The engines of this guest: descriptors resolved to their classes.

The engine packages are found through the entry points of
:data:`trove_clone.common.engines.NAMESPACE`; a descriptor names its
capability classes as ``module:Class``, resolved here (and only in the
guest agent: the services read descriptors, never the classes). A manager
no engine serves, or a capability its engine lacks, raises Trove's
not-supported error from :func:`trove_clone.common.engines.require`.
"""
import functools
import os
import pkgutil

from oslo_log import log as logging

from trove_clone.common import engines
from trove_clone.conf import CONF
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base

LOG = logging.getLogger(__name__)


def manifest() -> dict:
    """The image manifest of this server."""
    return lifecycle_base.read_manifest(CONF.guest_root)


def volume_dir() -> str:
    """Where this server's data volume is mounted."""
    return CONF.guest_volume or os.path.join(CONF.guest_root, 'var', 'lib',
                                             'trove')


@functools.lru_cache(maxsize=None)
def _resolve(name: str) -> type:
    return pkgutil.resolve_name(name)


def implementation(descriptor: engines.Descriptor, capability: str) -> type:
    """The class implementing ``capability`` in the engine of
    ``descriptor``; DatastoreOperationNotSupported when it has none."""
    if not descriptor.supports(capability):
        raise engines.not_supported(capability, descriptor.name)
    return _resolve(descriptor.capabilities[capability])


def capability_class(manager: str, capability: str) -> type:
    """The class implementing ``capability`` for ``manager``.

    :raises exception.DatastoreOperationNotSupported: no engine serves
        ``manager`` or it does not implement ``capability``
    """
    return implementation(engines.require(manager, capability), capability)


def capability(name: str, manager: str, engine: lifecycle_base.Lifecycle):
    """The ``name`` capability of ``manager`` on its ``engine`` (the
    lifecycle of this server's engine); DatastoreOperationNotSupported
    when it has none."""
    return capability_class(manager, name)(engine)


def lifecycle(manager: str) -> lifecycle_base.Lifecycle:
    """The lifecycle of ``manager`` for this server's engine and volume;
    DatastoreOperationNotSupported for a manager no engine serves."""
    return capability_class(manager, 'lifecycle')(
        CONF.guest_root, CONF.guest_address,
        os.path.join(volume_dir(), 'data'), manifest()['programs'],
        CONF.guest_ram_mb, os_user=CONF.guest_engine_user or None)


def descriptor_of(engine: lifecycle_base.Lifecycle
                  ) -> engines.Descriptor | None:
    """The descriptor of the engine whose lifecycle ``engine`` is (its
    class, else a base of it), None when no engine has it."""
    kinds = []
    for name, descriptor in sorted(engines.descriptors().items()):
        try:
            kinds.append((implementation(descriptor, 'lifecycle'),
                          descriptor))
        except (ImportError, AttributeError, ValueError) as error:
            LOG.error('The lifecycle of the engine %s cannot be loaded: %s',
                      name, error)
    for kind, descriptor in kinds:
        if type(engine) is kind:
            return descriptor
    for kind, descriptor in kinds:
        if isinstance(engine, kind):
            return descriptor
    return None
