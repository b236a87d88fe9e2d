"""Names are unique because the control database says so: 50 parallel
creates of one module name, and of one configuration group name, against
the real trove-api on SQLite, MariaDB and PostgreSQL give exactly one 200
and 49 clear 400s (Trove's ModuleAlreadyExists code), and the database
holds one row. The quota is counted in the same statement: parallel
creates past ``max_modules_per_tenant`` stop at the limit."""
import base64
import concurrent.futures
import json
import urllib.error
import urllib.request

import sqlalchemy as sa
import testtools

from trove_clone.db import models
from trove_clone.tests.functional import fixtures as trove_fixtures

PARALLEL = 50
PROJECT = 'project-u'
NO_RATES = ('http_get_rate = -1\nhttp_post_rate = -1\nhttp_put_rate = -1\n'
            'http_delete_rate = -1\nhttp_mgmt_post_rate = -1\n'
            'max_modules_per_tenant = 60\n')


class _Uniqueness(testtools.TestCase):

    backend = 'sqlite'

    def setUp(self) -> None:
        super().setUp()
        database = self.useFixture(
            trove_fixtures.ControlDatabase(self.backend))
        self.engine = sa.create_engine(database.url)
        self.addCleanup(self.engine.dispose)
        self.api = self.useFixture(trove_fixtures.TroveApi(
            database.url, extra_conf=NO_RATES))

    def request(self, method: str, path: str, body: dict | None = None,
                project: str = PROJECT, admin: bool = False
                ) -> tuple[int, dict]:
        data = json.dumps(body).encode('utf-8') if body is not None \
            else None
        request = urllib.request.Request(
            '%s/v1.0/%s%s' % (self.api.endpoint, project, path), data=data,
            method=method, headers={
                'Content-Type': 'application/json', 'X-User-Id': 'u1',
                'X-Project-Id': project,
                'X-Roles': 'admin,member' if admin else 'member'})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                text = response.read()
                return response.status, json.loads(text) if text else {}
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b'{}')

    def in_parallel(self, method: str, path: str, bodies: list
                    ) -> list[tuple[int, dict]]:
        with concurrent.futures.ThreadPoolExecutor(len(bodies)) as pool:
            return list(pool.map(
                lambda body: self.request(method, path, body), bodies))

    def live_rows(self, table: str, name: str | None = None) -> int:
        query = 'SELECT count(*) FROM %s WHERE deleted = :no' % table
        params: dict = {'no': False}
        if name is not None:
            query += ' AND name = :name'
            params['name'] = name
        with self.engine.connect() as connection:
            return connection.execute(sa.text(query), params).scalar()

    def assertOneWins(self, results: list, kind: str, text: str) -> dict:
        """One 200 and 400s naming the rule; the winner's ``kind``."""
        codes = sorted(code for code, _body in results)
        self.assertEqual([200] + [400] * (PARALLEL - 1), codes,
                         [body for code, body in results if code != 400])
        for code, body in results:
            if code == 400:
                self.assertEqual(['badRequest'], list(body))
                self.assertIn(text, body['badRequest']['message'])
        return [body for code, body in results if code == 200][0][kind]

    def test_parallel_module_creates(self) -> None:
        contents = base64.b64encode(b'message=unique\n').decode('ascii')
        body = {'module': {'name': 'race', 'module_type': 'ping',
                           'contents': contents}}
        won = self.assertOneWins(
            self.in_parallel('POST', '/modules', [body] * PARALLEL),
            'module', "A module named 'race' of type 'ping' already exists")
        self.assertEqual(1, self.live_rows('modules', 'race'))
        # The name is free again once the module is deleted.
        self.assertEqual(200, self.request('DELETE', '/modules/%s'
                                           % won['id'])[0])
        self.assertEqual(200, self.request('POST', '/modules', body)[0])
        # Parallel creates of distinct names stop at the quota (60, one
        # in use): the count is taken in the insert's transaction.
        bodies = [{'module': dict(body['module'], name='m%02d' % number)}
                  for number in range(PARALLEL + 20)]
        results = self.in_parallel('POST', '/modules', bodies)
        codes = sorted(code for code, _body in results)
        self.assertEqual([200] * 59 + [413] * 11, codes)
        self.assertEqual(60, self.live_rows('modules'))
        status, limits = self.request('GET', '/limits')
        self.assertEqual((200, 60, 100), (
            status, limits['limits'][0]['max_modules'],
            limits['limits'][0]['max_configurations']))

    def add_mysql_version(self) -> None:
        """A mysql version with one configuration rule, written straight
        into the control database (no image service here)."""
        now = models.utcnow()
        with self.engine.begin() as connection:
            connection.execute(models.Datastore.__table__.insert().values(
                id='d1', name='mysql', default_version_id='v1'))
            connection.execute(
                models.DatastoreVersion.__table__.insert().values(
                    id='v1', datastore_id='d1', name='5.7.29',
                    version='5.7.29', manager='mysql', image_tags='trove',
                    active=True, created=now, updated=now))
            connection.execute(
                models.DatastoreConfigurationParameter.__table__.insert()
                .values(id='p1', datastore_version_id='v1',
                        name='max_connections', restart_required=False,
                        data_type='integer', min_size='1',
                        max_size='100000', created=now))

    def test_parallel_configuration_creates(self) -> None:
        self.add_mysql_version()
        body = {'configuration': {'name': 'race', 'values': {
            'max_connections': 200}, 'datastore': {'type': 'mysql'}}}
        self.assertOneWins(
            self.in_parallel('POST', '/configurations', [body] * PARALLEL),
            'configuration',
            "A configuration group named 'race' already exists")
        self.assertEqual(1, self.live_rows('configurations', 'race'))
        # Another tenant may use the name.
        self.assertEqual(200, self.request('POST', '/configurations', body,
                                           project='project-v')[0])


class SqliteUniquenessTest(_Uniqueness):
    backend = 'sqlite'


class MysqlUniquenessTest(_Uniqueness):
    backend = 'mysql'


class PostgresqlUniquenessTest(_Uniqueness):
    backend = 'postgresql'


del _Uniqueness
