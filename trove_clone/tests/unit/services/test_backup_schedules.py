"""Scheduled backups: set through PATCH (400 naming the field), shown in
instance show, one run per due time among several taskmanagers (the
conditional UPDATE of the next run), a busy instance skips a run, and
only the scheduled full backups beyond ``keep`` are deleted."""
import datetime

from trove_clone.common import statuses
from trove_clone.db import backup_schedules as db_schedules
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import backup_schedules
from trove_clone.tests.unit.api import base

NOW = datetime.datetime(2026, 12, 7, 2, 59, 30)
DAILY = {'cron': '0 3 * * *', 'keep': 2}


class RecordingTasks:

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def create_backup(self, context, backup_id: str,
                      instance_id: str) -> None:
        self.calls.append(('create_backup', backup_id, instance_id))

    def delete_backup(self, context, backup_id: str) -> None:
        self.calls.append(('delete_backup', backup_id))


class ScheduleTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version()
        self.instance_id = self.make_instance(
            self.version, tenant_id=self.project, server_status='ACTIVE')
        db_instances.set_task(self.context, self.instance_id, statuses.NONE)
        db_instances.record_heartbeat(self.context, self.instance_id,
                                      statuses.HEALTHY, 1.0)
        self.tasks = RecordingTasks()

    def schedule(self, spec=DAILY, now=NOW) -> None:
        row = db_instances.get(self.context, self.instance_id)
        backup_schedules.set_schedule(self.context, row, spec, now)

    def finish_all(self) -> None:
        for row in db_backups.list_page(self.context, None, 100):
            if row['state'] == db_backups.NEW:
                db_backups.set_state(self.context, row['id'],
                                     db_backups.COMPLETED)
        db_instances.end_action(self.context, self.instance_id,
                                statuses.BACKING_UP, statuses.NONE)

    def test_patch_sets_shows_and_removes(self) -> None:
        path = '/instances/%s' % self.instance_id
        self.send('PATCH', path, {'instance': {'backup_schedule': DAILY}})
        shown = self.get(path).json['instance']['backup_schedule']
        self.assertEqual('0 3 * * *', shown['cron'])
        self.assertEqual(2, shown['keep'])
        self.assertTrue(shown['next_run'])
        for bad, field in (({'cron': '0 3 * *', 'keep': 2}, 'cron'),
                           ({'cron': '61 * * * *', 'keep': 2}, 'cron'),
                           ({'cron': '0 3 * * *', 'keep': 0}, 'keep'),
                           ({'cron': '0 3 * * *'}, 'keep'),
                           ('daily', 'backup_schedule')):
            response = self.send('PATCH', path, {'instance': {
                'backup_schedule': bad}}, status=400)
            self.assertIn(field, response.json['badRequest']['message'])
        self.assertEqual(shown, self.get(path).json['instance'][
            'backup_schedule'])
        self.send('PATCH', path, {'instance': {'backup_schedule': None}})
        self.assertNotIn('backup_schedule',
                         self.get(path).json['instance'])

    def test_one_runner_takes_each_due_run(self) -> None:
        self.schedule()
        self.assertEqual([], backup_schedules.run_due(self.context,
                                                      self.tasks, NOW))
        due_at = NOW + datetime.timedelta(minutes=1)
        # Two taskmanagers found the same run due; the first claim wins.
        [row] = db_schedules.due(self.context, due_at)
        following = datetime.datetime(2026, 12, 8, 3, 0)
        self.assertTrue(db_schedules.claim(self.context, self.instance_id,
                                           row['next_run'], following))
        self.assertFalse(db_schedules.claim(self.context, self.instance_id,
                                            row['next_run'], following))
        self.assertEqual([], backup_schedules.run_due(self.context,
                                                      self.tasks, due_at))
        taken = backup_schedules.run_due(
            self.context, self.tasks, following)
        self.assertEqual([self.instance_id], taken)
        [backup] = db_backups.list_page(self.context, None, 10)
        self.assertEqual(backup_schedules.DESCRIPTION,
                         backup['description'])
        self.assertIsNone(backup['parent_id'])
        self.assertEqual(self.project, backup['tenant_id'])
        self.assertIn(('create_backup', backup['id'], self.instance_id),
                      self.tasks.calls)
        # The next run moved on a day: nothing due again now.
        self.assertEqual([], backup_schedules.run_due(
            self.context, self.tasks, following))

    def test_a_busy_instance_skips_the_run(self) -> None:
        self.schedule()
        db_instances.set_task(self.context, self.instance_id,
                              statuses.REBOOTING)
        self.assertEqual([self.instance_id], backup_schedules.run_due(
            self.context, self.tasks, NOW + datetime.timedelta(minutes=1)))
        self.assertEqual([], db_backups.list_page(self.context, None, 10))

    def test_retention_keeps_the_newest_scheduled_fulls(self) -> None:
        self.schedule()
        manual = self.backup_of('manual', description='mine')
        moment = NOW
        for _day in range(4):
            moment += datetime.timedelta(days=1)
            backup_schedules.run_due(self.context, self.tasks, moment)
            self.finish_all()
        rows = db_backups.list_page(self.context, None, 100)
        scheduled = [row['id'] for row in rows
                     if row['description'] == backup_schedules.DESCRIPTION]
        deleted = [call[1] for call in self.tasks.calls
                   if call[0] == 'delete_backup']
        # Each run counts the COMPLETED ones (the new backup may still
        # fail): at the fourth run three were, the oldest went.
        self.assertEqual(4, len(scheduled))
        self.assertEqual([scheduled[-1]], deleted)
        # With the fourth completed, the two oldest are beyond keep (the
        # delete flow removes rows; the recording tasks do not), never
        # the user's own backup.
        self.assertEqual(scheduled[2:], backup_schedules.expire(
            self.context, self.instance_id, 2, self.tasks))
        self.assertNotIn(manual, [call[1] for call in self.tasks.calls])

    def backup_of(self, name: str, description: str) -> str:
        db_backups.create(self.context, {
            'id': name, 'name': name, 'description': description,
            'tenant_id': self.project, 'instance_id': self.instance_id,
            'datastore_version_id': self.version['id'],
            'storage_driver': 'local', 'metadata': {}}, {'backups': 50})
        self.finish_all()
        return name
