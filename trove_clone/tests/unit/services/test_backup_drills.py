"""Restore drills: POST /backups/{id}/action {"verify": {}} creates a
throwaway instance restoring the backup (quota counted); the taskmanager's
poll records verified_at once its engine answers, or the reason when it
fails, never touching the backup otherwise, and deletes the instance;
one drill per backup, one poller ends each."""
import datetime

import fixtures

from trove_clone.common import statuses
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import backup_drills
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base


class RecordingTasks:

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def create_instance(self, context, instance_id: str,
                        request: dict) -> None:
        self.calls.append(('create_instance', instance_id, request))

    def delete_instance(self, context, instance_id: str) -> None:
        self.calls.append(('delete_instance', instance_id))


class DrillTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version()
        self.source = self.make_instance(
            self.version, tenant_id=self.project, server_status='ACTIVE',
            volume_size=1)
        db_instances.set_task(self.context, self.source, statuses.NONE)
        db_instances.record_heartbeat(self.context, self.source,
                                      statuses.HEALTHY, 1.0)
        db_backups.create(self.context, {
            'id': 'bk', 'name': 'bk', 'tenant_id': self.project,
            'instance_id': self.source,
            'datastore_version_id': self.version['id'],
            'storage_driver': 'local', 'metadata': {}},
            {'backups': 10, 'instances': 10, 'ram': 100000,
             'volumes': 100})
        db_backups.set_state(self.context, 'bk', db_backups.COMPLETED,
                             size=0.1, location='local:///c/bk',
                             checksum='0' * 32)
        db_instances.end_action(self.context, self.source,
                                statuses.BACKING_UP, statuses.NONE)
        self.tasks = RecordingTasks()
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.backups.tasks',
            lambda: self.tasks))

    def verify(self, status: int = 202):
        return self.send('POST', '/backups/bk/action', {'verify': {}},
                         status=status)

    def throwaway(self) -> str:
        return db_backups.get(self.context, 'bk')['verify_instance_id']

    def usage(self) -> int:
        return {item['resource']: item['in_use'] for item in
                quotas.show(self.context, self.project)}['instances']

    def test_success_records_verified_at_and_deletes_the_instance(self):
        before = db_backups.get(self.context, 'bk')
        self.verify()
        instance_id = self.throwaway()
        self.assertEqual(('create_instance', instance_id,
                          {'databases': [], 'users': [], 'modules': [],
                           'backup_id': 'bk'}), self.tasks.calls[0])
        # The throwaway counts in the project's instances while it lives.
        self.assertEqual(1, self.usage())
        view = self.get('/backups/bk').json['backup']
        self.assertTrue(view['verifying'])
        self.assertIsNone(view['verified_at'])
        # A second drill waits for this one.
        self.verify(status=422)
        # Not ready yet: nothing ends.
        now = datetime.datetime.utcnow()
        self.assertEqual([], backup_drills.poll(self.context, self.tasks,
                                                now))
        db_instances.set_task(self.context, instance_id, statuses.NONE,
                              server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 2.0)
        self.assertEqual(['bk'], backup_drills.poll(self.context,
                                                    self.tasks, now))
        # Ended once: a second poller finds nothing.
        self.assertEqual([], backup_drills.poll(self.context, self.tasks,
                                                now))
        self.assertIn(('delete_instance', instance_id), self.tasks.calls)
        view = self.get('/backups/bk').json['backup']
        self.assertTrue(view['verified_at'])
        self.assertNotIn('verifying', view)
        self.assertNotIn('verify_fault', view)
        after = db_backups.get(self.context, 'bk')
        for column in ('state', 'size', 'location', 'checksum', 'updated'):
            self.assertEqual(before[column], after[column], column)

    def test_failure_records_the_reason_only(self) -> None:
        before = db_backups.get(self.context, 'bk')
        self.verify()
        instance_id = self.throwaway()
        db_instances.fail(self.context, instance_id,
                          statuses.BUILDING_ERROR_SERVER,
                          'Building the instance failed at step guest',
                          'record 3 is corrupt')
        self.assertEqual(['bk'], backup_drills.poll(
            self.context, self.tasks, datetime.datetime.utcnow()))
        view = self.get('/backups/bk').json['backup']
        self.assertIn('record 3 is corrupt', view['verify_fault'])
        self.assertIsNone(view['verified_at'])
        self.assertEqual('COMPLETED', view['status'])
        self.assertEqual(before['updated'],
                         db_backups.get(self.context, 'bk')['updated'])
        self.assertIn(('delete_instance', instance_id), self.tasks.calls)

    def test_timeout_and_deleted_instance(self) -> None:
        self.verify()
        started = db_backups.get(self.context, 'bk')['verify_started']
        late = started + datetime.timedelta(hours=1)
        self.assertEqual(['bk'], backup_drills.poll(self.context,
                                                    self.tasks, late))
        self.assertIn('did not answer', db_backups.get(
            self.context, 'bk')['verify_fault'])
        ended, fault = backup_drills.outcome(None, started, started)
        self.assertTrue(ended)
        self.assertIn('deleted', fault)

    def test_refusals(self) -> None:
        self.send('POST', '/backups/bk/action', {'verify': {'x': 1}},
                  status=400)
        self.send('POST', '/backups/bk/action', {'check': {}}, status=400)
        self.send('POST', '/backups/nope/action', {'verify': {}},
                  status=404)
        db_backups.set_state(self.context, 'bk', db_backups.FAILED)
        response = self.verify(status=422)
        self.assertIn('COMPLETED', response.json[
            'unprocessableEntity']['message'])
        self.assertEqual([], self.tasks.calls)
