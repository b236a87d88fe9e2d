"""Images from Glance, through python-glanceclient."""
import hashlib
import os

from glanceclient import client as glance_client
from glanceclient import exc as glance_exc

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers.image import base
from trove_clone.drivers import openstack_auth


class GlanceImageDriver(base.ImageDriver):
    """Talks to the configured Glance (``[glance] endpoint``)."""

    def __init__(self, client=None) -> None:
        self._client = client

    @property
    def client(self):
        if self._client is None:
            if CONF.glance.auth_type == 'keystone':
                # The openstack backend: the catalog gives the endpoint.
                self._client = glance_client.Client(
                    '2', session=openstack_auth.session(),
                    **openstack_auth.endpoint_options())
            else:
                self._client = glance_client.Client(
                    '2', endpoint=CONF.glance.endpoint, token='trove',
                    timeout=CONF.glance.timeout)
        return self._client

    def _call(self, what: str, func, *args, **kwargs):
        try:
            return func(*args, **kwargs)
        except glance_exc.HTTPNotFound:
            raise exception.ImageNotFound(uuid=what)
        except glance_exc.CommunicationError as error:
            raise exception.TroveError(
                'The image service at %s cannot be reached (%s).'
                % (CONF.glance.endpoint, type(error).__name__))

    def get(self, image_id: str) -> dict:
        image = self._call(image_id, self.client.images.get, image_id)
        return dict(image)

    def find_by_tags(self, tags: list[str]) -> dict:
        what = 'with tags %s' % ','.join(tags)
        images = self._call(what, lambda: list(self.client.images.list(
            filters={'tag': list(tags), 'status': 'active'},
            sort='created_at:desc', limit=1)))
        if not images:
            raise exception.ImageNotFound(uuid=what)
        return dict(images[0])

    def download(self, image_id: str, path: str) -> dict:
        image = self.get(image_id)
        digest = hashlib.md5(usedforsecurity=False)
        with open(path + '.part', 'wb') as target:
            for chunk in self._call(image_id, self.client.images.data,
                                    image_id):
                digest.update(chunk)
                target.write(chunk)
        if image.get('checksum') and digest.hexdigest() != image['checksum']:
            os.remove(path + '.part')
            raise exception.ImageCorrupt(uuid=image_id)
        os.replace(path + '.part', path)
        return image
