"""Point-in-time recovery end to end, through python-troveclient, for
PostgreSQL and MariaDB (one deployment for both): rows before a full
backup, rows before the target second T, rows a second after T; once the
recoverable window passes the last rows, a restore to T has the rows
before T and not those after. Malformed, future and out-of-window
restore times are refused with 400 naming restore_time. The PostgreSQL
test also runs a restore drill of its base backup (verified_at recorded,
the throwaway instance deleted)."""
import calendar
import time

from troveclient import exceptions

from trove_clone.tests.functional import test_backups_e2e as e2e

#: How long the window may take to pass the last write (shipments every
#: pitr_ship_interval = 1 s, on a loaded machine).
WINDOW_WAIT = 120


def iso(moment: float) -> str:
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(moment))


def epoch(shown: str) -> float:
    """A view timestamp ('2026-12-07T15:00:00', UTC) as UNIX time."""
    return calendar.timegm(time.strptime(shown[:19], '%Y-%m-%dT%H:%M:%S'))


class PointInTimeRecoveryTest(e2e.BackupEndToEndTest):

    address_pool = '127.77.164.0/28'
    datastores = ('postgresql', 'mariadb')
    extra_conf = '\n'.join(['pitr_enabled = postgresql:*, mariadb:*',
                            'pitr_ship_interval = 1',
                            'backup_schedule_interval = 2'])

    # The backup round trips run in test_backups_e2e; not again here.
    test_mariadb = test_postgresql = test_redis = None
    test_a_corrupted_backup_is_not_restored = None

    def wait_window(self, instance_id: str, past: float) -> tuple:
        deadline = time.monotonic() + WINDOW_WAIT
        while True:
            shown = self.trove.instances.get(instance_id)._info
            until = shown.get('restorable_until')
            if until and epoch(until) > past:
                return epoch(shown['restorable_from']), epoch(until)
            self.assertLess(time.monotonic(), deadline,
                            'restorable_until %s never passed %s'
                            % (until, iso(past)))
            time.sleep(0.5)

    def refused(self, backup_id: str, restore_time) -> str:
        error = self.assertRaises(
            exceptions.BadRequest, self.trove.instances.create,
            'pitr-refused', '1', volume={'size': 1},
            datastore=self.current,
            restorePoint={'backupRef': backup_id,
                          'restore_time': restore_time})
        self.assertIn('restore_time', str(error))
        return str(error)

    def point_in_time(self, datastore: str) -> None:
        self.current = datastore
        source = self.create(datastore, 'pitr-%s' % datastore)
        self.write(datastore, source, 'a-before-backup')
        full = self.backup(source, 'base')
        self.write(datastore, source, 'b-before-target')
        # T: a whole second at least one second after the last write
        # before it; the next write comes a second after T.
        target = int(time.time()) + 2
        while time.time() < target + 1.2:
            time.sleep(0.1)
        self.write(datastore, source, 'c-after-target')
        written = time.time()
        first, until = self.wait_window(source, written)
        self.assertLessEqual(first, target)
        self.refused(full.id, 'yesterday')
        self.refused(full.id, iso(time.time() + 3600))
        self.assertIn('outside the recoverable window',
                      self.refused(full.id, iso(first - 60)))
        if datastore == 'postgresql':
            # A restore drill of the base backup, building beside the
            # restore to T.
            self.trove.client.post('/backups/%s/action' % full.id,
                                   body={'verify': {}})
        restored = self.create_at(datastore, full.id, iso(target))
        self.assertEqual(['a-before-backup', 'b-before-target'],
                         self.read(datastore, restored))
        self.assertEqual(['a-before-backup', 'b-before-target',
                          'c-after-target'], self.read(datastore, source))
        if datastore == 'postgresql':
            self.wait_verified(full.id)

    def wait_verified(self, backup_id: str) -> None:
        deadline = time.monotonic() + e2e.WAIT
        while True:
            shown = self.trove.backups.get(backup_id)._info
            if shown.get('verified_at') or shown.get('verify_fault'):
                break
            self.assertLess(time.monotonic(), deadline, shown)
            time.sleep(0.5)
        self.assertIsNone(shown.get('verify_fault'))
        self.assertEqual('COMPLETED', shown['status'])
        # The throwaway instance goes.
        deadline = time.monotonic() + e2e.WAIT
        while any(item.name == 'verify-%s' % backup_id
                  for item in self.trove.instances.list()):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)

    def create_at(self, datastore: str, backup_id: str,
                  restore_time: str) -> str:
        instance = self.trove.instances.create(
            'pitr-restored-%s' % datastore, '1', volume={'size': 1},
            datastore=datastore,
            restorePoint={'backupRef': backup_id,
                          'restore_time': restore_time})
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        self.wait_active(instance.id)
        return instance.id

    def test_postgresql_point_in_time(self) -> None:
        self.point_in_time('postgresql')

    def test_mariadb_point_in_time(self) -> None:
        self.point_in_time('mariadb')
