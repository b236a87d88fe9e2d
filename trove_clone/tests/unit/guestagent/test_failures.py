"""Why an engine stopped: a full volume names itself and how to grow it;
any other stop gives the exit and the engine's last log lines; the agent
reaps an engine that exits on its own and reports it ``crashed``."""
import os
import signal
import subprocess
import time

import fixtures
import testtools

from trove_clone.common import statuses
from trove_clone.guestagent.capabilities import lifecycle
from trove_clone.guestagent import failures
from trove_clone.guestagent import manager
from trove_clone.tests.unit import base
from trove_clone.tests.unit.guestagent import test_manager

INSTANCE = '6f1c4a52-0c39-4d57-9c0e-4a8a8d2b1e01'
MARIADB_FULL = [
    '2026-12-07 11:25:06 0 [Note] /usr/sbin/mariadbd: ready for '
    'connections.',
    '2026-12-07 11:25:09 4 [ERROR] InnoDB: preallocating 147456 bytes for '
    'file ./d/t.ibd failed with error 28 [9 times]',
]


class DescribeTest(testtools.TestCase):

    def test_full_volume_says_so_and_how_to_grow_it(self) -> None:
        fault = failures.describe(INSTANCE, 'mariadb', -6, MARIADB_FULL,
                                  100.0, '/v/data/engine.log')
        self.assertTrue(fault['message'].startswith(
            statuses.ENGINE_FAULT_PREFIX))
        self.assertIn('data volume is full (no space left on device)',
                      fault['message'])
        self.assertIn('openstack database instance resize volume %s'
                      % INSTANCE, fault['message'])
        self.assertLessEqual(len(fault['message']), 255)
        details = fault['details']
        self.assertIn('was killed by signal 6 (SIGABRT)', details)
        self.assertIn('100% full', details)
        self.assertIn('trove resize-volume %s' % INSTANCE, details)
        self.assertIn('(/v/data/engine.log)', details)
        self.assertTrue(details.endswith(MARIADB_FULL[-1]))

    def test_nearly_full_volume_counts_when_the_log_says_no_space(self):
        lines = ['FATAL: could not write to file "pg_wal/xlogtemp.7": No '
                 'space left on device']
        self.assertTrue(failures.volume_is_full(85.0, lines))
        self.assertFalse(failures.volume_is_full(85.0, ['FATAL: other']))
        self.assertFalse(failures.volume_is_full(50.0, lines))
        self.assertTrue(failures.volume_is_full(96.0, []))
        self.assertFalse(failures.volume_is_full(None, lines))

    def test_other_stops_give_the_exit_and_the_log(self) -> None:
        fault = failures.describe(INSTANCE, 'redis', 1,
                                  ['# Fatal error loading the DB'], 12.0)
        self.assertEqual('The database stopped unexpectedly (exited with '
                         'status 1); see its log in the details.',
                         fault['message'])
        self.assertNotIn('resize', fault['details'])
        self.assertIn('Its data volume is 12% full.', fault['details'])
        self.assertTrue(fault['details'].endswith(
            '# Fatal error loading the DB'))
        empty = failures.describe(INSTANCE, 'redis', None, [], None)
        self.assertIn('did not start', empty['details'])
        self.assertIn('(the log is empty or cannot be read)',
                      empty['details'])

    def test_an_engine_running_on_a_full_volume(self) -> None:
        waiting = ['[Warning] mariadbd: Disk is full writing '
                   "'./mysql-bin.000001' (Errcode: 28 \"No space left on "
                   'device"). Waiting for someone to free space...']
        fault = failures.describe_full_volume(INSTANCE, 'mariadb', waiting,
                                              99.0)
        self.assertTrue(fault['message'].startswith(
            statuses.VOLUME_FULL_FAULT_PREFIX))
        self.assertIn('resize volume %s' % INSTANCE, fault['message'])
        self.assertIn('runs but its writes fail or wait', fault['details'])
        self.assertTrue(fault['details'].endswith(waiting[0]))
        self.assertIsNone(failures.describe_full_volume(
            INSTANCE, 'mariadb', ['all is well'], 99.0))
        self.assertIsNone(failures.describe_full_volume(
            INSTANCE, 'mariadb', waiting, 90.0))

    def test_exit_words(self) -> None:
        self.assertEqual('exited with status 0', failures.exit_words(0))
        self.assertEqual('was killed by signal 9 (SIGKILL)',
                         failures.exit_words(-signal.SIGKILL))
        self.assertEqual('was killed by signal 99 (an unknown signal)',
                         failures.exit_words(-99))


class ShellEngine(lifecycle.Lifecycle):
    """An engine that is a shell script: ``script`` is what it runs."""

    script = 'sleep 30'

    def prepare(self) -> None:
        self.start()

    def start(self) -> None:
        self._spawn(['/bin/sh', '-c', self.script], drop_privileges=False)

    def is_healthy(self) -> bool:
        return self.is_running()


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('timed out')
        time.sleep(0.02)


def process_state(pid: int) -> str | None:
    """The state letter of ``pid`` (Z: a zombie), None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as source:
            return source.read().rsplit(')', 1)[1].split()[0]
    except OSError:
        return None


class WatcherTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        self.engine = ShellEngine('/', '127.0.0.1',
                                  os.path.join(self.work, 'data'), {}, 512)
        os.makedirs(self.engine.data_dir)
        self.exits: list[int] = []
        self.engine.on_unexpected_exit = self.exits.append
        self.addCleanup(self.kill)

    def kill(self) -> None:
        if self.engine.is_running():
            self.engine.process.kill()
            self.engine.process.wait()

    def test_an_engine_that_dies_is_reaped_and_reported(self) -> None:
        self.engine.script = ('echo "write failed: No space left on device"'
                              ' >&2; kill -ABRT $$')
        self.engine.start()
        pid = self.engine.process.pid
        wait_until(lambda: self.exits)
        self.assertEqual([-signal.SIGABRT], self.exits)
        # Reaped: neither running nor a zombie.
        wait_until(lambda: process_state(pid) is None)
        self.assertEqual(['write failed: No space left on device'],
                         self.engine.engine_log_lines())

    def test_a_stopped_engine_is_not_reported(self) -> None:
        self.engine.start()
        pid = self.engine.process.pid
        self.engine.stop(timeout=10)
        time.sleep(0.2)
        self.assertEqual([], self.exits)
        self.assertIsNone(process_state(pid))

    def test_an_engine_that_does_not_stop_is_killed(self) -> None:
        self.engine.script = 'trap "" TERM; while :; do sleep 0.1; done'
        self.engine.start()
        pid = self.engine.process.pid
        time.sleep(0.2)
        self.engine.stop(timeout=0.5)
        self.assertEqual(-signal.SIGKILL, self.engine.process.returncode)
        self.assertIsNone(process_state(pid))
        time.sleep(0.2)
        self.assertEqual([], self.exits)

    def test_a_replaced_engine_process_is_not_reported(self) -> None:
        self.engine.start()
        old = self.engine.process
        self.engine.start()
        old.kill()
        old.wait()
        time.sleep(0.2)
        self.assertEqual([], self.exits)

    def test_log_lines_fold_repeats_and_keep_the_last(self) -> None:
        line = '2026-12-07 11:25:%02d 4 [ERROR] InnoDB: failed with error 28'
        with open(self.engine.log_path, 'w') as log:
            log.write('x' * 20000 + '\nstarting\n\n')
            for second in range(5):
                log.write(line % second + '\n')
            log.write('Status: NOT_KILLED\n')
        self.assertEqual(['starting', (line % 0) + ' [5 times]',
                          'Status: NOT_KILLED'],
                         self.engine.engine_log_lines())
        self.assertEqual(['Status: NOT_KILLED'],
                         self.engine.engine_log_lines(count=1))


class FakeEngine:
    log_path = '/v/data/engine.log'

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.on_unexpected_exit = None

    def engine_log_lines(self) -> list[str]:
        return self.lines

    def is_healthy(self) -> bool:
        return False


class AgentReportsCrashTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(guest_volume=self.useFixture(
            fixtures.TempDir()).path)
        self.agent = manager.Manager(INSTANCE)
        self.conductor = test_manager.RecordingConductor()
        self.agent._conductor = self.conductor
        self.agent.engine = FakeEngine(MARIADB_FULL)
        self.agent.manager_name = 'mariadb'
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.state.volume_used_percent',
            lambda: 99.5))
        self.useFixture(fixtures.FakeLogger())

    def test_a_serving_engine_that_exits_is_reported_crashed(self) -> None:
        self.agent.status = 'healthy'
        self.agent._engine_exited(-6)
        beat = self.conductor.beats[-1]
        self.assertEqual('crashed', beat['service_status'])
        self.assertIn('data volume is full', beat['engine_fault']['message'])
        self.assertEqual(beat['engine_fault']['message'], beat['error'])
        # Every heartbeat carries it until the engine runs again.
        manager.report(self.agent)
        self.assertEqual(beat['engine_fault'],
                         self.conductor.beats[-1]['engine_fault'])
        self.agent._set_status('healthy')
        self.assertNotIn('engine_fault', self.conductor.beats[-1])

    def test_a_healthy_engine_on_a_full_volume_reports_it(self) -> None:
        self.agent.status = 'healthy'
        self.agent.engine.is_healthy = lambda: True
        manager.report(self.agent)
        beat = self.conductor.beats[-1]
        self.assertEqual('healthy', beat['service_status'])
        self.assertTrue(beat['engine_fault']['message'].startswith(
            statuses.VOLUME_FULL_FAULT_PREFIX))
        # Nothing once the log has no word of a failed write.
        self.agent.engine.lines = ['ready for connections']
        manager.report(self.agent)
        self.assertNotIn('engine_fault', self.conductor.beats[-1])

    def test_an_engine_stopped_with_its_server_is_not_reported(self):
        self.agent.status = 'healthy'
        manager.shutting_down(self.agent)
        self.agent._engine_exited(0)
        self.assertEqual([], self.conductor.beats)
        self.assertEqual('healthy', self.agent.status)

    def test_an_engine_that_dies_while_starting_is_left_to_its_starter(
            self) -> None:
        self.agent.status = 'building'
        self.agent._engine_exited(1)
        self.assertEqual([], self.conductor.beats)

    def test_an_engine_that_does_not_start_at_boot_reports_why(self):
        engine = FakeEngine(['FATAL broken engine'])

        def start() -> None:
            raise lifecycle.EngineError('The engine did not start')
        engine.start = start
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.state.load',
            lambda: {'manager': 'redis'}))
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.loader.lifecycle',
            lambda manager_name: engine))
        manager.boot(self.agent)
        beat = self.conductor.beats[-1]
        self.assertEqual('shutdown', beat['service_status'])
        self.assertIn('did not start', beat['engine_fault']['details'])
        self.assertEqual(engine.on_unexpected_exit, self.agent._engine_exited)


class RealChildTest(testtools.TestCase):
    """subprocess itself: a child nobody waits for stays a zombie (what
    the watcher prevents)."""

    def test_unwaited_child_is_a_zombie(self) -> None:
        child = subprocess.Popen(['/bin/true'])
        self.addCleanup(child.wait)
        wait_until(lambda: process_state(child.pid) == 'Z')
