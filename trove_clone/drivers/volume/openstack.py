"""Volumes in Cinder (python-cinderclient), attached through Nova."""
from cinderclient import exceptions as cinder_exc

from trove_clone.common import exception
from trove_clone.drivers import openstack_auth
from trove_clone.drivers.volume import base

GB = 1024 ** 3


class CinderVolumeDriver(base.VolumeDriver):

    def __init__(self, client=None, nova=None) -> None:
        self._client = client
        self._nova = nova

    @property
    def client(self):
        if self._client is None:
            self._client = openstack_auth.cinder()
        return self._client

    @property
    def nova(self):
        if self._nova is None:
            self._nova = openstack_auth.nova()
        return self._nova

    def _volume(self, volume_id: str):
        try:
            return self.client.volumes.get(volume_id)
        except cinder_exc.NotFound:
            raise exception.VolumeNotFound(volume=volume_id)

    @staticmethod
    def _view(volume) -> dict:
        attachments = volume.attachments or []
        attached = attachments[0] if attachments else {}
        return {'id': volume.id, 'name': volume.name, 'size': volume.size,
                'status': volume.status,
                'attached_to': attached.get('server_id'),
                'mountpoint': attached.get('device')}

    def create(self, size: int, name: str) -> dict:
        if not isinstance(size, int) or size < 1:
            raise exception.BadRequest('A volume size must be a whole '
                                       'number of GB, at least 1.')
        try:
            return self._view(self.client.volumes.create(size, name=name))
        except cinder_exc.OverLimit as error:
            raise exception.VolumeLimitExceeded(
                'Cinder refused a %d GB volume: %s' % (size, error))

    def get(self, volume_id: str) -> dict:
        return self._view(self._volume(volume_id))

    def list(self) -> list[dict]:
        return [self._view(volume) for volume in self.client.volumes.list()]

    def attach(self, volume_id: str, server_id: str) -> dict:
        self.nova.volumes.create_server_volume(server_id, volume_id)
        return self.get(volume_id)

    def detach(self, volume_id: str) -> dict:
        volume = self.get(volume_id)
        if volume['attached_to']:
            self.nova.volumes.delete_server_volume(volume['attached_to'],
                                                   volume_id)
        return self.get(volume_id)

    def extend(self, volume_id: str, new_size: int) -> dict:
        volume = self._volume(volume_id)
        if not isinstance(new_size, int) or new_size <= volume.size:
            raise exception.BadRequest(
                'The new size of volume %s must be larger than %d GB.'
                % (volume_id, volume.size))
        self.client.volumes.extend(volume, new_size)
        return self.get(volume_id)

    def usage(self, volume_id: str) -> dict:
        # Cinder knows the size, not the filesystem: the guest reports use.
        return {'used': None, 'total': self._volume(volume_id).size * GB}

    def delete(self, volume_id: str) -> None:
        self.client.volumes.delete(self._volume(volume_id))
