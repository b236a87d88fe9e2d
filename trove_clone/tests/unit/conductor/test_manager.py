"""The conductor records heartbeats sealed with the sender's key and
drops forged, unsealed and stale ones; the taskmanager's periodic
exists notifications."""
import time
from unittest import mock

import fixtures
from oslo_utils import uuidutils

from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conductor import manager
from trove_clone.conductor import rpcapi
from trove_clone.db import instances as db_instances
from trove_clone.db import models
from trove_clone.taskmanager import recovery
from trove_clone.tests.unit.api import base


class ConductorTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.key = crypto.generate_key()
        self.instance_id = self.make_instance(
            self.make_version(), encrypted_key=secrets.wrap_instance_key(
                self.key))
        self.conductor = manager.Manager()

    def status(self) -> str:
        return db_instances.get(self.context,
                                self.instance_id)['service_status']

    def sealed(self, status: str, sent: float, key: str | None = None):
        return {'sealed': crypto.seal({'service_status': status,
                                       'sent': sent}, key or self.key)}

    def test_sealed_heartbeats_in_order(self) -> None:
        self.conductor.heartbeat(self.context, self.instance_id,
                                 self.sealed('healthy', 10.0), 10.0)
        self.assertEqual('healthy', self.status())
        self.conductor.heartbeat(self.context, self.instance_id,
                                 self.sealed('shutdown', 9.0), 9.0)
        self.assertEqual('healthy', self.status(), 'stale heartbeat kept')
        self.conductor.heartbeat(self.context, self.instance_id,
                                 self.sealed('shutdown', 11.0), 11.0)
        self.assertEqual('shutdown', self.status())

    def test_forged_and_unsealed_heartbeats_are_dropped(self) -> None:
        other = crypto.generate_key()
        self.conductor.heartbeat(self.context, self.instance_id,
                                 self.sealed('healthy', 5.0, other), 5.0)
        self.conductor.heartbeat(self.context, self.instance_id,
                                 {'service_status': 'healthy'}, 6.0)
        # A sealed payload replayed with another time is refused too.
        self.conductor.heartbeat(self.context, self.instance_id,
                                 self.sealed('healthy', 7.0), 8.0)
        self.assertEqual('new', self.status())

    def enveloped(self, status: str, sent: float, key: str | None = None,
                  target: str | None = None) -> dict:
        return envelope.seal(
            key or self.key, 'heartbeat',
            target or rpcapi.target(self.instance_id),
            {'payload': {'service_status': status}, 'sent': sent},
            now=sent)

    def test_enveloped_heartbeats_guard_against_replays(self) -> None:
        now = time.time()
        first = self.enveloped('healthy', now)
        self.conductor.heartbeat(self.context, self.instance_id, first, now)
        self.assertEqual('healthy', self.status())
        logger = self.useFixture(fixtures.FakeLogger())
        # The nonce stops the replay before the database is asked.
        with mock.patch.object(manager.db_instances,
                               'record_heartbeat') as record:
            self.conductor.heartbeat(self.context, self.instance_id, first,
                                     now)
        record.assert_not_called()
        self.assertIn('replayed', logger.output)

    def test_enveloped_heartbeats_refused(self) -> None:
        logger = self.useFixture(fixtures.FakeLogger())
        now = time.time()
        for payload, sent in (
                (self.enveloped('healthy', now, crypto.generate_key()), now),
                (self.enveloped('healthy', now, target=self.instance_id),
                 now),
                (self.enveloped('healthy', now), now + 1),
                (self.enveloped('healthy', now - 100000), now - 100000)):
            self.conductor.heartbeat(self.context, self.instance_id,
                                     payload, sent)
        self.assertEqual('new', self.status())
        for reason in ('does not verify', 'sealed for target',
                       'sealed time differs', 'expired'):
            self.assertIn(reason, logger.output)
        self.assertNotIn(self.key, logger.output)

    def test_client_sends_envelopes_since_1_2(self) -> None:
        api = rpcapi.ConductorAPI(key=self.key)
        with mock.patch.object(api.client, 'prepare') as prepare:
            api.heartbeat(self.context, self.instance_id,
                          {'service_status': 'healthy'}, 12.5)
        prepare.assert_called_with(version='1.2')
        payload = prepare.return_value.cast.call_args[1]['payload']
        opened = envelope.Opener(self.key, rpcapi.target(
            self.instance_id)).open(payload, 'heartbeat', now=13.0)
        self.assertEqual({'payload': {'service_status': 'healthy'},
                          'sent': 12.5}, opened.args)

    def test_unknown_instances_are_ignored(self) -> None:
        self.conductor.heartbeat(self.context, uuidutils.generate_uuid(),
                                 {'service_status': 'healthy'}, 1.0)
        self.assertIn('conductor', self.conductor.ping(self.context)[
            'service'])

    def test_restart_required_is_kept(self) -> None:
        db_instances.set_service_status(
            self.context, self.instance_id,
            statuses.RESTART_REQUIRED_STATUS)
        self.conductor.heartbeat(self.context, self.instance_id,
                                 self.sealed('healthy', 3.0), 3.0)
        self.assertEqual('restart required', self.status())

    def test_key_wrapped_with_the_old_default_still_opens(self) -> None:
        # An instance created before the per-deployment key: its key was
        # wrapped with the literal default, and its heartbeats still count.
        version = {'id': db_instances.get(
            self.context, self.instance_id)['datastore_version_id']}
        old = self.make_instance(
            version, encrypted_key=crypto.wrap_key(
                self.key, secrets.LEGACY_RPC_KEY))
        self.conductor.heartbeat(self.context, old,
                                 self.sealed('healthy', 10.0), 10.0)
        self.assertEqual('healthy', db_instances.get(
            self.context, old)['service_status'])


class CryptoTest(base.ApiTestCase):

    def test_keys_wrap_and_seal(self) -> None:
        key = crypto.generate_key()
        wrapped = crypto.wrap_key(key, 'secret')
        self.assertNotIn(key, wrapped)
        self.assertEqual(key, crypto.unwrap_key(wrapped, 'secret'))
        self.assertRaises(crypto.UnsealError, crypto.unwrap_key, wrapped,
                          'other')
        token = crypto.seal({'a': [1, 2]}, key)
        self.assertEqual({'a': [1, 2]}, crypto.unseal(token, key))
        self.assertRaises(crypto.UnsealError, crypto.unseal, token,
                          crypto.generate_key())
        self.assertRaises(crypto.UnsealError, crypto.unseal,
                          token[:-4] + 'AAAA', key)


class StatusTest(base.ApiTestCase):

    def test_derivation_in_trove_order(self) -> None:
        derive = statuses.api_status
        self.assertEqual('ERROR', derive(
            statuses.BUILDING_ERROR_SERVER.code, 'ACTIVE', statuses.HEALTHY))
        self.assertEqual('BUILD', derive(statuses.BUILDING.code, 'BUILD',
                                         statuses.NEW))
        self.assertEqual('REBOOT', derive(statuses.REBOOTING.code, 'ACTIVE',
                                          statuses.RESTARTING))
        self.assertEqual('RESIZE', derive(statuses.RESIZING.code, 'ACTIVE',
                                          statuses.HEALTHY))
        self.assertEqual('SHUTDOWN', derive(statuses.DELETING.code,
                                            'ACTIVE', statuses.HEALTHY))
        self.assertEqual('ACTIVE', derive(statuses.NONE.code, 'ACTIVE',
                                          statuses.HEALTHY))
        self.assertEqual('ERROR', derive(statuses.NONE.code, 'ACTIVE',
                                         statuses.FAILED))
        self.assertEqual('HEALTHY', statuses.operating_status(
            statuses.NONE.code, 'ACTIVE', statuses.HEALTHY))
        self.assertEqual('', statuses.operating_status(
            statuses.REBOOTING.code, 'ACTIVE', statuses.HEALTHY))
        self.assertIs(statuses.UNKNOWN, statuses.service_status('odd'))


class ExistsNotificationTest(base.ApiTestCase):

    def test_one_exists_notification_per_instance(self) -> None:
        from_flows = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.common.notification.notify',
            lambda context, event, payload, error=False: from_flows.append(
                (event, payload['instance_id']))))
        version = self.make_version()
        ids = [self.make_instance(version, name=name)
               for name in ('a', 'b')]
        self.assertEqual(2, recovery.notify_exists())
        self.assertEqual(sorted(('trove.instance.exists', i) for i in ids),
                         sorted(from_flows))


class EngineFaultTest(base.ApiTestCase):
    """The fault a guest reports about its stopped engine is recorded
    once, shown as the instance's fault, and cleared (alone) when the
    engine is healthy again; autogrow is asked with the volume's use."""

    def setUp(self) -> None:
        super().setUp()
        self.instance_id = self.make_instance(self.make_version())
        self.grown: list = []
        self.conductor = manager.Manager(tasks=lambda: 'the caster')
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.services.autogrow.check',
            lambda context, instance_id, used, tasks: self.grown.append(
                (instance_id, used, tasks))))

    def beat(self, status: str, sent: float, **payload) -> None:
        self.conductor.heartbeat(self.context, self.instance_id,
                                 dict(payload, service_status=status), sent)

    def faults(self) -> list:
        with db_instances._facade.reader.using(self.context) as session:
            return [row.message for row in session.query(
                models.InstanceFault).filter_by(
                instance_id=self.instance_id)]

    def test_recorded_once_then_cleared(self) -> None:
        fault = {'message': 'The database stopped: its data volume is full',
                 'details': 'last lines'}
        db_instances.add_fault(self.context, self.instance_id,
                               'Resize failed at step x', 'older')
        self.beat('crashed', 1.0, engine_fault=fault)
        self.beat('crashed', 2.0, engine_fault=fault)
        row = db_instances.get(self.context, self.instance_id)
        self.assertEqual('crashed', row['service_status'])
        self.assertEqual(fault['message'], row['fault']['message'])
        self.assertEqual(2, len(self.faults()))
        self.beat('shutdown', 3.0)
        self.assertEqual(2, len(self.faults()))
        self.beat('healthy', 4.0)
        self.assertEqual(['Resize failed at step x'], self.faults())

    def test_a_healthy_engine_on_a_full_volume_keeps_its_fault(self):
        fault = {'message': '%s: the database cannot write'
                 % statuses.VOLUME_FULL_FAULT_PREFIX, 'details': 'd'}
        self.beat('healthy', 1.0, engine_fault=fault)
        # The engine's log moves on: the one fault follows it.
        self.beat('healthy', 2.0, engine_fault=dict(fault, details='d2'))
        self.assertEqual([fault['message']], self.faults())
        self.assertEqual('d2', db_instances.get(
            self.context, self.instance_id)['fault']['details'])
        self.beat('healthy', 3.0)
        self.assertEqual([], self.faults())

    def test_message_gets_the_prefix_and_junk_is_ignored(self) -> None:
        self.beat('crashed', 1.0, engine_fault={'message': 'boom',
                                                'details': 'd'})
        self.beat('crashed', 2.0, engine_fault={'message': 5})
        self.beat('crashed', 3.0, engine_fault='boom')
        self.assertEqual(['%s: boom' % statuses.ENGINE_FAULT_PREFIX],
                         self.faults())

    def test_autogrow_asked_only_when_on(self) -> None:
        self.beat('healthy', 1.0, volume_used_percent=93.0)
        self.assertEqual([], self.grown)
        self.conf.config(volume_autogrow_threshold=90)
        self.beat('healthy', 2.0, volume_used_percent=93.0)
        self.assertEqual([(self.instance_id, 93.0, 'the caster')],
                         self.grown)
        # A stale heartbeat asks nothing.
        self.beat('healthy', 1.5, volume_used_percent=99.0)
        self.assertEqual(1, len(self.grown))
        # Nor does a conductor without a caster.
        manager.Manager().heartbeat(
            self.context, self.instance_id,
            {'service_status': 'healthy', 'volume_used_percent': 99.0}, 9.0)
        self.assertEqual(1, len(self.grown))
