"""Point-in-time recovery rules: which versions have it, the window of
an instance, restore_time checks (400 naming the field) and the choice
of the base backup."""
import datetime

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import backups as db_backups
from trove_clone.db import instances as db_instances
from trove_clone.services import pitr
from trove_clone.tests.unit.api import base

T0 = datetime.datetime(2026, 12, 2, 10, 0, 0)


class PitrTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.version = self.make_version('postgresql', '16',
                                         manager='postgresql')
        self.instance_id = self.make_instance(
            self.version, tenant_id=self.project, server_status='ACTIVE')
        db_instances.record_heartbeat(self.context, self.instance_id,
                                      statuses.HEALTHY, 1.0)
        self.conf.config(pitr_enabled=['postgresql:*'])

    def base_backup(self, backup_id: str, finished: datetime.datetime,
                    shipped: bool = True, parent: str | None = None) -> dict:
        db_instances.set_task(self.context, self.instance_id, statuses.NONE)
        metadata = {'finished_at': finished.strftime(pitr.TIME_FORMAT)}
        if shipped:
            metadata['pitr'] = {'container': 'box', 'prefix': 'pitr_x_'}
        db_backups.create(self.context, {
            'id': backup_id, 'name': backup_id, 'tenant_id': self.project,
            'instance_id': self.instance_id, 'parent_id': parent,
            'datastore_version_id': self.version['id'],
            'storage_driver': 'local', 'metadata': metadata},
            {'backups': 10})
        db_backups.set_state(self.context, backup_id, db_backups.COMPLETED)
        return db_backups.get(self.context, backup_id)

    def check(self, backup: dict, text: str,
              now: datetime.datetime = T0 + datetime.timedelta(hours=1)):
        return pitr.check_restore_point(self.context, backup, text, now)

    def test_enabled_per_version(self) -> None:
        version = dict(self.version)
        self.assertTrue(pitr.enabled(version))
        self.conf.config(pitr_enabled=['postgresql:15'])
        self.assertFalse(pitr.enabled(version))
        self.conf.config(pitr_enabled=['postgresql:16'])
        self.assertTrue(pitr.enabled(version))
        self.conf.config(pitr_enabled=['redis:*'])
        self.assertFalse(pitr.enabled(dict(version, manager='redis',
                                           datastore_name='redis')))

    def test_shipping_only_for_full_backups(self) -> None:
        info = pitr.shipping(self.version, 'i1', 'box', full=True)
        self.assertEqual({'container': 'box', 'prefix': 'pitr_i1_',
                          'interval': 5}, info)
        self.assertIsNone(pitr.shipping(self.version, 'i1', 'box',
                                        full=False))
        self.conf.config(pitr_enabled=[])
        self.assertIsNone(pitr.shipping(self.version, 'i1', 'box',
                                        full=True))

    def test_until_of_heartbeat(self) -> None:
        sent = T0.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertEqual(T0 - datetime.timedelta(seconds=3), pitr.until_of(
            {'pitr_until': sent - 3}, sent))
        # Never after the heartbeat itself.
        self.assertEqual(T0, pitr.until_of({'pitr_until': sent + 60}, sent))
        for bad in (None, 'x', True, float('nan'), -1):
            self.assertIsNone(pitr.until_of({'pitr_until': bad}, sent))

    def test_window_and_base_choice(self) -> None:
        first = self.base_backup('b1', T0)
        self.base_backup('b2', T0 + datetime.timedelta(minutes=10))
        self.base_backup('inc', T0 + datetime.timedelta(minutes=15),
                         parent='b2')
        self.base_backup('plain', T0 + datetime.timedelta(minutes=20),
                         shipped=False)
        instance = db_instances.get(self.context, self.instance_id)
        self.assertEqual((None, None), pitr.window(self.context, instance))
        until = T0 + datetime.timedelta(minutes=30)
        db_instances.record_restorable_until(self.context, self.instance_id,
                                             until)
        # Never moves back.
        self.assertFalse(db_instances.record_restorable_until(
            self.context, self.instance_id, T0))
        instance = db_instances.get(self.context, self.instance_id)
        self.assertEqual((T0, until), pitr.window(self.context, instance))
        self.assertEqual(('b1', '2026-12-02T10:05:00Z'),
                         self.check(first, '2026-12-02T10:05:00Z'))
        self.assertEqual(('b2', '2026-12-02T10:29:59Z'),
                         self.check(first, '2026-12-02T10:29:59+00:00'))
        self.assertEqual(('b2', '2026-12-02T10:10:00Z'),
                         self.check(first, '2026-12-02T10:10:00Z'))

    def test_restore_time_refused_naming_it(self) -> None:
        first = self.base_backup('b1', T0)
        db_instances.record_restorable_until(
            self.context, self.instance_id, T0 + datetime.timedelta(
                minutes=5))
        for text in ('2026-12-02 10:01:00', '2026-12-02T10:01:00+02:00',
                     '2026-12-02T10:01:00.5Z', '2026-13-02T10:01:00Z', 42,
                     '2026-12-02T09:59:59Z', '2026-12-02T10:05:01Z',
                     '2026-12-02T12:00:00Z'):
            error = self.assertRaises(exception.BadRequest, self.check,
                                      first, text)
            self.assertIn('restore_time', error.message)
        error = self.assertRaises(exception.BadRequest, self.check, first,
                                  '2026-12-02T11:00:01Z')
        self.assertIn('future', error.message)

    def test_no_window_refused(self) -> None:
        plain = self.base_backup('plain', T0, shipped=False)
        error = self.assertRaises(exception.BadRequest, self.check, plain,
                                  '2026-12-02T10:00:00Z')
        self.assertIn('restore_time', error.message)
        self.assertIn('cannot be restored to a point in time', error.message)

    def test_replay_info(self) -> None:
        self.base_backup('b1', T0)
        self.assertEqual({'target': '2026-12-02T10:00:00Z',
                          'container': 'box', 'prefix': 'pitr_x_'},
                         pitr.replay_info(self.context, 'b1',
                                          '2026-12-02T10:00:00Z'))
