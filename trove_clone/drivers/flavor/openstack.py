"""Flavors from Nova."""
from novaclient import exceptions as nova_exc

from trove_clone.common import exception
from trove_clone.drivers.flavor import base
from trove_clone.drivers import openstack_auth


class NovaFlavorDriver(base.FlavorDriver):

    def __init__(self, client=None) -> None:
        self._client = client

    @property
    def client(self):
        if self._client is None:
            self._client = openstack_auth.nova()
        return self._client

    @staticmethod
    def _view(flavor) -> dict:
        return {'id': str(flavor.id), 'name': flavor.name, 'ram': flavor.ram,
                'vcpus': flavor.vcpus, 'disk': flavor.disk,
                'ephemeral': getattr(flavor, 'OS-FLV-EXT-DATA:ephemeral', 0)}

    def list(self) -> list[dict]:
        return sorted((self._view(f) for f in self.client.flavors.list()),
                      key=lambda flavor: flavor['id'])

    def get(self, flavor_id: str) -> dict:
        try:
            return self._view(self.client.flavors.get(flavor_id))
        except nova_exc.NotFound:
            raise exception.FlavorNotFound(uuid=flavor_id)
