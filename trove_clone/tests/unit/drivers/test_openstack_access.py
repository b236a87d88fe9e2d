"""The openstack compute driver's update_access against a fake Neutron:
the server's ports get its own security group (only), whose ingress
rules are the database port from each allowed CIDR; a private instance
loses its floating IPs; a refusal is an error naming the call."""
import json
from unittest import mock

from trove_clone.common import exception
from trove_clone.drivers.compute import openstack
from trove_clone.tests.unit import base


class _Response:

    def __init__(self, status: int, body: dict | None) -> None:
        self.status_code = status
        self.content = json.dumps(body).encode() if body is not None \
            else b''
        self.text = self.content.decode()

    def json(self) -> dict:
        return json.loads(self.content)


class FakeNeutron:
    """Security groups, rules, ports and floating IPs in dicts."""

    def __init__(self) -> None:
        self.groups: dict = {'default': {'id': 'default',
                                         'name': 'default'}}
        self.rules: dict = {}
        self.ports = {'port-1': {'id': 'port-1', 'device_id': 'server-1',
                                 'security_groups': ['default']}}
        self.floating = {'fip-1': {'id': 'fip-1', 'port_id': 'port-1'}}
        self.refuse: set = set()
        self.made = 0

    def _id(self, kind: str) -> str:
        self.made += 1
        return '%s-%d' % (kind, self.made)

    @staticmethod
    def _query(path: str) -> tuple[str, dict]:
        resource, _, query = path[len('/v2.0/'):].partition('?')
        return resource, dict(item.split('=', 1)
                              for item in query.split('&') if item)

    def get(self, path, json=None, raise_exc=True):
        resource, query = self._query(path)
        table, key = {'security-groups': (self.groups, 'security_groups'),
                      'security-group-rules': (self.rules,
                                               'security_group_rules'),
                      'ports': (self.ports, 'ports'),
                      'floatingips': (self.floating,
                                      'floatingips')}[resource]
        rows = [row for row in table.values()
                if all(row.get(name) == value
                       for name, value in query.items())]
        return _Response(200, {key: rows})

    def post(self, path, json=None, raise_exc=True):
        resource, _query = self._query(path)
        if ('post', resource) in self.refuse:
            return _Response(409, {'NeutronError': {'message': 'quota'}})
        if resource == 'security-groups':
            group = dict(json['security_group'], id=self._id('sg'))
            self.groups[group['id']] = group
            return _Response(201, {'security_group': group})
        rule = dict(json['security_group_rule'], id=self._id('rule'))
        self.rules[rule['id']] = rule
        return _Response(201, {'security_group_rule': rule})

    def put(self, path, json=None, raise_exc=True):
        resource, _query = self._query(path)
        port_id = resource.split('/')[1]
        self.ports[port_id].update(json['port'])
        return _Response(200, {'port': self.ports[port_id]})

    def delete(self, path, json=None, raise_exc=True):
        resource, _query = self._query(path)
        kind, record_id = resource.split('/')
        {'security-group-rules': self.rules,
         'floatingips': self.floating}[kind].pop(record_id)
        return _Response(204, None)


class UpdateAccessTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.neutron = FakeNeutron()
        self.driver = openstack.NovaComputeDriver(client=mock.Mock(),
                                                  network=self.neutron)

    def ingress(self) -> set:
        return {(rule['security_group_id'], rule['ethertype'],
                 rule['remote_ip_prefix'], rule['port_range_min'])
                for rule in self.neutron.rules.values()
                if rule['direction'] == 'ingress'}

    def test_cidrs_become_the_ports_only_group(self) -> None:
        self.driver.update_access('server-1', False,
                                  ['10.0.0.0/8', '2001:db8::/32'], [3306])
        [group] = [group['id'] for group in self.neutron.groups.values()
                   if group['name'] == 'trove_sg-server-1']
        self.assertEqual({(group, 'IPv4', '10.0.0.0/8', 3306),
                          (group, 'IPv6', '2001:db8::/32', 3306)},
                         self.ingress())
        self.assertEqual([group],
                         self.neutron.ports['port-1']['security_groups'])
        # Private: the floating IP is gone.
        self.assertEqual({}, self.neutron.floating)
        # Again with no CIDRs: the same group, open to everyone.
        self.driver.update_access('server-1', True, [], [3306])
        self.assertEqual({(group, 'IPv4', '0.0.0.0/0', 3306),
                          (group, 'IPv6', '::/0', 3306)}, self.ingress())
        self.assertEqual(2, len(self.neutron.groups))

    def test_public_keeps_the_floating_ip(self) -> None:
        self.driver.update_access('server-1', True, ['10.0.0.0/8'], [5432])
        self.assertEqual(['fip-1'], list(self.neutron.floating))

    def test_a_refusal_names_the_call(self) -> None:
        self.neutron.refuse.add(('post', 'security-group-rules'))
        error = self.assertRaises(exception.TroveError,
                                  self.driver.update_access, 'server-1',
                                  False, ['10.0.0.0/8'], [3306])
        self.assertIn('Neutron refused POST security-group-rules: 409',
                      str(error))
