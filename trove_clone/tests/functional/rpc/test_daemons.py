"""The RPC daemons connect to RabbitMQ, answer on their topics and stop
cleanly on SIGTERM."""
import os
import secrets
import signal
import statistics
import subprocess
import time

import fixtures
from oslo_config import fixture as config_fixture
import testtools
from testtools import content

from trove_clone.common import config
from trove_clone.common import context
from trove_clone.common import rpc
from trove_clone.conductor import rpcapi as conductor_rpcapi
from trove_clone.conf import CONF
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.taskmanager import rpcapi as taskmanager_rpcapi
from trove_clone.tests.functional import fixtures as trove_fixtures

TRANSPORT_URL = os.environ.get('TROVE_CLONE_TEST_TRANSPORT_URL',
                               'rabbit://guest:guest@127.0.0.1:5672/')


class DaemonsTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        CONF([], project='trove', default_config_files=[])
        self.state = self.useFixture(fixtures.TempDir()).path
        suffix = secrets.token_hex(4)
        self.settings = {
            'transport_url': TRANSPORT_URL,
            'taskmanager_queue': 'trove-taskmanager-test-%s' % suffix,
            'conductor_queue': 'trove-conductor-test-%s' % suffix,
            'guest_topic_prefix': 'guestagent-test-%s' % suffix,
        }
        self.settings_db = 'sqlite:///%s/trove.sqlite' % self.state
        conf = self.useFixture(config_fixture.Config(CONF))
        for name, value in self.settings.items():
            conf.config(**{name: value})
        # trove-manage db_sync generates the deployment's secret there; it
        # seals the messages to the taskmanager.
        conf.config(inst_rpc_key_file=os.path.join(self.state,
                                                   'instance-rpc.key'))
        self.addCleanup(rpc.cleanup)
        self.context = context.admin_context()

    def start(self, program: str, extra: str = ''):
        conf_path = os.path.join(self.state, program + '.conf')
        log_path = os.path.join(self.state, program + '.log')
        with open(conf_path, 'w') as conf_file:
            conf_file.write('[DEFAULT]\nlog_file = %s\n%s\n%s\n'
                            '[database]\nconnection = %s\n' % (
                                log_path, '\n'.join(
                                    '%s = %s' % item
                                    for item in self.settings.items()),
                                extra, self.settings_db))
        if program != 'trove-guestagent':
            subprocess.run([os.path.join(trove_fixtures.BIN, 'trove-manage'),
                            '--config-file', conf_path, 'db_sync'],
                           check=True, capture_output=True, timeout=120)
        process = subprocess.Popen(
            [os.path.join(trove_fixtures.BIN, program), '--config-file',
             conf_path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        self.addCleanup(trove_fixtures.stop_process, process)
        return process, log_path

    def stop_and_check(self, process, log_path: str, name: str) -> None:
        os.killpg(process.pid, signal.SIGTERM)
        self.assertEqual(0, process.wait(20))
        with open(log_path) as log:
            self.assertIn('%s stopped.' % name, log.read())

    def ping_until_up(self, api, deadline: float = 30.0) -> dict:
        give_up = time.monotonic() + deadline
        while True:
            try:
                return api.ping(self.context)
            except Exception:  # noqa: B902 - retried until the deadline
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.2)

    def test_taskmanager_and_conductor(self) -> None:
        for program, api_class, module in (
                ('trove-taskmanager', taskmanager_rpcapi.TaskManagerAPI,
                 taskmanager_rpcapi),
                ('trove-conductor', conductor_rpcapi.ConductorAPI,
                 conductor_rpcapi)):
            process, log_path = self.start(program)
            answer = self.ping_until_up(api_class(timeout=5))
            self.assertEqual(program, answer['service'])
            self.assertEqual(module.RPC_API_VERSION, answer['version'])
            self.stop_and_check(process, log_path, program)

    def test_guest_agent_serves_its_instance_topic(self) -> None:
        instance_id = 'c0ffee00-%s' % secrets.token_hex(4)
        process, log_path = self.start('trove-guestagent',
                                       'guest_id = %s' % instance_id)
        api = guest_rpcapi.GuestAPI(instance_id, timeout=5)
        answer = self.ping_until_up(api)
        self.assertEqual(instance_id, answer['instance_id'])
        self.assertEqual(guest_rpcapi.RPC_API_VERSION,
                         api.get_version(self.context))
        latencies = []
        for _ in range(50):
            started = time.perf_counter()
            api.ping(self.context)
            latencies.append(time.perf_counter() - started)
        self.addDetail('ping_median_ms', content.text_content(
            '%.2f' % (statistics.median(latencies) * 1000)))
        self.stop_and_check(process, log_path, 'trove-guestagent')

    def test_guest_agent_needs_its_instance_id(self) -> None:
        process, _log = self.start('trove-guestagent')
        self.assertEqual(1, process.wait(30))
        self.assertIn(b'needs guest_id', process.stderr.read())

    def test_conductor_heartbeat_cast(self) -> None:
        process, log_path = self.start('trove-conductor', 'debug = true')
        api = conductor_rpcapi.ConductorAPI(timeout=5)
        self.ping_until_up(api)
        api.heartbeat(self.context, 'instance-1', {'service_status':
                                                   'healthy'}, 12.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(log_path) as log:
                if 'Heartbeat of deleted instance instance-1 dropped' in \
                        log.read():
                    break
            time.sleep(0.2)
        else:
            self.fail('the conductor did not log the heartbeat')
        self.stop_and_check(process, log_path, 'trove-conductor')
