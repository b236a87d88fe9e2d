"""Bounded casts and calls (common/rpc.py): a dead broker gives
MessagingUnavailable within rpc_cast_timeout, never a wait without end;
the remote side's errors pass through unchanged."""
import threading
import time
import types

import fixtures
import kombu.exceptions
import oslo_messaging

from trove_clone.common import config
from trove_clone.common import exception
from trove_clone.common import rpc
from trove_clone.taskmanager import rpcapi as taskmanager_rpcapi
from trove_clone.tests.unit import base


class FakeContext:
    """A prepared oslo.messaging context whose cast and call run
    ``behaviour``; ``reply_q`` is what the rabbit driver would hold."""

    def __init__(self, behaviour, timeout: float | None = 30,
                 reply_q: str | None = 'reply_1') -> None:
        self.behaviour = behaviour
        self.timeout = timeout
        self.transport = types.SimpleNamespace(
            _driver=types.SimpleNamespace(_reply_q=reply_q))

    def prepare(self, **kwargs) -> 'FakeContext':
        return self

    def cast(self, context, method: str, **kwargs):
        return self.behaviour()

    def call(self, context, method: str, **kwargs):
        return self.behaviour()


class BoundedTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        self.conf.config(rpc_cast_timeout=0.3)
        self.release = threading.Event()
        self.addCleanup(self.release.set)

    def blocked(self):
        self.release.wait(30)
        return 'late'

    def test_a_cast_the_broker_does_not_take_is_bounded(self) -> None:
        client = rpc.BoundedClient(FakeContext(self.blocked), 'The tm')
        start = time.monotonic()
        error = self.assertRaises(exception.MessagingUnavailable,
                                  client.prepare(version='1.1').cast, {},
                                  'restart', instance_id='i')
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(503, error.code)
        self.assertIn('The tm could not be reached', error.message)
        self.assertIn('restart', error.message)
        self.assertEqual(1, rpc._abandoned)
        self.release.set()
        deadline = time.monotonic() + 5
        while rpc._abandoned and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(0, rpc._abandoned)

    def test_refused_by_the_broker(self) -> None:
        def refused():
            raise kombu.exceptions.OperationalError(
                '[Errno 111] Connection refused')
        client = rpc.BoundedClient(FakeContext(refused), 'The tm')
        error = self.assertRaises(exception.MessagingUnavailable,
                                  client.cast, {}, 'create_instance')
        self.assertIn('Connection refused', error.message)
        self.assertIsInstance(error.__cause__,
                              kombu.exceptions.OperationalError)

    def test_remote_errors_and_timeouts_pass_through(self) -> None:
        remote = type('OSError_Remote', (OSError,), {})

        def raises(error):
            def behaviour():
                raise error
            return behaviour
        for error in (remote('guest side'),
                      oslo_messaging.MessagingTimeout('no answer'),
                      exception.BadRequest('bad user'),
                      oslo_messaging.RemoteError('X', 'y')):
            client = rpc.BoundedClient(FakeContext(raises(error)), 'g')
            self.assertIs(error, self.assertRaises(
                type(error), client.call, {}, 'list_users'))
        client = rpc.BoundedClient(FakeContext(lambda: ['u']), 'g')
        self.assertEqual(['u'], client.call({}, 'list_users'))

    def test_a_call_waits_for_its_answer_once_it_is_sent(self) -> None:
        def slow_answer():
            time.sleep(0.8)
            return 'answer'
        client = rpc.BoundedClient(FakeContext(slow_answer, timeout=5),
                                   'g')
        self.assertEqual('answer', client.call({}, 'get_status'))

    def test_a_call_without_a_reply_listener_is_bounded(self) -> None:
        # The rabbit driver sets its reply queue up with endless retries:
        # with the broker down the call never gets past it.
        client = rpc.BoundedClient(
            FakeContext(self.blocked, timeout=60, reply_q=None), 'g')
        start = time.monotonic()
        self.assertRaises(exception.MessagingUnavailable, client.call, {},
                          'list_users')
        self.assertLess(time.monotonic() - start, 5)

    def test_too_many_abandoned_fail_at_once(self) -> None:
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.common.rpc._abandoned', rpc.MAX_ABANDONED))
        calls = []
        client = rpc.BoundedClient(FakeContext(lambda: calls.append(1)),
                                   'g')
        error = self.assertRaises(exception.MessagingUnavailable,
                                  client.cast, {}, 'restart')
        self.assertIn('still waiting', error.message)
        self.assertEqual([], calls)

    def test_service_names(self) -> None:
        self.assertEqual('The taskmanager',
                         rpc.service_name(self.conf.conf.taskmanager_queue))
        self.assertEqual('The guest agent of instance abc',
                         rpc.service_name('guestagent.abc'))


class DeadBrokerTest(base.TestCase):
    """The real rabbit driver against a port where nothing listens."""

    def setUp(self) -> None:
        super().setUp()
        config.register_transport()
        self.conf.config(transport_url='rabbit://guest:guest@127.0.0.1:1/',
                         rpc_cast_timeout=3.0)
        rpc.cleanup()
        self.addCleanup(rpc.cleanup)

    def test_a_cast_answers_503_in_seconds(self) -> None:
        tasks = taskmanager_rpcapi.TaskManagerAPI()
        start = time.monotonic()
        error = self.assertRaises(exception.MessagingUnavailable,
                                  tasks.restart, self.context, 'i')
        self.assertLess(time.monotonic() - start, 10)
        self.assertIn('The taskmanager could not be reached', error.message)
