"""schemathesis against the live API, from api-ref's document, as a member.

Bounded: a fixed number of examples per route, loopback only. Checks that
no response is a 5xx, every response (errors included, in Trove's
envelope) matches the document, and status codes and content types are
the documented ones.
"""
import os
import re
import subprocess

import fixtures
import testtools
from testtools import content
import yaml

from trove_clone.api import openapi
from trove_clone.tests.functional import fixtures as trove_fixtures

PROJECT = 'fuzz-project'
EXAMPLES = int(os.environ.get('TROVE_CLONE_FUZZ_EXAMPLES', '10'))
CHECKS = ('not_a_server_error,status_code_conformance,'
          'content_type_conformance,response_schema_conformance')


class FuzzTest(testtools.TestCase):

    def document_for(self, project: str) -> str:
        """The reference with the tenant fixed to the caller's project."""
        document = openapi.build()
        for operations in document['paths'].values():
            for operation in operations.values():
                for parameter in operation['parameters']:
                    if parameter['name'] == 'tenant_id':
                        parameter['schema'] = {'type': 'string',
                                               'enum': [project]}
        path = self.useFixture(fixtures.TempDir()).join('openapi.yaml')
        with open(path, 'w') as target:
            yaml.safe_dump(document, target)
        return path

    def test_every_route_as_a_member(self) -> None:
        database = self.useFixture(trove_fixtures.ControlDatabase('sqlite'))
        api = self.useFixture(trove_fixtures.TroveApi(
            database.url, extra_conf='http_get_rate = -1\n'
                                     'http_post_rate = -1\n'
                                     'http_put_rate = -1\n'
                                     'http_delete_rate = -1\n'
                                     'http_mgmt_post_rate = -1'))
        result = subprocess.run(
            [os.path.join(trove_fixtures.BIN, 'schemathesis'), 'run',
             self.document_for(PROJECT), '--url', api.endpoint,
             '-H', 'X-User-Id: fuzzer', '-H', 'X-Project-Id: %s' % PROJECT,
             '-H', 'X-Roles: member', '--max-examples', str(EXAMPLES),
             '--seed', '20261122', '--checks', CHECKS, '--workers', '1',
             '--request-timeout', '10'],
            capture_output=True, text=True, timeout=900,
            cwd=self.useFixture(fixtures.TempDir()).path)
        self.addDetail('schemathesis', content.text_content(
            result.stdout[-6000:]))
        self.assertEqual(0, result.returncode, result.stdout[-6000:])
        generated = re.search(r'(\d+) generated', result.stdout)
        tested = re.search(r'Tested: (\d+)', result.stdout)
        self.assertIsNotNone(generated, result.stdout[-2000:])
        self.assertGreater(int(generated.group(1)), 500)
        self.assertEqual(len([1 for operations in openapi.build()[
            'paths'].values() for _ in operations]), int(tested.group(1)))
