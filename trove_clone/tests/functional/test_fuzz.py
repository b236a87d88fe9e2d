"""schemathesis against the live API, from api-ref's document, as a member,
and hand-made hostile requests on every control database.

Bounded: a fixed number of examples per route, loopback only. Checks that
no response is a 5xx, every response (errors included, in Trove's
envelope) matches the document, and status codes and content types are
the documented ones.
"""
import http.client
import json
import os
import re
import socket
import subprocess

import fixtures
import testtools
from testtools import content
import yaml

from trove_clone.api import openapi
from trove_clone.tests.functional import fixtures as trove_fixtures

PROJECT = 'fuzz-project'
EXAMPLES = int(os.environ.get('TROVE_CLONE_FUZZ_EXAMPLES', '10'))
#: This module's loopback addresses (127.77.215.0/28), one per backend.
FUZZ_HOSTS = {'sqlite': '127.77.215.5', 'mysql': '127.77.215.6',
              'postgresql': '127.77.215.7'}
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
        self.check_backend('sqlite')

    def test_every_route_as_a_member_on_mariadb(self) -> None:
        self.check_backend('mysql')

    def test_every_route_as_a_member_on_postgresql(self) -> None:
        self.check_backend('postgresql')

    def check_backend(self, backend: str) -> None:
        database = self.useFixture(trove_fixtures.ControlDatabase(backend))
        api = self.useFixture(trove_fixtures.TroveApi(
            database.url, host=FUZZ_HOSTS[backend],
            extra_conf='http_get_rate = -1\nhttp_post_rate = -1\n'
                       'http_put_rate = -1\nhttp_delete_rate = -1\n'
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


#: This test's own loopback addresses (127.77.215.0/28), one per backend.
HOSTILE_HOSTS = {'sqlite': '127.77.215.2', 'mysql': '127.77.215.3',
                 'postgresql': '127.77.215.4'}
DEEP = '[' * 5000 + ']' * 5000


class HostileInputTest(testtools.TestCase):
    """Requests that gave a 500 on every control database: invalid UTF-8
    in path and query, control characters, JSON nested 5,000 deep,
    values no column holds, a project id wider than its column, NUL in
    names, a malformed chunk size, a Content-Length that lies. Sent on
    raw sockets to a live trove-api; each must be a 400 (in Trove's
    envelope when the API answers, not the HTTP server) and the API must
    log no unhandled error."""

    def start(self, backend: str):
        database = self.useFixture(trove_fixtures.ControlDatabase(backend))
        return self.useFixture(trove_fixtures.TroveApi(
            database.url, host=HOSTILE_HOSTS[backend],
            extra_conf='http_get_rate = -1\nhttp_post_rate = -1\n'
                       'http_put_rate = -1\nhttp_delete_rate = -1\n'
                       'http_mgmt_post_rate = -1'))

    @staticmethod
    def exchange(api, head: str, body: bytes = b'',
                 close_after: bool = False) -> tuple[int, dict, bytes]:
        """Send ``head`` (request line and headers, without the blank
        line) and ``body`` as given; the status, headers and body."""
        with socket.create_connection((api.host, api.port), 30) as sock:
            sock.sendall(head.encode('latin-1') + b'\r\n\r\n' + body)
            if close_after:
                sock.shutdown(socket.SHUT_WR)
            response = http.client.HTTPResponse(sock)
            try:
                response.begin()
            except http.client.RemoteDisconnected:
                return 0, {}, b''
            return (response.status, dict(response.getheaders()),
                    response.read())

    def identity(self, admin: bool = False, project: str = PROJECT) -> str:
        return ('Host: %s\r\nX-User-Id: fuzzer\r\nX-Project-Id: %s\r\n'
                'X-Roles: %s\r\nConnection: close'
                % (HOSTILE_HOSTS['sqlite'], project,
                   'admin,member' if admin else 'member'))

    def cases(self) -> list[tuple[str, str, bytes, bool]]:
        """(what, head, body, close after sending) of each case."""
        who, admin = self.identity(), self.identity(admin=True)
        base = '/v1.0/%s' % PROJECT

        def post(path: str, raw: str, head: str = who,
                 method: str = 'POST') -> tuple:
            body = raw.encode('utf-8')
            return ('%s %s' % (method, path),
                    '%s %s%s HTTP/1.1\r\n%s\r\nContent-Type: '
                    'application/json\r\nContent-Length: %d'
                    % (method, base, path, head, len(body)), body, False)

        cases = []
        for path in ('/datastores/%ff', '/flavors/%c0%af',
                     '/instances/%ed%a0%80', '/instances?limit=%ff',
                     '/configurations?marker=%c0%af', '/datastores/a%00b',
                     '/instances?marker=%00', '/modules/%0a'):
            cases.append(('GET ' + path, 'GET %s%s HTTP/1.1\r\n%s'
                          % (base, path, who), b'', False))
        cases.append(('GET /%ff', 'GET /%%ff HTTP/1.1\r\n%s' % who, b'',
                      False))
        cases += [
            post('/instances', DEEP),
            post('/configurations', '{"configuration": %s}' % DEEP),
            post('/configurations', '{"configuration": {"name": "c", '
                 '"values": {"max_connections": NaN}}}'),
            post('/configurations', '{"configuration": {"name": "c", '
                 '"values": {"max_connections": Infinity}}}'),
            post('/configurations', '{"configuration": {"name": "c", '
                 '"values": {"max_connections": 1e400}}}'),
            post('/configurations', '{"configuration": {"name": "c", '
                 '"values": {"max_connections": %d}}}' % 2 ** 64),
            post('/configurations', '{"configuration": {"name": "c\\u0000",'
                 ' "values": {}}}'),
            post('/instances', '{"instance": {"name": "db\\u0000", '
                 '"flavorRef": "1", "volume": {"size": 1}}}'),
            post('/modules', '{"module": {"name": "m\\u0000", "module_type":'
                 ' "ping", "contents": "x"}}'),
            post('/instances', '{"instance": {"name": "%s", "flavorRef": '
                 '"1", "volume": {"size": 1}}}' % ('n' * 256)),
            post('/instances', '{"instance": {"name": "db\\n", "flavorRef": '
                 '"1", "volume": {"size": 1}}}'),
            post('/mgmt/quotas/%s' % ('p' * 65),
                 '{"quotas": {"instances": 3}}', head=admin, method='PUT'),
        ]
        long_project = 'p' * 65
        cases.append(('65-character project id',
                      'GET /v1.0/%s/flavors HTTP/1.1\r\n%s' % (
                          long_project,
                          self.identity(project=long_project)), b'', False))
        cases.append(('Content-Length that is not a number',
                      'POST %s/instances HTTP/1.1\r\n%s\r\nContent-Type: '
                      'application/json\r\nContent-Length: 12abc'
                      % (base, who), b'{}', False))
        cases.append(('Content-Length longer than the body',
                      'POST %s/instances HTTP/1.1\r\n%s\r\nContent-Type: '
                      'application/json\r\nContent-Length: 100'
                      % (base, who), b'{"instance": {}}', True))
        cases.append(('malformed chunk size',
                      'POST %s/instances HTTP/1.1\r\n%s\r\nContent-Type: '
                      'application/json\r\nTransfer-Encoding: chunked'
                      % (base, who), b'zz\r\n{}\r\n0\r\n\r\n', True))
        return cases

    def check_backend(self, backend: str) -> None:
        api = self.start(backend)
        failures = []
        for number, (what, head, body, close_after) in enumerate(
                self.cases()):
            what = 'case %d, %s' % (number, what)
            status, headers, answer = self.exchange(api, head, body,
                                                    close_after)
            if status == 0 and what.endswith('longer than the body'):
                # A server that reads whole bodies before calling the
                # application (waitress) just closes a connection whose
                # client stopped sending: no answer, but no 500 either.
                continue
            if status != 400:
                failures.append('%s: %d %r' % (what, status, answer[:200]))
                continue
            if 'json' in headers.get('Content-Type', ''):
                envelope = json.loads(answer)
                if list(envelope) != ['badRequest'] or \
                        envelope['badRequest']['code'] != 400:
                    failures.append('%s: not the envelope: %r'
                                    % (what, answer[:200]))
        status, _headers, _answer = self.exchange(
            api, 'GET /v1.0/%s/flavors HTTP/1.1\r\n%s'
            % (PROJECT, self.identity()))
        self.assertEqual(200, status)
        with open(api.log_path, errors='replace') as log:
            unhandled = [line for line in log if 'Unhandled error' in line]
        self.assertEqual([], failures, '\n'.join(failures))
        self.assertEqual([], unhandled)

    def test_sqlite(self) -> None:
        self.check_backend('sqlite')

    def test_mariadb(self) -> None:
        self.check_backend('mysql')

    def test_postgresql(self) -> None:
        self.check_backend('postgresql')
