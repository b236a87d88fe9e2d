"""The guest agent's heartbeat: its status, errors and the volume's use,
with a warning when the volume is nearly full."""
import collections
import threading
import time
from unittest import mock

import fixtures
import testtools

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import backup as backup_capability
from trove_clone.guestagent import manager
from trove_clone.tests.unit import base


class RecordingConductor:

    def __init__(self) -> None:
        self.beats: list[dict] = []

    def heartbeat(self, context, instance_id, payload, sent) -> None:
        self.beats.append(dict(payload, instance_id=instance_id))


class HeartbeatTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.conf.config(guest_volume=self.volume)
        self.agent = manager.Manager('instance-1')
        self.conductor = RecordingConductor()
        self.agent._conductor = self.conductor
        self.log = self.useFixture(fixtures.FakeLogger())

    def test_report_carries_status_and_volume_use(self) -> None:
        manager.report(self.agent)
        beat = self.conductor.beats[-1]
        self.assertEqual('new', beat['service_status'])
        self.assertEqual('instance-1', beat['instance_id'])
        self.assertLess(beat['volume_used_percent'], 100)
        self.assertNotIn('error', beat)

    def test_nearly_full_volume_warns(self) -> None:
        usage = collections.namedtuple('usage', 'total used free')
        self.useFixture(fixtures.MonkeyPatch(
            'shutil.disk_usage', lambda path: usage(100, 95, 5)))
        self.agent._set_status('failed to spawn', 'engine exploded')
        beat = self.conductor.beats[-1]
        self.assertEqual(95.0, beat['volume_used_percent'])
        self.assertEqual('engine exploded', beat['error'])
        self.assertIn('95% full', self.log.output)

    def test_boot_without_prepared_state_reports_new(self) -> None:
        manager.boot(self.agent)
        self.assertEqual('new', self.conductor.beats[-1]['service_status'])
        self.assertEqual({'status': 'new', 'error': None},
                         self.agent.get_status(None))


class PostUpgradeOnceTest(base.TestCase):
    """post_upgrade asked again once it finished (a resumed upgrade flow)
    does nothing: the saved copy it would look for is gone."""

    def setUp(self) -> None:
        super().setUp()
        self.volume = self.useFixture(fixtures.TempDir()).path
        self.conf.config(guest_volume=self.volume)
        self.agent = manager.Manager('instance-1')
        self.agent._conductor = RecordingConductor()
        self.agent.manager_name = 'redis'
        self.calls = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.manager.Manager._post_upgrade',
            lambda agent, info: (self.calls.append(info),
                                 manager.state.save('redis'),
                                 agent._set_status('healthy'))))

    def test_second_call_after_the_first_finished_does_nothing(self):
        manager.state.save('redis', upgrade_pending=True)
        self.agent.post_upgrade(None, {'copy': 'x'})
        self.agent.post_upgrade(None, {'copy': 'x'})
        self.assertEqual([{'copy': 'x'}], self.calls)

    def test_pending_upgrade_runs(self) -> None:
        manager.state.save('redis', upgrade_pending=True)
        self.agent._set_status('healthy')
        self.agent.post_upgrade(None, {'copy': 'y'})
        self.assertEqual([{'copy': 'y'}], self.calls)


class BackupConductor(RecordingConductor):

    def __init__(self) -> None:
        super().__init__()
        self.reports: list[tuple] = []

    def update_backup(self, context, instance_id, backup_id, payload,
                      sent) -> None:
        self.reports.append((backup_id, dict(payload)))


class FakeBackup:
    """The backup capability, held until released."""

    def __init__(self, calls: list, outcome, release=None) -> None:
        self.calls, self.outcome, self.release = calls, outcome, release

    def create(self, info: dict) -> dict:
        self.calls.append(('create', info['id']))
        if self.release is not None:
            self.release.wait(10)
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome

    def restore(self, info: dict) -> None:
        self.calls.append(('restore', info['id']))
        if isinstance(self.outcome, Exception):
            raise self.outcome


class FakeEngine:

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def prepare(self) -> None:
        self.calls.append(('prepare',))

    def update_access(self, allowed_cidrs: list) -> None:
        pass

    def is_healthy(self) -> bool:
        return True


class BackupTest(base.TestCase):
    """create_backup runs in a thread, one at a time, and reports to the
    conductor; prepare restores before the engine first starts."""

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(guest_volume=self.useFixture(
            fixtures.TempDir()).path)
        self.agent = manager.Manager('instance-1')
        self.conductor = BackupConductor()
        self.agent._conductor = self.conductor
        self.calls: list = []
        self.outcome = {'size': 0.5, 'location': 'local:///c/o',
                        'checksum': 'abc', 'metadata': {'format': 'x'}}
        self.release = None
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.loader.capability',
            lambda name, manager_name, engine: FakeBackup(
                self.calls, self.outcome, self.release)))
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.loader.lifecycle',
            lambda manager_name: FakeEngine(self.calls)))
        self.useFixture(fixtures.FakeLogger())

    def wait_for_reports(self, count: int) -> list:
        deadline = time.monotonic() + 10
        while len(self.conductor.reports) < count and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        return self.conductor.reports

    def test_reports_building_then_completed(self) -> None:
        self.agent.engine, self.agent.manager_name = FakeEngine([]), 'redis'
        self.agent.create_backup(None, {'id': 'b1'})
        reports = self.wait_for_reports(2)
        # When it finished (UTC): point-in-time recovery picks base
        # backups by it.
        finished = reports[1][1]['metadata'].pop('finished_at')
        self.assertRegex(finished, r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
        self.assertEqual([('b1', {'state': 'BUILDING'}),
                          ('b1', dict(self.outcome, state='COMPLETED'))],
                         reports)

    def test_failure_is_one_line(self) -> None:
        self.agent.engine, self.agent.manager_name = FakeEngine([]), 'redis'
        self.outcome = backup_capability.BackupFailed(
            reason='mariadb-backup failed:\nno space left')
        self.agent.create_backup(None, {'id': 'b1'})
        self.assertEqual(
            ('b1', {'state': 'FAILED',
                    'reason': 'mariadb-backup failed: no space left'}),
            self.wait_for_reports(2)[1])

    def test_one_backup_at_a_time(self) -> None:
        self.agent.engine, self.agent.manager_name = FakeEngine([]), 'redis'
        self.release = threading.Event()
        self.agent.create_backup(None, {'id': 'b1'})
        self.wait_for_reports(1)
        self.agent.create_backup(None, {'id': 'b2'})
        self.assertIn(('b2', {'state': 'FAILED', 'reason': 'Another backup '
                              '(b1) of the instance is running.'}),
                      self.wait_for_reports(2))
        self.release.set()
        self.wait_for_reports(3)
        self.assertEqual([('create', 'b1')], self.calls)
        # Once it finished, the next one runs.
        self.agent.create_backup(None, {'id': 'b3'})
        self.assertEqual('COMPLETED', self.wait_for_reports(5)[4][1]['state'])

    def test_prepare_restores_before_the_engine_starts(self) -> None:
        self.agent._prepare('redis', [], [], [], {'id': 'b1', 'chain': []})
        self.assertEqual([('restore', 'b1'), ('prepare',)], self.calls)
        self.assertEqual('healthy', self.agent.status)

    def test_a_failed_restore_fails_the_prepare(self) -> None:
        self.outcome = exception.RestoreBackupIntegrityError(
            backup_id='b1', reason='record 3 is corrupt')
        self.agent._prepare('redis', [], [], [], {'id': 'b1', 'chain': []})
        self.assertEqual([('restore', 'b1')], self.calls)
        self.assertEqual('failed to spawn', self.agent.status)
        self.assertIn('record 3 is corrupt', self.agent.error)


class RestoredAccountsTest(testtools.TestCase):
    """A restore request names the backed-up instance's databases and
    users (Trove's tempest backup tests do): those the backup brought are
    not created again; such a user takes the request's password."""

    def test_only_what_the_backup_lacks_is_created(self) -> None:
        accounts = mock.Mock()
        accounts.list_databases.return_value = [{'name': 'test_db'}]
        accounts.list_users.return_value = [
            {'name': 'test_user', 'host': '%', 'databases': []}]
        databases, users = manager._not_restored(
            accounts, [{'name': 'test_db'}, {'name': 'new_db'}],
            [{'name': 'test_user', 'password': 'pw2',
              'databases': [{'name': 'test_db'}]},
             {'name': 'new_user', 'password': 'pw3'}])
        self.assertEqual([{'name': 'new_db'}], databases)
        self.assertEqual(['new_user'], [user['name'] for user in users])
        accounts.change_passwords.assert_called_once_with(
            [{'name': 'test_user', 'host': '%', 'password': 'pw2'}])
        accounts.grant_access.assert_called_once_with('test_user', '%',
                                                      ['test_db'])


class FakeReplication:
    """The replication capability, recording the agent's calls."""

    backup_required = True

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def seed(self, snapshot: dict) -> None:
        self.calls.append(('seed', snapshot['master']['host']))

    def attach(self, snapshot: dict, seeded: bool = False) -> None:
        self.calls.append(('attach', seeded))

    def snapshot(self, replica: dict, backup: dict | None = None) -> dict:
        self.calls.append(('snapshot', replica['id'],
                           backup and backup['id']))
        return {'master': {}, 'dataset': backup}

    def status(self) -> dict:
        return {'role': 'replica', 'state': 'streaming', 'lag_seconds': 0}


class ReplicationAgentTest(BackupTest):
    """prepare(snapshot) seeds, starts and attaches a replica before it
    says healthy; get_replication_snapshot takes its backup as
    create_backup does; heartbeats carry the replication status."""

    def setUp(self) -> None:
        super().setUp()

        def capability(name, manager_name, engine):
            if name == 'replication':
                return FakeReplication(self.calls)
            return FakeBackup(self.calls, self.outcome, self.release)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.loader.capability',
            capability))

    def test_prepare_of_a_replica(self) -> None:
        self.agent.prepare(None, 'mariadb', users=[{'name': 'app'}],
                           backup_info={'id': 'b1'},
                           snapshot={'master': {'host': '192.0.2.1'}})
        deadline = time.monotonic() + 10
        while self.agent.status != 'healthy' and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        # The users are the source's: none are made on the replica.
        self.assertEqual([('restore', 'b1'), ('seed', '192.0.2.1'),
                          ('prepare',), ('attach', True)], self.calls)
        self.assertEqual('healthy', self.agent.status)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.capabilities.replication.load_state',
            lambda engine: {'role': 'replica'}))
        manager.report(self.agent)
        self.assertIn({'role': 'replica', 'state': 'streaming',
                       'lag_seconds': 0},
                      [beat.get('replication')
                       for beat in self.conductor.beats])

    def test_snapshot_with_a_backup(self) -> None:
        self.agent.engine, self.agent.manager_name = FakeEngine([]), 'mariadb'
        snapshot = self.agent.get_replication_snapshot(None, {
            'replica': {'id': 'r1', 'address': '192.0.2.2'},
            'backup_info': {'id': 'b1'}})
        self.assertEqual(dict(self.outcome, id='b1'), snapshot['dataset'])
        self.assertEqual([('create', 'b1'), ('snapshot', 'r1', 'b1')],
                         self.calls)
        self.assertEqual([('b1', {'state': 'BUILDING'}),
                          ('b1', dict(self.outcome, state='COMPLETED'))],
                         self.conductor.reports)
        self.assertTrue(self.agent.backup_required_for_replication(None))

    def test_snapshot_backup_failure_is_reported_and_raised(self) -> None:
        self.agent.engine, self.agent.manager_name = FakeEngine([]), 'mariadb'
        self.outcome = backup_capability.BackupFailed(reason='disk full')
        self.assertRaises(backup_capability.BackupFailed,
                          self.agent.get_replication_snapshot, None, {
                              'replica': {'id': 'r1',
                                          'address': '192.0.2.2'},
                              'backup_info': {'id': 'b1'}})
        self.assertEqual(('b1', {'state': 'FAILED', 'reason': 'disk full'}),
                         self.conductor.reports[-1])
        self.assertIsNone(self.agent._backup_id)

    def test_snapshot_checks_the_replica_before_the_backup(self) -> None:
        self.agent.engine, self.agent.manager_name = FakeEngine([]), 'mariadb'
        for replica in (None, {'id': 'r1'}, {'id': 'r 1', 'address': 'x'},
                        {'id': 'r1', 'address': 'replica.example'}):
            self.assertRaises(exception.BadRequest,
                              self.agent.get_replication_snapshot, None,
                              {'replica': replica,
                               'backup_info': {'id': 'b1'}})
        self.assertEqual([], self.calls)
        self.assertEqual([], self.conductor.reports)


class FakeGalera:
    """The cluster capability's Galera extras, recording the calls."""

    def __init__(self, calls: list) -> None:
        self.calls = calls

    def recovery_position(self) -> dict:
        self.calls.append(('recovery_position',))
        return {'uuid': 'u', 'seqno': 7, 'safe_to_bootstrap': False}

    def rebootstrap(self) -> dict:
        self.calls.append(('rebootstrap',))
        return {'state': 'ok', 'members': 1}


class ClusterRecoveryAgentTest(base.TestCase):
    """cluster_recovery_position and cluster_rebootstrap (RPC 2.4)
    delegate to the cluster capability; a re-bootstrapped member is
    reported healthy at once."""

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(guest_volume=self.useFixture(
            fixtures.TempDir()).path)
        self.calls: list = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.guestagent.datastores.loader.capability',
            lambda name, manager_name, engine: FakeGalera(self.calls)))
        self.agent = manager.Manager('instance-1')
        self.agent.engine, self.agent.manager_name = FakeEngine([]), \
            'mariadb'
        self.conductor = RecordingConductor()
        self.agent._conductor = self.conductor

    def test_position_then_rebootstrap(self) -> None:
        self.assertEqual(7, self.agent.cluster_recovery_position(None)[
            'seqno'])
        self.assertEqual({'state': 'ok', 'members': 1},
                         self.agent.cluster_rebootstrap(None))
        self.assertEqual([('recovery_position',), ('rebootstrap',)],
                         self.calls)
        self.assertEqual('healthy', self.agent.status)
        self.assertEqual('healthy', self.conductor.beats[-1][
            'service_status'])
