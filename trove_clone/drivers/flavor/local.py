"""Flavors of the local backend: those of trove.conf ``[local] flavors``
and those created with ``trove-manage flavor_create`` (which win on the
same id)."""
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.drivers.flavor import base


def parse_flavor(text: str) -> dict:
    """Parse ``ID:NAME:RAM_MB:VCPUS:DISK_GB``; raises ValueError."""
    parts = text.strip().split(':')
    if len(parts) != 5:
        raise ValueError('flavor %r is not ID:NAME:RAM:VCPUS:DISK' % text)
    flavor_id, name, ram, vcpus, disk = parts
    return {'id': flavor_id, 'name': name, 'ram': int(ram),
            'vcpus': int(vcpus), 'disk': int(disk), 'ephemeral': 0}


def _sort_key(flavor: dict):
    flavor_id = flavor['id']
    return (0, int(flavor_id), '') if flavor_id.isdigit() else (1, 0,
                                                                flavor_id)


class LocalFlavorDriver(base.FlavorDriver):

    def list(self) -> list[dict]:
        flavors = {}
        for text in CONF.local.flavors:
            try:
                flavor = parse_flavor(text)
            except ValueError as error:
                raise exception.TroveError(
                    'Invalid [local] flavors entry: %s' % error)
            flavors[flavor['id']] = flavor
        for row in db_api.flavor_list(trove_context.admin_context()):
            flavors[row['id']] = {key: row[key] for key in (
                'id', 'name', 'ram', 'vcpus', 'disk', 'ephemeral')}
        return sorted(flavors.values(), key=_sort_key)
