"""With auth_strategy = noauth, the real openstack client works without a
Keystone through the admin_token plugin and a ``user:project`` token."""
import json
import os
import subprocess

import testtools

from trove_clone.tests.functional import fixtures as trove_fixtures


class NoAuthCliTest(testtools.TestCase):

    def openstack(self, endpoint: str, token: str, *argv: str) -> str:
        result = subprocess.run(
            [os.path.join(trove_fixtures.BIN, 'openstack'), '--os-auth-type',
             'admin_token', '--os-token', token, '--os-endpoint', endpoint]
            + list(argv), capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stderr)
        self.assertTrue(result.stdout, result.stderr)
        return result.stdout

    def test_admin_token_plugin(self) -> None:
        database = self.useFixture(trove_fixtures.ControlDatabase('sqlite'))
        api = self.useFixture(trove_fixtures.TroveApi(database.url))
        endpoint = '%s/v1.0/demo' % api.endpoint
        flavors = json.loads(self.openstack(
            endpoint, 'alice:demo', 'database', 'flavor', 'list', '-f',
            'json'))
        self.assertIn('m1.small', [flavor['Name'] for flavor in flavors])
        self.assertEqual([], json.loads(self.openstack(
            endpoint, 'alice:demo', 'datastore', 'list', '-f', 'json')))
        output = self.openstack(endpoint, 'admin:demo', 'database', 'limit',
                                'list', '-f', 'json')
        # The client prints the absolute limits as a table, then the rates.
        self.assertRegex(output, r'max_instances\s+\| 10 ')
        rates = json.loads(output[output.index('\n[') + 1:])
        self.assertIn({'Value': 200, 'Verb': 'POST', 'Remaining': 200,
                       'Unit': 'MINUTE'}, rates)
