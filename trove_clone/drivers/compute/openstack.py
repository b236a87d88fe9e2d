"""Servers in Nova, through python-novaclient.

The guest's files (its configuration and key) travel as cloud-init user
data (``write_files``), and on a config drive when ``use_config_drive``;
the data volume is attached with a block device mapping.
"""
from __future__ import annotations

import time

import yaml
from novaclient import exceptions as nova_exc

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers.compute import base
from trove_clone.drivers import openstack_auth

_STATUS = {'ACTIVE': 'ACTIVE', 'BUILD': 'BUILD', 'REBUILD': 'BUILD',
           'SHUTOFF': 'SHUTOFF', 'ERROR': 'ERROR', 'REBOOT': 'BUILD',
           'HARD_REBOOT': 'BUILD', 'RESIZE': 'BUILD',
           'VERIFY_RESIZE': 'BUILD'}


def cloud_config(files: dict[str, str]) -> str:
    """A cloud-config document writing ``files`` into the server (used
    as user data unless the caller brings its own)."""
    document = {'write_files': [
        {'path': path, 'content': content, 'permissions': '0600'}
        for path, content in sorted(files.items())]}
    return '#cloud-config\n' + yaml.safe_dump(document)


#: The security group of an instance's server ports: a prefix and the
#: server's id (Trove: ``trove_sg-<instance id>``).
SECURITY_GROUP_PREFIX = 'trove_sg-'


class NovaComputeDriver(base.ComputeDriver):

    def __init__(self, client=None, network=None) -> None:
        self._client = client
        self._network = network

    @property
    def network(self):
        """Neutron's API: get/post/put/delete of paths under /v2.0."""
        if self._network is None:
            self._network = openstack_auth.network()
        return self._network

    @property
    def client(self):
        if self._client is None:
            self._client = openstack_auth.nova()
        return self._client

    def _server(self, server_id: str):
        try:
            return self.client.servers.get(server_id)
        except nova_exc.NotFound:
            raise exception.ServerNotFound(server=server_id)

    @staticmethod
    def _view(server) -> dict:
        addresses = []
        for network, entries in (server.addresses or {}).items():
            for entry in entries:
                if entry.get('version', 4) == 4:
                    addresses.append({
                        'address': entry['addr'], 'network': network,
                        'type': 'public' if entry.get(
                            'OS-EXT-IPS:type') == 'floating'
                        else 'private'})
        image = server.image.get('id') if isinstance(server.image,
                                                     dict) else None
        volumes = getattr(server, 'os-extended-volumes:volumes_attached',
                          [])
        return {'id': server.id, 'name': server.name,
                'status': _STATUS.get(server.status, 'ERROR'),
                'image_id': image, 'flavor_id': server.flavor.get('id'),
                'volume_id': volumes[0]['id'] if volumes else None,
                'addresses': addresses,
                'metadata': {key: value for key, value in (
                    getattr(server, 'metadata', None) or {}).items()
                    if key != 'trove_instance'},
                'created': server.created}

    def create(self, name: str, image_id: str, flavor_id: str,
               volume_id: str | None = None,
               files: dict[str, str] | None = None,
               user_data: str | None = None,
               metadata: dict[str, str] | None = None) -> dict:
        mapping = None
        if volume_id:
            mapping = [{'uuid': volume_id, 'source_type': 'volume',
                        'destination_type': 'volume', 'boot_index': -1,
                        'delete_on_termination': False}]
        try:
            server = self.client.servers.create(
                name, image_id, flavor_id,
                userdata=user_data or cloud_config(files or {}),
                config_drive=CONF.service_credentials.use_config_drive,
                block_device_mapping_v2=mapping, nics=self._nics(),
                meta=dict(metadata or {}, trove_instance='true'))
        except nova_exc.BadRequest as error:
            raise exception.BadRequest('Nova refused the server: %s'
                                       % error)
        except nova_exc.NotFound as error:
            raise exception.NotFound('Nova could not find the image, '
                                     'flavor or volume: %s' % error)
        # The create answer carries little more than the id.
        return self.get(server.id)

    @staticmethod
    def _nics():
        network = CONF.service_credentials.network_id
        return [{'net-id': network}] if network else 'auto'

    def get(self, server_id: str) -> dict:
        return self._view(self._server(server_id))

    def list(self) -> list[dict]:
        servers = self.client.servers.list(
            search_opts={'metadata': {'trove_instance': 'true'}})
        return sorted((self._view(s) for s in servers),
                      key=lambda server: server['created'])

    def reboot(self, server_id: str) -> dict:
        server = self._server(server_id)
        server.reboot()
        return self._view(self._server(server_id))

    def rebuild(self, server_id: str, image_id: str) -> dict:
        self.client.servers.rebuild(self._server(server_id), image_id)
        return self.get(server_id)

    def resize(self, server_id: str, flavor_id: str,
               timeout: float = 900.0) -> dict:
        server = self._server(server_id)
        server.resize(flavor_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self._server(server_id)
            if server.status == 'VERIFY_RESIZE':
                server.confirm_resize()
                return self.get(server_id)
            if server.status == 'ERROR':
                raise exception.TroveError(
                    'Nova could not resize server %s.' % server_id)
            time.sleep(2)
        raise exception.TroveError('Resizing server %s timed out.'
                                   % server_id)

    def delete(self, server_id: str) -> None:
        self._server(server_id).delete()

    # --- access: Neutron ports, security groups, floating IPs ---------------

    def _neutron(self, method: str, path: str, **body) -> dict:
        response = getattr(self.network, method)(
            '/v2.0/' + path, json=body or None, raise_exc=False)
        if response.status_code >= 400:
            raise exception.TroveError('Neutron refused %s %s: %s %s' % (
                method.upper(), path.split('?')[0], response.status_code,
                response.text[:300]))
        return response.json() if response.content else {}

    def _security_group(self, server_id: str) -> str:
        """The id of the server's own security group, made if missing."""
        name = SECURITY_GROUP_PREFIX + server_id
        groups = self._neutron('get', 'security-groups?name=%s'
                               % name)['security_groups']
        if groups:
            return groups[0]['id']
        return self._neutron('post', 'security-groups', security_group={
            'name': name, 'description': 'Database access of server %s'
            % server_id})['security_group']['id']

    def update_access(self, server_id: str, is_public: bool,
                      allowed_cidrs: list[str], ports: list[int]) -> None:
        """As Trove: the server's ports get a security group of their own
        (and no other; its egress stays open) whose ingress rules are the
        database ports from each CIDR (from anywhere without CIDRs); a
        port that must not be public loses its floating IPs. A floating
        IP is never made here: this backend has no public network option
        (doc/instance-access.md)."""
        self._server(server_id)
        group = self._security_group(server_id)
        rules = self._neutron('get', 'security-group-rules?security_group_'
                              'id=%s' % group)['security_group_rules']
        for rule in rules:
            if rule['direction'] == 'ingress':
                self._neutron('delete', 'security-group-rules/%s'
                              % rule['id'])
        for cidr in allowed_cidrs or ['0.0.0.0/0', '::/0']:
            for port in ports:
                self._neutron('post', 'security-group-rules',
                              security_group_rule={
                                  'security_group_id': group,
                                  'direction': 'ingress',
                                  'ethertype': 'IPv6' if ':' in cidr
                                  else 'IPv4',
                                  'protocol': 'tcp',
                                  'port_range_min': port,
                                  'port_range_max': port,
                                  'remote_ip_prefix': cidr})
        for port in self._neutron('get', 'ports?device_id=%s'
                                  % server_id)['ports']:
            # Its group only, as Trove's ports: another group (the
            # project's default) could let everyone in again.
            if port.get('security_groups') != [group]:
                self._neutron('put', 'ports/%s' % port['id'], port={
                    'security_groups': [group]})
            if not is_public:
                for floating in self._neutron(
                        'get', 'floatingips?port_id=%s'
                        % port['id'])['floatingips']:
                    self._neutron('delete', 'floatingips/%s'
                                  % floating['id'])
