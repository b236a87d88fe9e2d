"""trove-api with auth_strategy = keystone against a real Keystone."""
import time

import requests

from trove_clone.tests.functional import base


class KeystoneAuthTest(base.DeploymentTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.tokens = {
            'alice': self.keystone.token('alice', 'alice-pw', 'project-a'),
            'bob': self.keystone.token('bob', 'bob-pw', 'project-b'),
            'admin': self.keystone.token(
                'admin', self.admin['password'], 'admin'),
        }
        self.admin_project = self.keystone.admin_client().projects.find(
            name='admin').id

    def call(self, method: str, who: str, project: str, path: str,
             token: str | None = None, **kwargs) -> requests.Response:
        headers = {'Accept': 'application/json'}
        token = token if token is not None else self.tokens[who]
        if token:
            headers['X-Auth-Token'] = token
        return requests.request(
            method, '%s/v1.0/%s%s' % (self.api.endpoint, project, path),
            headers=headers, timeout=30, **kwargs)

    def assertEnvelope(self, response, code: int, name: str) -> None:
        self.assertEqual(code, response.status_code, response.text)
        body = response.json()
        self.assertEqual([name], list(body))
        self.assertEqual(code, body[name]['code'])

    def test_members_see_only_their_project(self) -> None:
        a, b = self.alice['project_id'], self.bob['project_id']
        self.assertEqual(200, self.call('GET', 'alice', a,
                                        '/instances').status_code)
        self.assertEqual(200, self.call('GET', 'bob', b,
                                        '/instances').status_code)
        self.assertEnvelope(self.call('GET', 'alice', b, '/instances'), 403,
                            'forbidden')
        self.assertEnvelope(self.call('GET', 'bob', a, '/datastores'), 403,
                            'forbidden')
        own = self.call('GET', 'alice', a, '/mgmt/quotas/%s' % a)
        self.assertEqual(200, own.status_code, own.text)
        self.assertEnvelope(self.call('GET', 'alice', a,
                                      '/mgmt/quotas/%s' % b), 403,
                            'forbidden')
        self.assertEnvelope(self.call('PUT', 'alice', a,
                                      '/mgmt/quotas/%s' % a,
                                      json={'quotas': {'instances': 99}}),
                            403, 'forbidden')
        self.assertEnvelope(self.call('GET', 'alice', a,
                                      '/mgmt/datastore-versions'), 403,
                            'forbidden')

    def test_admin_acts_on_other_projects_by_id(self) -> None:
        b = self.bob['project_id']
        response = self.call('PUT', 'admin', self.admin_project,
                             '/mgmt/quotas/%s' % b,
                             json={'quotas': {'instances': 3}})
        self.assertEqual(200, response.status_code, response.text)
        quotas = self.call('GET', 'bob', b, '/mgmt/quotas/%s' % b).json()
        limits = {q['resource']: q['limit'] for q in quotas['quotas']}
        self.assertEqual(3, limits['instances'])
        self.assertEqual(3, self.call('GET', 'bob', b, '/limits').json()[
            'limits'][0]['max_instances'])
        # Even an admin must use its own project in the URL.
        self.assertEnvelope(self.call('GET', 'admin', b, '/instances'), 403,
                            'forbidden')
        listing = self.call('GET', 'admin', self.admin_project,
                            '/mgmt/instances?project_id=%s' % b)
        self.assertEqual(200, listing.status_code, listing.text)

    def test_invalid_missing_and_revoked_tokens_are_401(self) -> None:
        a = self.alice['project_id']
        self.assertEnvelope(self.call('GET', 'alice', a, '/flavors',
                                      token='not-a-token'), 401,
                            'unauthorized')
        self.assertEnvelope(self.call('GET', 'alice', a, '/flavors',
                                      token=''), 401, 'unauthorized')
        revoked = self.keystone.token('alice', 'alice-pw', 'project-a')
        self.assertEqual(200, self.call('GET', 'alice', a, '/flavors',
                                        token=revoked).status_code)
        self.keystone.admin_client().tokens.revoke_token(revoked)
        # The test API runs with token_cache_time = -1: no cached tokens.
        response = self.call('GET', 'alice', a, '/flavors', token=revoked)
        self.assertEnvelope(response, 401, 'unauthorized')

    def test_version_discovery_needs_no_token(self) -> None:
        response = requests.get(self.api.endpoint + '/', timeout=30)
        self.assertEqual('v1.0', response.json()['versions'][0]['id'])

    def test_legacy_cli_as_a_member(self) -> None:
        output = self.cli(self.alice, 'trove', 'flavor-list')
        self.assertIn('m1.small', output)
        output = self.cli(self.bob, 'trove', 'list')
        self.assertIn('ID', output)


class ExpiredTokenTest(base.DeploymentTestCase):
    """Keystone issuing tokens that live a few seconds."""

    # Long enough that a loaded CI machine validates the fresh token well
    # inside its life (12 s was not: the first request came back 401).
    token_expiration = 30

    def test_expired_token_is_401(self) -> None:
        project = self.alice['project_id']
        issued = time.monotonic()
        token = self.keystone.token('alice', 'alice-pw', 'project-a')
        url = '%s/v1.0/%s/flavors' % (self.api.endpoint, project)
        headers = {'X-Auth-Token': token, 'Accept': 'application/json'}
        response = requests.get(url, headers=headers, timeout=30)
        self.assertEqual(200, response.status_code,
                         'fresh token refused %.1f s after it was asked for'
                         % (time.monotonic() - issued))
        time.sleep(max(0.0, issued + self.token_expiration + 2
                       - time.monotonic()))
        response = requests.get(url, headers=headers, timeout=30)
        self.assertEqual(401, response.status_code, response.text)
        self.assertEqual(['unauthorized'], list(response.json()))
