"""A stateful fake of the Nova and Cinder APIs on requests-mock, with the
recorded response shapes, so the contract suites run on the openstack
backend without a cloud."""
import copy
import json
import re
import uuid

from trove_clone.tests.unit.drivers import recorded as rec


def _error(context, code: int, name: str, message: str) -> dict:
    context.status_code = code
    return {name: {'code': code, 'message': message}}


class FakeNova:

    def __init__(self, http) -> None:
        self.servers: dict[str, dict] = {}
        base = re.escape(rec.NOVA)
        http.post(rec.NOVA + '/servers', json=self.create)
        http.get(re.compile(base + r'/servers/[^/?]+$'), json=self.show)
        http.delete(re.compile(base + r'/servers/[^/]+$'), json=self.delete)
        http.post(re.compile(base + r'/servers/[^/]+/action$'),
                  json=self.action)
        http.get(re.compile(base + r'/flavors/[^/]+$'), json=self.flavor)
        # Registered last: requests-mock tries the newest matcher first.
        http.get(re.compile(base + r'/servers/detail(\?.*)?$'),
                 json=self.list)

    @staticmethod
    def _id(request) -> str:
        return request.path.split('/servers/')[1].split('/')[0]

    def create(self, request, context):
        body = request.json()['server']
        server = copy.deepcopy(rec.SERVER)
        server.update(id=str(uuid.uuid4()), name=body['name'],
                      image={'id': body['imageRef'], 'links': []},
                      flavor={'id': body['flavorRef'], 'links': []},
                      status='ACTIVE', metadata=dict(body.get('metadata',
                                                              {})))
        server['os-extended-volumes:volumes_attached'] = []
        self.servers[server['id']] = server
        context.status_code = 202
        return {'server': {'id': server['id'], 'links': []}}

    def list(self, request, context):
        return {'servers': list(self.servers.values())}

    def show(self, request, context):
        server = self.servers.get(self._id(request))
        if server is None:
            return _error(context, 404, 'itemNotFound',
                          'Instance could not be found.')
        return {'server': server}

    def delete(self, request, context):
        if self.servers.pop(self._id(request), None) is None:
            return _error(context, 404, 'itemNotFound',
                          'Instance could not be found.')
        context.status_code = 204
        return None

    def action(self, request, context):
        server = self.servers.get(self._id(request))
        if server is None:
            return _error(context, 404, 'itemNotFound',
                          'Instance could not be found.')
        body = request.json()
        context.status_code = 202
        if 'rebuild' in body:
            server['image'] = {'id': body['rebuild']['imageRef'],
                               'links': []}
            return {'server': server}
        if 'resize' in body:
            server['flavor'] = {'id': body['resize']['flavorRef'],
                                'links': []}
            server['status'] = 'VERIFY_RESIZE'
        if 'confirmResize' in body:
            server['status'] = 'ACTIVE'
        return None

    def flavor(self, request, context):
        flavor_id = request.path.rsplit('/', 1)[1]
        for flavor in rec.FLAVORS:
            if flavor['id'] == flavor_id:
                return {'flavor': flavor}
        return _error(context, 404, 'itemNotFound', 'Flavor not found.')


class FakeCinder:

    def __init__(self, http) -> None:
        self.volumes: dict[str, dict] = {}
        base = re.escape(rec.CINDER)
        http.post(rec.CINDER + '/volumes', json=self.create)
        http.get(re.compile(base + r'/volumes/[^/?]+$'), json=self.show)
        http.delete(re.compile(base + r'/volumes/[^/]+$'), json=self.delete)
        http.post(re.compile(base + r'/volumes/[^/]+/action$'),
                  json=self.action)
        http.get(re.compile(base + r'/volumes/detail(\?.*)?$'),
                 json=self.list)

    @staticmethod
    def _id(request) -> str:
        return request.path.split('/volumes/')[1].split('/')[0]

    def create(self, request, context):
        body = request.json()['volume']
        volume = dict(copy.deepcopy(rec.VOLUME), id=str(uuid.uuid4()),
                      name=body['name'], size=body['size'],
                      status='available', attachments=[])
        self.volumes[volume['id']] = volume
        context.status_code = 202
        return {'volume': volume}

    def list(self, request, context):
        return {'volumes': list(self.volumes.values())}

    def show(self, request, context):
        volume = self.volumes.get(self._id(request))
        if volume is None:
            return _error(context, 404, 'itemNotFound',
                          'Volume could not be found.')
        return {'volume': volume}

    def delete(self, request, context):
        if self.volumes.pop(self._id(request), None) is None:
            return _error(context, 404, 'itemNotFound',
                          'Volume could not be found.')
        context.status_code = 202
        return None

    def action(self, request, context):
        volume = self.volumes[self._id(request)]
        body = json.loads(request.text)
        if 'os-extend' in body:
            volume['size'] = body['os-extend']['new_size']
        context.status_code = 202
        return None
