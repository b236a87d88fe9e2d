"""The guest agent's manager dispatching to real engines from real guest
images through the engine packages' descriptors: prepare with users, the
accounts, configuration groups (with the live value given back on
detach), a sql module, stop, and a new agent that starts the engine it
finds prepared on the volume."""
import json
import os
import subprocess
import sys
import tarfile
import time

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from trove_clone.common import context as trove_context
from trove_clone.common import engines
from trove_clone.conf import CONF
from trove_clone.guestagent import manager as guest_manager
from trove_clone.tests.functional.guestagent import test_lifecycle

#: This class's own loopback pool.
ADDRESS = '127.77.130.%d'


class RecordingConductor:
    """Keeps the heartbeats instead of sending them."""

    def __init__(self) -> None:
        self.beats: list[dict] = []

    def heartbeat(self, context, instance_id, payload, sent) -> None:
        self.beats.append(payload)


class _AgentTest:
    """The test of one engine (mixed into a TestCase per engine)."""

    datastore = ''
    version = ''
    manager = ''
    address = ''
    #: (name, value, as the engine shows it) of a dynamic parameter.
    dynamic: tuple = ()
    #: A sql module's contents and the number of units it runs.
    module = ''
    #: Whether the engine has named databases.
    databases = True

    def setUp(self) -> None:
        super().setUp()
        work = self.useFixture(fixtures.TempDir()).path
        os.chmod(work, 0o755)
        result = subprocess.run(
            [sys.executable, test_lifecycle.BUILDER, self.datastore,
             self.version, '--output', work], capture_output=True,
            text=True, timeout=900)
        self.assertEqual(0, result.returncode, result.stderr)
        root = os.path.join(work, 'root')
        with tarfile.open(result.stdout.split(':')[0]) as archive:
            archive.extractall(root, filter='tar')
        self.volume = os.path.join(work, 'volume')
        os.makedirs(self.volume)
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(guest_root=root, guest_volume=self.volume,
                    guest_address=self.address, guest_ram_mb=512)
        self.context = trove_context.admin_context()

    def agent(self) -> guest_manager.Manager:
        agent = guest_manager.Manager('agent-engines')
        agent._conductor = RecordingConductor()
        self.addCleanup(lambda: agent.engine and agent.engine.stop())
        return agent

    def wait(self, agent: guest_manager.Manager, timeout: float = 300):
        deadline = time.monotonic() + timeout
        while agent.status == 'building':
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertEqual('healthy', agent.status, agent.error)

    def test_dispatch_to_the_engine_package(self) -> None:
        agent = self.agent()
        databases = [{'name': 'appdb'}] if self.databases else []
        agent.prepare(self.context, self.manager, databases=databases,
                      users=[{'name': 'app', 'password': 'app-password',
                              'databases': databases}])
        self.wait(agent)
        descriptor = engines.managers()[self.manager]
        self.assertEqual(descriptor.port, agent.engine.port)
        self.assertEqual(['app'], [user['name'] for user in
                                   agent.list_users(self.context)])
        if self.databases:
            self.assertEqual(['appdb'], [database['name'] for database in
                                         agent.list_databases(self.context)])

        name, value, shown = self.dynamic
        overrides = agent._capability('overrides')
        before = overrides.current([name])[name]
        self.assertNotEqual(shown, before)
        self.assertIn(name, agent.get_configuration(self.context))
        self.assertEqual([name], agent.update_overrides(
            self.context, {name: value}, [name]))
        self.assertEqual(shown, overrides.current([name])[name])
        self.assertEqual([name], agent.update_overrides(self.context, {},
                                                        [name]))
        self.assertEqual(before, overrides.current([name])[name])
        with open(os.path.join(self.volume, 'trove-overrides.json')) as state:
            self.assertEqual({}, json.load(state)['values'])

        [result] = agent.module_apply(self.context, [{
            'id': 'module-1', 'name': 'm', 'type': 'sql',
            'contents': self.module, 'md5': 'x', 'is_admin': False}])
        self.assertEqual('OK', result['status'], result['message'])

        agent.stop_db(self.context)
        self.assertFalse(agent.engine.is_running())
        again = self.agent()
        guest_manager.boot(again)
        self.assertEqual('healthy', again.status, again.error)
        self.assertEqual(self.manager, again.manager_name)
        self.assertEqual(['app'], [user['name'] for user in
                                   again.list_users(self.context)])


class RedisAgentTest(_AgentTest, testtools.TestCase):

    datastore = manager = 'redis'
    version = '7.0'
    address = ADDRESS % 1
    dynamic = ('maxmemory-policy', 'allkeys-lru', 'allkeys-lru')
    module = 'SET greeting "hello world"\n'
    databases = False


class PostgresqlAgentTest(_AgentTest, testtools.TestCase):

    datastore = manager = 'postgresql'
    version = '16'
    address = ADDRESS % 2
    dynamic = ('work_mem', '8MB', '8MB')
    module = '-- trove: database appdb\nCREATE TABLE audit (v int);\n'


class MysqlAgentTest(_AgentTest, testtools.TestCase):

    datastore = 'mysql'
    manager = 'mysql'
    version = '10.11'
    address = ADDRESS % 3
    dynamic = ('max_connections', 151, '151')
    module = 'CREATE TABLE appdb.audit (v int);\n'
