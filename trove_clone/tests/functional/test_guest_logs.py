"""Guest logs (Trove's log API) through the real ``trove`` and
``openstack`` commands, with Keystone and Swift: a member's MariaDB
("mysql") and PostgreSQL instances, each with a configuration group that
sets the engine's slow-statement threshold; the member enables the slow
query log (MariaDB) and the general log (PostgreSQL), runs a slow
statement, publishes, reads it back with ``log-tail`` and ``log-save``
(which read Swift directly, as in Trove) and discards it; SYS logs are
the administrator's only.
"""
import json
import os
import subprocess
import time

import fixtures
import psycopg
import pymysql
from swiftclient import client as swift_client

from trove_clone.localstack import swift as swift_service
from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment
from trove_clone.tests.functional import test_modules

WAIT = 300
USER, PASSWORD = 'app', 'app-Password-1'
GROUPS = {'mysql': {'long_query_time': 1},
          'postgresql': {'log_min_duration_statement': 1000}}


class GuestLogsTest(deployment.DeploymentTestCase):
    address_pool = '127.77.176.0/28'
    datastores = ('mysql', 'postgresql')
    #: Whether the instances were seen ACTIVE (once for the class).
    active = False

    @classmethod
    def setUpClass(cls) -> None:
        cls.instances = {}
        cls.deployment = deployment.Deployment(
            cls.address_pool, datastores=cls.datastores, keystone=True,
            extra_conf='storage_strategy = swift')
        try:
            cls.deployment.setUp()
            cls.swift = cls.deployment.useFixture(
                swift_service.SwiftFixture(cls.deployment.keystone)).swift
            cls.member = cls.deployment.keystone.create_project_user(
                'project-l', 'lena', 'lena-pw')
            cls._create_instances()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _create_instances(cls) -> None:
        env = base.cli_env(cls.deployment.keystone.url, cls.member)
        for datastore in cls.datastores:
            group = json.loads(cls._cli(
                env, 'openstack', 'database', 'configuration', 'create',
                'logs-%s' % datastore, json.dumps(GROUPS[datastore]),
                '--datastore', datastore, '-f', 'json'))
            created = test_modules.properties(cls._cli(
                env, 'trove', 'create', 'logs-%s' % datastore, '1',
                '--size', '1', '--datastore', datastore,
                '--databases', 'appdb',
                '--users', '%s:%s' % (USER, PASSWORD),
                '--configuration', group['id']))
            cls.instances[datastore] = created['id']

    @staticmethod
    def _cli(env: dict, *argv: str) -> str:
        """As base.run_cli, outside a test (for setUpClass)."""
        result = subprocess.run(
            [os.path.join(base.BIN, argv[0])] + list(argv[1:]), env=env,
            capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise AssertionError('%s\n%s%s' % (' '.join(argv), result.stdout,
                                               result.stderr))
        return result.stdout

    @classmethod
    def tearDownClass(cls) -> None:
        for instance_id in cls.instances.values():
            try:
                cls.deployment.delete_and_wait(instance_id)
            except Exception:  # noqa: B902 - the cleanup goes on
                pass
        cls.deployment.cleanUp()

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        if not GuestLogsTest.active:
            for instance_id in self.instances.values():
                self.wait_active(instance_id)
            GuestLogsTest.active = True

    # --- helpers ------------------------------------------------------------

    def trove(self, *argv: str, user: dict | None = None,
              fails: bool = False) -> str:
        env = base.cli_env(self.deployment.keystone.url,
                           user or self.member)
        return base.run_cli(self, env, ('trove',) + argv,
                            expect_failure=fails, cwd=self.work)

    def admin(self) -> dict:
        return {'username': 'admin', 'project_name': 'admin',
                'password': self.deployment.keystone.admin_password}

    def wait_active(self, instance_id: str) -> dict:
        deadline = time.monotonic() + WAIT
        while True:
            shown = test_modules.properties(self.trove('show', instance_id))
            if shown['status'] in ('ACTIVE', 'HEALTHY'):
                return shown
            self.assertNotIn(shown['status'], ('ERROR', 'FAILED'), shown)
            self.assertLess(time.monotonic(), deadline, shown)
            time.sleep(0.5)

    def logs(self, instance_id: str, user: dict | None = None) -> dict:
        return {row['Name']: row for row in test_modules.table(
            self.trove('log-list', instance_id, user=user))}

    def address(self, instance_id: str) -> str:
        return self.deployment.client().instances.get(instance_id).ip[0]

    def member_objects(self, prefix: str) -> list:
        """The names under ``prefix`` in the member's database_logs."""
        keystone = self.deployment.keystone
        token = keystone.token(self.member['username'],
                               self.member['password'],
                               self.member['project_name'])
        url = self.swift.account_url(self.member['project_id'])
        try:
            _, listing = swift_client.get_container(
                url, token, 'database_logs', prefix=prefix)
        except swift_client.ClientException as error:
            if error.http_status == 404:
                return []
            raise
        return [entry['name'] for entry in listing]

    def publish_and_tail(self, instance_id: str, log: str,
                         expected: str) -> None:
        """Publish ``log`` until its tail shows ``expected`` (the engine
        may write the line a moment after the statement returns)."""
        deadline = time.monotonic() + 60
        while True:
            shown = test_modules.properties(
                self.trove('log-publish', instance_id, log))
            self.assertIn(shown['status'], ('Published', 'Partial'), shown)
            tail = self.trove('log-tail', instance_id, log, '--lines', '50')
            if expected in tail:
                return
            self.assertLess(time.monotonic(), deadline, tail)
            time.sleep(0.5)

    def check_save_and_discard(self, instance_id: str, log: str,
                               manager: str, expected: str) -> None:
        path = os.path.join(self.work, '%s.log' % log)
        self.trove('log-save', instance_id, log, '--file', path)
        with open(path) as saved:
            self.assertIn(expected, saved.read())
        prefix = '%s/%s-%s/' % (instance_id, manager, log)
        self.assertNotEqual([], self.member_objects(prefix))
        shown = test_modules.properties(
            self.trove('log-show', instance_id, log))
        self.assertEqual((prefix, 'database_logs'),
                         (shown['prefix'], shown['container']))
        shown = test_modules.properties(
            self.trove('log-discard', instance_id, log))
        self.assertEqual('0', shown['published'])
        self.assertEqual([], self.member_objects(prefix))
        self.assertEqual([], self.member_objects(prefix.rstrip('/')))
        # `trove log-disable` cannot work: the client passes
        # ``disable=args.discard``, an attribute its parser lacks.
        listed = base.run_cli(self, base.cli_env(
            self.deployment.keystone.url, self.member), (
            'openstack', 'database', 'log', 'set', instance_id, log,
            '--disable', '-f', 'json'))
        self.assertEqual('Disabled', json.loads(listed)['status'])

    # --- the tests ----------------------------------------------------------

    def test_mariadb_slow_query_log(self) -> None:
        instance_id = self.instances['mysql']
        logs = self.logs(instance_id)
        self.assertEqual(['general', 'slow_query'], sorted(logs))
        self.assertEqual(('USER', 'Disabled'), (logs['slow_query']['Type'],
                                                logs['slow_query']['Status']))
        shown = test_modules.properties(
            self.trove('log-enable', instance_id, 'slow_query'))
        # MariaDB writes a header to the file it opens: data to publish.
        self.assertIn(shown['status'], ('Enabled', 'Ready'))
        connection = pymysql.connect(
            host=self.address(instance_id), user=USER, password=PASSWORD,
            database='appdb', connect_timeout=10)
        with connection, connection.cursor() as cursor:
            cursor.execute('SELECT SLEEP(1.1) AS trove_log_check')
        self.publish_and_tail(instance_id, 'slow_query', 'trove_log_check')
        self.check_save_and_discard(instance_id, 'slow_query', 'mysql',
                                    'trove_log_check')
        # The OSC plugin reads the same API.
        listed = json.loads(base.run_cli(self, base.cli_env(
            self.deployment.keystone.url, self.member), (
            'openstack', 'database', 'log', 'list', instance_id,
            '-f', 'json')))
        self.assertEqual(['general', 'slow_query'],
                         sorted(row['Name'] for row in listed))

    def test_postgresql_general_log(self) -> None:
        instance_id = self.instances['postgresql']
        self.assertEqual(['general'], sorted(self.logs(instance_id)))
        self.trove('log-enable', instance_id, 'general')
        with psycopg.connect(host=self.address(instance_id), user=USER,
                             password=PASSWORD, dbname='appdb',
                             connect_timeout=10) as connection:
            connection.execute('SELECT pg_sleep(1.1), 1 AS trove_log_check')
        self.publish_and_tail(instance_id, 'general', 'trove_log_check')
        self.check_save_and_discard(instance_id, 'general', 'postgresql',
                                    'trove_log_check')

    def test_sys_logs_are_the_administrators(self) -> None:
        instance_id = self.instances['mysql']
        self.assertNotIn('error', self.logs(instance_id))
        # The trove CLI prints the API's message of a refused log action
        # (and exits 0); the OSC plugin fails with the HTTP status.
        for command in ('log-show', 'log-publish', 'log-discard'):
            self.assertIn("admin privileges to '%s' the 'error' log"
                          % command[4:],
                          self.trove(command, instance_id, 'error'))
        error = base.run_cli(self, base.cli_env(
            self.deployment.keystone.url, self.member), (
            'openstack', 'database', 'log', 'show', instance_id, 'error'),
            expect_failure=True)
        self.assertIn('HTTP 403', error)
        self.assertEqual([], self.member_objects(instance_id))
        admin_logs = self.logs(instance_id, user=self.admin())
        self.assertEqual(('SYS', {'general', 'slow_query', 'error'}),
                         (admin_logs['error']['Type'], set(admin_logs)))
        self.assertIn('Cannot enable a SYSTEM log',
                      self.trove('log-enable', instance_id, 'error',
                                 user=self.admin()))
        self.assertIn("Log 'nosuchlog' is not defined",
                      self.trove('log-show', instance_id, 'nosuchlog'))
