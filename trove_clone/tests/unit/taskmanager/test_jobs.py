"""Flows are saved before they run and resumed after a stop; with a
jobboard, a claim whose owner stopped renewing it is taken over, and a
claim being renewed is not."""
import contextlib
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

import fixtures
from taskflow import engines
from taskflow import exceptions as tf_exceptions
from taskflow.persistence import models
from taskflow.patterns import linear_flow
from taskflow import task

from trove_clone.taskmanager import jobs
from trove_clone.tests.unit import base

#: Which tasks ran, in this process, by flow subject.
RAN: dict = {}
GATE = threading.Event()


class Record(task.Task):

    def execute(self, subject):
        RAN.setdefault(subject, []).append(self.name)
        if self.name == 'slow':
            GATE.wait(30)


def sample_flow(slow: bool = False) -> linear_flow.Flow:
    return linear_flow.Flow('sample').add(
        Record('one'), Record('slow' if slow else 'two'), Record('three'))


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError('not within %s s' % timeout)
        time.sleep(0.05)


class SavedFlowTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        RAN.clear()
        self.logger = self.useFixture(fixtures.FakeLogger(
            name='trove_clone.taskmanager.jobs', level='INFO'))

    def test_a_suspended_flow_resumes_after_its_last_completed_task(self):
        _book, detail = jobs.save(sample_flow, 'i-1', {'subject': 'i-1'})
        engine = engines.load_from_detail(
            detail, store={'subject': 'i-1'}, backend=jobs.persistence(),
            engine='serial')
        # The taskmanager stops after the first task.
        for _state in engine.run_iter():
            if RAN.get('i-1') == ['one']:
                engine.suspend()
        self.assertEqual(['one'], RAN['i-1'])
        self.assertEqual([detail.uuid],
                         [d.uuid for d in jobs.unfinished()])
        self.assertEqual({'i-1'}, jobs.unfinished_subjects())
        self.assertEqual([detail.uuid], jobs.resume_unfinished())
        wait_for(lambda: RAN['i-1'] == ['one', 'two', 'three'])
        wait_for(lambda: not jobs.unfinished())
        self.assertIn('Resuming flow sample (%s) of instance - after one'
                      % detail.uuid, self.logger.output)

    def test_a_flow_stopped_in_its_first_task_is_resumed_too(self):
        """A taskmanager killed in a flow's first task leaves it RUNNING
        with nothing completed: the one that takes it up says so."""
        _book, detail = jobs.save(sample_flow, 'i-6', {'subject': 'i-6'})
        detail.state = 'RUNNING'
        jobs.run(detail, True)
        self.assertEqual(['one', 'two', 'three'], RAN['i-6'])
        self.assertIn('Resuming flow sample (%s) of instance - after no '
                      'completed task' % detail.uuid, self.logger.output)

    def test_a_new_flow_is_not_resumed(self) -> None:
        jobs.run_now(sample_flow, 'i-7', {'subject': 'i-7'})
        self.assertEqual(['one', 'two', 'three'], RAN['i-7'])
        self.assertNotIn('Resuming', self.logger.output)

    def test_a_flow_is_saved_with_its_factory_in_one_write(self) -> None:
        """A taskmanager killed right after the save leaves a flow that
        can be rebuilt: the factory is in the first (only) write."""
        writes = []
        real = jobs._RetryingConnection.__getattr__
        # Only this thread's: flows of earlier tests may still be
        # finishing in the executors' threads of this process.
        this_thread = threading.get_ident()

        def spy(connection, name):
            if name in ('save_logbook', 'update_flow_details') and \
                    threading.get_ident() == this_thread:
                writes.append(name)
            return real(connection, name)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.jobs._RetryingConnection.__getattr__',
            spy))
        _book, detail = jobs.save(sample_flow, 'i-9', {'subject': 'i-9'})
        self.assertEqual(['save_logbook'], writes)
        saved = [d for d in jobs.unfinished() if d.uuid == detail.uuid][0]
        self.assertIn('factory', saved.meta)
        jobs.run(saved, True)
        self.assertEqual(['one', 'two', 'three'], RAN['i-9'])

    def test_a_flow_killed_while_its_storage_was_set_up_runs(self):
        """Killed while taskflow set the flow's storage up: its injector
        is saved without results; the flow is resumed all the same."""
        _book, detail = jobs.save(sample_flow, 'i-10', {'subject': 'i-10'})
        detail.add(models.TaskDetail('_TaskFlow_INJECTOR', 'injector-10'))
        with contextlib.closing(jobs.persistence().get_connection()) as c:
            c.update_flow_details(detail)
        saved = [d for d in jobs.unfinished() if d.uuid == detail.uuid][0]
        jobs.run(saved, True)
        self.assertEqual(['one', 'two', 'three'], RAN['i-10'])

    def test_a_locked_database_is_waited_for(self) -> None:
        calls = []

        def save(value):
            calls.append(value)
            if len(calls) < 3:
                raise tf_exceptions.StorageFailure(
                    'Failed saving logbook',
                    sqlite3.OperationalError('database is locked'))
            return value
        self.assertEqual('book', jobs._retrying(save)('book'))
        self.assertEqual(3, len(calls))

        def broken(value):
            raise tf_exceptions.StorageFailure('Failed', ValueError('no'))
        self.assertRaises(tf_exceptions.StorageFailure,
                          jobs._retrying(broken), 'book')

    def test_finished_flows_are_forgotten(self) -> None:
        jobs.run_now(sample_flow, 'i-2', {'subject': 'i-2'})
        self.assertEqual(0, jobs.forget_finished(3600))
        time.sleep(0.5)
        self.assertEqual(1, jobs.forget_finished(0.2))
        self.assertEqual(0, jobs.forget_finished(0))

    def test_the_stored_context_has_no_token(self) -> None:
        from trove_clone.common import context as trove_context
        context = trove_context.TroveContext(user_id='u', project_id='p',
                                             auth_token='secret')
        stored = jobs.stored_context(context)
        self.assertNotIn('secret', repr(stored))
        self.assertEqual('u', trove_context.TroveContext.from_dict(
            stored).user_id)


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


class JobboardTest(base.TestCase):
    """With a real Redis of the test's own (password, loopback)."""

    def setUp(self) -> None:
        super().setUp()
        server = shutil.which('redis-server')
        if server is None:
            self.skipTest('redis-server is not installed '
                          '(tools/install-services installs it)')
        RAN.clear()
        GATE.clear()
        self.addCleanup(GATE.set)
        port = _free_port()
        password = secrets.token_hex(16)
        workdir = tempfile.mkdtemp()
        self.redis = subprocess.Popen(
            [server, '--port', str(port), '--bind', '127.0.0.1',
             '--requirepass', password, '--save', '', '--appendonly', 'no',
             '--dir', workdir], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        self.addCleanup(self._stop_redis)
        wait_for(lambda: self._answers(port), 10)
        self.conf.config(jobboard_backend='redis', jobboard_redis_port=port,
                         jobboard_redis_password=password, claim_lease=3,
                         jobboard_poll_interval=0.05,
                         jobboard_namespace='test-%s' % secrets.token_hex(4),
                         group='taskflow')
        self.logger = self.useFixture(fixtures.FakeLogger(
            name='trove_clone.taskmanager.jobs', level='INFO'))

    def _stop_redis(self) -> None:
        self.redis.kill()
        self.redis.wait(10)

    @staticmethod
    def _answers(port: int) -> bool:
        try:
            with socket.create_connection(('127.0.0.1', port), 1):
                return True
        except OSError:
            return False

    def board(self):
        from taskflow.jobs import backends
        board = backends.fetch('test', jobs.board_conf(),
                               persistence=jobs.persistence())
        board.connect()
        self.addCleanup(board.close)
        return board

    def start(self) -> None:
        jobs.start()
        self.addCleanup(jobs.stop)

    def test_a_posted_flow_runs_once(self) -> None:
        self.start()
        jobs.submit(sample_flow, 'i-3', {'subject': 'i-3'})
        wait_for(lambda: RAN.get('i-3') == ['one', 'two', 'three'])
        wait_for(lambda: not list(self.board().iterjobs()))
        self.assertEqual(['one', 'two', 'three'], RAN['i-3'])

    def test_a_lapsed_claim_is_taken_over_and_resumed(self) -> None:
        book, detail = jobs.save(sample_flow, 'i-4', {'subject': 'i-4'})
        # Another taskmanager ran the first task, then died: its claim
        # lapses after one second.
        engine = engines.load_from_detail(
            detail, store={'subject': 'i-4'}, backend=jobs.persistence(),
            engine='serial')
        for _state in engine.run_iter():
            if RAN.get('i-4') == ['one']:
                engine.suspend()
        board = self.board()
        job = board.post(detail.name, book=book,
                         details={'flow_uuid': detail.uuid})
        board.claim(job, 'dead-taskmanager', expiry=1)
        self.start()
        wait_for(lambda: RAN.get('i-4') == ['one', 'two', 'three'])
        self.assertIn('after one', self.logger.output)

    def test_a_renewed_claim_is_not_taken(self) -> None:
        from taskflow import exceptions
        self.start()
        jobs.submit(sample_flow, 'i-5', {'subject': 'i-5'},
                    {'slow': True})
        wait_for(lambda: RAN.get('i-5') == ['one', 'slow'])
        board = self.board()
        # Well past the lease of 3 s: the running conductor renews it.
        time.sleep(5)
        for job in board.iterjobs():
            self.assertEqual(jobs.owner_name(), board.find_owner(job))
            self.assertRaises(exceptions.UnclaimableJob, board.claim, job,
                              'another-taskmanager')
        GATE.set()
        wait_for(lambda: RAN['i-5'] == ['one', 'slow', 'three'])


class SqliteLockTest(base.TestCase):
    """A flow is saved while another connection writes to the SQLite
    control database: it waits for the write lock instead of failing with
    "database is locked" (which left a create in BUILD)."""

    def test_save_waits_for_another_writer(self) -> None:
        url = jobs.CONF.database.connection
        path = url.split('sqlite:///', 1)[1]
        holding = threading.Event()

        def write_for_a_while() -> None:
            writer = sqlite3.connect(path, timeout=30,
                                     isolation_level=None)
            try:
                writer.execute('BEGIN IMMEDIATE')
                writer.execute("UPDATE logbooks SET meta = meta")
                holding.set()
                time.sleep(0.6)
                writer.execute('COMMIT')
            finally:
                writer.close()

        errors = []

        def save(subject: str) -> None:
            try:
                jobs.save(sample_flow, subject, {'subject': subject})
            except Exception as error:  # noqa: B902 - collected
                errors.append(error)

        jobs.save(sample_flow, 'seed', {'subject': 'seed'})
        writer = threading.Thread(target=write_for_a_while)
        writer.start()
        holding.wait(10)
        savers = [threading.Thread(target=save, args=('s-%d' % number,))
                  for number in range(4)]
        for saver in savers:
            saver.start()
        for thread in savers + [writer]:
            thread.join(30)
        self.assertEqual([], errors)
        self.assertEqual({'s-0', 's-1', 's-2', 's-3'},
                         jobs.unfinished_subjects() - {'seed'})
