"""Sealed envelopes: what opens and everything that is refused."""
import time

from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.tests.unit import base

TARGET = 'instance-1'


class EnvelopeTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.key = crypto.generate_key()
        self.opener = envelope.Opener(self.key, TARGET)

    def sealed(self, method: str = 'stop_db', target: str = TARGET,
               args: dict | None = None, **kwargs) -> dict:
        return envelope.seal(self.key if 'key' not in kwargs
                             else kwargs.pop('key'), method, target,
                             args, {'user': 'u1'}, **kwargs)

    def refused(self, value, method: str = 'stop_db', **kwargs) -> str:
        error = self.assertRaises(envelope.EnvelopeRefused,
                                  self.opener.open, value, method, **kwargs)
        self.assertNotIn(self.key, error.reason)
        return error.reason

    def test_opens_what_was_sealed(self) -> None:
        value = self.sealed('create_users', args={'users': [{'name': 'a'}]})
        self.assertTrue(envelope.is_envelope(value))
        self.assertEqual('2.0', value['envelope'])
        self.assertNotIn('users', value['token'])
        opened = self.opener.open(value, 'create_users')
        self.assertEqual({'users': [{'name': 'a'}]}, opened.args)
        self.assertEqual({'user': 'u1'}, opened.context)
        self.assertEqual((TARGET, 'create_users'),
                         (opened.target, opened.method))

    def test_no_envelope(self) -> None:
        self.assertEqual('no envelope', self.refused(None))
        self.assertEqual('not an envelope', self.refused({'sealed': 'x'}))
        self.assertEqual('not an envelope', self.refused('token'))
        self.assertEqual('not an envelope', self.refused(
            {'envelope': '2.0', 'token': 7}))

    def test_tampered(self) -> None:
        value = self.sealed()
        token = value['token']
        middle = len(token) // 2
        swapped = 'A' if token[middle] != 'A' else 'B'
        value['token'] = token[:middle] + swapped + token[middle + 1:]
        self.assertIn('does not verify', self.refused(value))

    def test_wrong_key(self) -> None:
        self.assertIn('does not verify', self.refused(
            self.sealed(key=crypto.generate_key())))

    def test_wrong_method_or_target(self) -> None:
        self.assertIn("method 'restart'", self.refused(
            self.sealed('restart'), 'stop_db'))
        self.assertIn("target 'instance-2'", self.refused(
            self.sealed(target='instance-2')))

    def test_replayed(self) -> None:
        value = self.sealed()
        self.opener.open(value, 'stop_db')
        self.assertIn('replayed', self.refused(value))
        # Another receiver with the same key has its own cache.
        envelope.Opener(self.key, TARGET).open(value, 'stop_db')

    def test_expired_and_future(self) -> None:
        self.conf.config(rpc_clock_skew=60)
        now = time.time()
        old = self.sealed(ttl=30, now=now - 100)
        self.assertIn('expired', self.refused(old))
        self.opener.open(self.sealed(ttl=30, now=now - 80), 'stop_db')
        self.assertIn('future', self.refused(self.sealed(now=now + 120)))
        self.opener.open(self.sealed(now=now + 50), 'stop_db')

    def test_cast_ttl_default(self) -> None:
        self.conf.config(rpc_cast_ttl=600, rpc_clock_skew=10)
        now = time.time()
        self.opener.open(self.sealed(now=now - 500), 'stop_db')
        self.assertIn('expired', self.refused(self.sealed(now=now - 700)))

    def test_version_and_malformed(self) -> None:
        value = self.sealed()
        value['envelope'] = '1.0'
        self.assertIn('version', self.refused(value))
        for body in ({'method': 'stop_db'}, ['stop_db'], {
                'v': '2.0', 'method': 'stop_db', 'target': TARGET,
                'time': 'now', 'ttl': 5, 'nonce': 'n', 'context': {},
                'args': {}}):
            self.assertIn('malformed', self.refused(
                {'envelope': '2.0', 'token': crypto.seal(body, self.key)}))

    def test_replay_cache_bounded(self) -> None:
        cache = envelope.ReplayCache(size=2)
        cache.check_and_add('a', 10.0, 5.0)
        cache.check_and_add('b', 20.0, 5.0)
        self.assertRaises(envelope.EnvelopeRefused, cache.check_and_add,
                          'c', 20.0, 5.0)
        # Once 'a' expired there is room again, and 'a' may come back.
        cache.check_and_add('c', 20.0, 11.0)
        cache = envelope.ReplayCache(size=5)
        cache.check_and_add('a', 10.0, 5.0)
        cache.check_and_add('a', 30.0, 11.0)

    def test_deployment_key_follows_the_secret(self) -> None:
        self.conf.config(inst_rpc_key_encr_key='one')
        first = envelope.deployment_key()
        self.assertEqual(first, envelope.deployment_key())
        self.assertNotIn('one', first)
        self.assertEqual('one', envelope.deployment_secret())
        self.conf.config(inst_rpc_key_encr_key='two')
        self.assertNotEqual(first, envelope.deployment_key())
        self.assertNotEqual(envelope.derive_key('two', 'taskmanager'),
                            envelope.derive_key('two', 'other'))
        crypto.unseal(crypto.seal({}, first), first)
