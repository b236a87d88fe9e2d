"""The backup flows with a fake guest that reports through the real
conductor handler, and the handler's rules for what guests report."""
import time

import fixtures

from trove_clone.common import crypto
from trove_clone.common import envelope
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conductor import manager as conductor_manager
from trove_clone.conductor import rpcapi as conductor_rpcapi
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import quotas
from trove_clone.taskmanager.flows import backup as backup_flow
from trove_clone.taskmanager import jobs
from trove_clone.taskmanager import recovery
from trove_clone.tests.unit.api import base


class FakeGuest:
    """create_backup answered by reports through the conductor handler:
    ``reports`` are sent in order; ``fail`` makes the cast raise."""

    def __init__(self, conductor, instance_id: str, key: str) -> None:
        self.conductor = conductor
        self.instance_id = instance_id
        self.key = key
        self.infos: list[dict] = []
        self.reports: list[dict] = [{'state': 'BUILDING'}, {
            'state': 'COMPLETED', 'size': 0.25, 'location':
            'local:///c/obj', 'checksum': 'a' * 32,
            'metadata': {'lsn': 42}}]
        self.fail = False

    def report(self, context, backup_id: str, payload: dict,
               sent: float) -> None:
        payload = dict(payload, backup_id=backup_id)
        sealed = envelope.seal(
            self.key, 'update_backup',
            conductor_rpcapi.target(self.instance_id),
            {'payload': payload, 'sent': sent}, now=sent)
        self.conductor.update_backup(context, self.instance_id, backup_id,
                                     sealed, sent)

    def create_backup(self, context, backup_info: dict) -> None:
        if self.fail:
            raise exception.MessagingUnavailable()
        self.infos.append(backup_info)
        for report in self.reports:
            self.report(context, backup_info['id'], report, time.time())


class FakeStorage:

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.fail = False
        self.options: list[dict] = []

    def load(self, options: dict) -> 'FakeStorage':
        self.options.append(options)
        return self

    def delete(self, location: str) -> None:
        if self.fail:
            raise exception.BackupStorageError(reason='storage unreachable')
        self.deleted.append(location)


class _BackupTestCase(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(backup_key_file=self.useFixture(
            fixtures.TempDir()).join('backup.key'), state_poll_interval=0.01)
        self.key = crypto.generate_key()
        self.version = self.make_version()
        self.instance_id = self.make_instance(
            self.version, tenant_id=self.project, server_status='ACTIVE',
            encrypted_key=secrets.wrap_instance_key(self.key))
        db_instances.set_task(self.context, self.instance_id, statuses.NONE)
        db_instances.record_heartbeat(self.context, self.instance_id,
                                      statuses.HEALTHY, 1.0)
        self.conductor = conductor_manager.Manager()
        self.guest = FakeGuest(self.conductor, self.instance_id, self.key)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.taskmanager.tasks.base.guest_for',
            lambda row, timeout=None: self.guest))
        self.storage = FakeStorage()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.drivers.backup_storage.load', self.storage.load))

    def record(self, parent_id: str | None = None) -> str:
        backup_id = 'b%d' % len(db_backups.list_page(self.context, None,
                                                     100))
        db_backups.create(self.context, {
            'id': backup_id, 'name': 'nightly', 'tenant_id': self.project,
            'instance_id': self.instance_id, 'parent_id': parent_id,
            'datastore_version_id': self.version['id'],
            'storage_driver': 'local',
            'metadata': {'container': 'box'}}, {'backups': 10})
        return backup_id

    def run_backup(self, backup_id: str) -> dict:
        jobs.run_now(backup_flow.get_create_flow, self.instance_id, {
            'context': jobs.stored_context(self.context),
            'instance_id': self.instance_id, 'backup_id': backup_id})
        return db_backups.get(self.context, backup_id)

    def task(self) -> int:
        return db_instances.get(self.context, self.instance_id)['task_id']


class BackupFlowTest(_BackupTestCase):

    def test_completed_backup_and_incremental_child(self) -> None:
        full = self.run_backup(self.record())
        self.assertEqual('COMPLETED', full['state'])
        self.assertEqual(0.25, full['size'])
        self.assertEqual('local:///c/obj', full['location'])
        self.assertEqual({'lsn': 42}, full['metadata'])
        self.assertEqual(statuses.NONE.code, self.task())
        info = self.guest.infos[0]
        self.assertEqual('box', info['container'])
        self.assertEqual('local', info['storage']['driver'])
        self.assertFalse(info['incremental'])
        self.assertIsNone(info['parent'])
        self.assertEqual('mysql', info['datastore'])
        self.assertEqual(44, len(info['encryption_key']))
        self.guest.reports[-1] = dict(self.guest.reports[-1],
                                      location='local:///c/obj2')
        child = self.run_backup(self.record(parent_id=full['id']))
        self.assertEqual('COMPLETED', child['state'])
        info = self.guest.infos[1]
        self.assertTrue(info['incremental'])
        self.assertEqual({'id': full['id'], 'location': 'local:///c/obj',
                          'checksum': 'a' * 32, 'metadata': {'lsn': 42}},
                         info['parent'])
        self.assertEqual(self.guest.infos[0]['encryption_key'],
                         info['encryption_key'])

    def test_notifications(self) -> None:
        sent = []
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.common.notification.notify',
            lambda context, event, payload, error=False: sent.append(
                (event, payload.get('backup_id'), error))))
        backup_id = self.record()
        self.run_backup(backup_id)
        self.assertEqual([('dbaas.backup_create.start', backup_id, False),
                          ('trove.backup.create', backup_id, False),
                          ('dbaas.backup_create.end', backup_id, False)],
                         sent)
        del sent[:]
        self.guest.reports = [{'state': 'FAILED', 'reason': 'no'}]
        failed = self.record()
        self.run_backup(failed)
        self.assertEqual([('dbaas.backup_create.start', failed, False),
                          ('dbaas.backup_create.error', failed, True)], sent)

    def test_a_lost_flow_fails_the_backup(self) -> None:
        backup_id = self.record()
        recovery._settle_one(self.context, self.instance_id)
        row = db_backups.get(self.context, backup_id)
        self.assertEqual('FAILED', row['state'])
        self.assertIn('taskmanager stopped', row['fail_reason'])
        self.assertEqual(statuses.NONE.code, self.task())

    def test_guest_failure_gives_the_instance_back(self) -> None:
        self.guest.reports = [{'state': 'BUILDING'}, {
            'state': 'FAILED', 'reason': 'mariadb-backup exited 1'}]
        row = self.run_backup(self.record())
        self.assertEqual('FAILED', row['state'])
        self.assertEqual('mariadb-backup exited 1', row['fail_reason'])
        self.assertEqual(statuses.NONE.code, self.task())

    def test_timeout_and_failed_cast(self) -> None:
        self.conf.config(backup_timeout=1)
        self.guest.reports = [{'state': 'BUILDING'}]
        row = self.run_backup(self.record())
        self.assertEqual('FAILED', row['state'])
        self.assertIn('did not complete within 1 seconds',
                      row['fail_reason'])
        self.assertEqual(statuses.NONE.code, self.task())
        self.guest.fail = True
        row = self.run_backup(self.record())
        self.assertEqual('FAILED', row['state'])
        self.assertEqual(statuses.NONE.code, self.task())

    def test_a_deleted_instance_fails_its_backup(self) -> None:
        self.guest.reports = []
        backup_id = self.record()
        db_instances.set_task(self.context, self.instance_id,
                              statuses.DELETING)
        row = self.run_backup(backup_id)
        self.assertEqual('FAILED', row['state'])
        self.assertIn('left its backup task', row['fail_reason'])
        self.assertEqual(statuses.DELETING.code, self.task(),
                         'the delete keeps its task')

    def test_delete_takes_the_children_and_gives_quota_back(self) -> None:
        full = self.run_backup(self.record())
        child = self.run_backup(self.record(parent_id=full['id']))
        used = {row['resource']: row['in_use'] for row in
                quotas.show(self.context, self.project)}['backups']
        self.assertEqual(2, used)
        jobs.run_now(backup_flow.get_delete_flow, full['id'], {
            'context': jobs.stored_context(self.context),
            'backup_id': full['id']})
        self.assertEqual(['local:///c/obj', 'local:///c/obj'],
                         self.storage.deleted)
        self.assertEqual('local', self.storage.options[0]['driver'])
        for backup_id in (full['id'], child['id']):
            self.assertRaises(exception.BackupNotFound, db_backups.get,
                              self.context, backup_id)
        used = {row['resource']: row['in_use'] for row in
                quotas.show(self.context, self.project)}['backups']
        self.assertEqual(0, used)

    def test_storage_failure_is_delete_failed(self) -> None:
        full = self.run_backup(self.record())
        self.storage.fail = True
        jobs.run_now(backup_flow.get_delete_flow, full['id'], {
            'context': jobs.stored_context(self.context),
            'backup_id': full['id']})
        row = db_backups.get(self.context, full['id'])
        self.assertEqual('DELETE_FAILED', row['state'])
        self.assertIn('storage unreachable', row['fail_reason'])


class UpdateBackupTest(_BackupTestCase):
    """What the conductor accepts from a guest."""

    def setUp(self) -> None:
        super().setUp()
        self.backup_id = self.record()

    def state(self) -> dict:
        return db_backups.get(self.context, self.backup_id)

    def test_order_and_end_states(self) -> None:
        now = time.time()
        self.guest.report(self.context, self.backup_id,
                          {'state': 'SAVING'}, now)
        self.assertEqual('SAVING', self.state()['state'])
        self.guest.report(self.context, self.backup_id,
                          {'state': 'BUILDING'}, now - 1)
        self.assertEqual('SAVING', self.state()['state'], 'stale report')
        self.guest.report(self.context, self.backup_id,
                          {'state': 'FAILED', 'reason': 'disk full'},
                          now + 1)
        self.guest.report(self.context, self.backup_id, {
            'state': 'COMPLETED', 'location': 'x', 'checksum': 'y'},
            now + 2)
        self.assertEqual('FAILED', self.state()['state'],
                         'an ended backup stays ended')
        self.assertEqual('disk full', self.state()['fail_reason'])

    def test_bad_forged_and_misdirected_reports_are_dropped(self) -> None:
        for payload in ({'state': 'COMPLETED', 'checksum': 'y'},
                        {'state': 'DELETE_FAILED'}, {'state': 'NEW'},
                        {'state': 'SAVING', 'size': 'big'},
                        {'state': 'SAVING', 'location': 'x' * 2000}):
            self.guest.report(self.context, self.backup_id, payload,
                              time.time())
        self.assertEqual('NEW', self.state()['state'])
        now = time.time()
        # Another instance's key, an unsealed payload, a report sealed
        # for another backup, a heartbeat's envelope.
        other = crypto.generate_key()
        for payload, method, backup_id in (
                ({'state': 'SAVING'}, 'update_backup', self.backup_id),
                ({'state': 'SAVING'}, 'heartbeat', self.backup_id),
                ({'state': 'SAVING'}, 'update_backup', 'b9')):
            key = other if method == 'update_backup' and \
                backup_id == self.backup_id else self.key
            sealed = envelope.seal(
                key, method, conductor_rpcapi.target(self.instance_id),
                {'payload': dict(payload, backup_id=backup_id),
                 'sent': now}, now=now)
            self.conductor.update_backup(self.context, self.instance_id,
                                         self.backup_id, sealed, now)
        self.conductor.update_backup(self.context, self.instance_id,
                                     self.backup_id, {'state': 'SAVING'},
                                     now)
        self.assertEqual('NEW', self.state()['state'])
        # A backup of another instance is not this guest's to report.
        other_instance = self.make_instance(
            self.version, tenant_id=self.project,
            encrypted_key=secrets.wrap_instance_key(other))
        sealed = envelope.seal(
            other, 'update_backup', conductor_rpcapi.target(other_instance),
            {'payload': {'state': 'SAVING', 'backup_id': self.backup_id},
             'sent': now}, now=now)
        self.conductor.update_backup(self.context, other_instance,
                                     self.backup_id, sealed, now)
        self.assertEqual('NEW', self.state()['state'])
