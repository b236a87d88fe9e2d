"""Loop-mounted local volumes: a real ext4 filesystem of the volume's size."""
import errno
import os
import subprocess

import fixtures
from oslo_config import fixture as config_fixture
import testtools

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers.volume import local
from trove_clone.tests.unit.drivers import contracts
from trove_clone.tests.unit.drivers import test_volume_local

MB = 1024 * 1024


class LoopVolumeTest(test_volume_local.VolumeContract,
                     contracts.VolumeApiContract, testtools.TestCase):

    pool = 3

    def setUp(self) -> None:
        super().setUp()
        if not local.loop_mounts_work():
            self.fail('loop mounts are not possible here: run as root')
        CONF([], project='trove', default_config_files=[])
        self.useFixture(config_fixture.Config(CONF)).config(
            volume_pool_gb=self.pool, group='local')
        state = self.useFixture(fixtures.TempDir()).path
        self.driver = self.volumes = local.LocalVolumeDriver(state, 'loop')
        self.addCleanup(self._leftovers, state)

    def _leftovers(self, state: str) -> None:
        mounts = open('/proc/mounts').read()
        self.assertNotIn(state, mounts)

    def test_full_disk_at_the_size_and_data_survives_growth(self) -> None:
        volume = self.driver.attach(self.driver.create(1, 'full')['id'],
                                    'server-1')
        path = os.path.join(volume['mountpoint'], 'fill')
        error = None
        with open(path, 'wb') as data:
            chunk = b'\0' * (8 * MB)
            try:
                for _ in range(200):
                    data.write(chunk)
                    data.flush()
                    os.fsync(data.fileno())
            except OSError as caught:
                error = caught
        self.assertIsNotNone(error, 'a 1 GB volume took 1.6 GB')
        self.assertEqual(errno.ENOSPC, error.errno)
        written = os.path.getsize(path)
        self.assertGreater(written, 900 * MB)
        self.driver.detach(volume['id'])
        grown = self.driver.attach(
            self.driver.extend(volume['id'], 2)['id'], 'server-1')
        self.assertEqual(written, os.path.getsize(
            os.path.join(grown['mountpoint'], 'fill')))
        self.assertGreater(self.driver.usage(volume['id'])['total'],
                           1900 * MB)
        mounts = subprocess.run(['findmnt', '-n', grown['mountpoint']],
                                capture_output=True, text=True).stdout
        self.assertIn('ext4', mounts)
        self.driver.detach(volume['id'])
        self.driver.delete(volume['id'])

    def test_an_extend_killed_mid_way_is_finished_by_the_next(self) -> None:
        """A taskmanager killed during an extend leaves the filesystem
        unmounted and half-grown (and maybe a tool running); the resumed
        flow extends to the same size again and must end mounted, grown,
        with the data."""
        volume = self.driver.attach(self.driver.create(1, 'grow')['id'],
                                    'server-1')
        with open(os.path.join(volume['mountpoint'], 'rows'), 'wb') as rows:
            rows.write(b'r' * (3 * MB))
        image = os.path.join(self.driver.root, volume['id'], 'disk.img')
        # The first extend got as far as starting resize2fs, which was
        # killed with its process: unmounted, file grown, fs not.
        record = self.driver._load(volume['id'])
        record['extending'] = {'size': 2, 'mounted': True}
        self.driver._save(record)
        subprocess.run(['umount', volume['mountpoint']], check=True)
        subprocess.run(['truncate', '-s', str(2 * 1024 * MB), image],
                       check=True)
        resize = subprocess.Popen(['resize2fs', image],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        resize.kill()
        resize.wait()
        grown = self.driver.extend(volume['id'], 2)
        self.assertEqual(2, grown['size'])
        self.assertTrue(os.path.ismount(volume['mountpoint']),
                        'the data is not mounted again after the extend')
        self.assertNotIn('extending', self.driver._load(volume['id']))
        self.assertGreater(self.driver.usage(volume['id'])['total'],
                           1900 * MB)
        with open(os.path.join(volume['mountpoint'], 'rows'), 'rb') as rows:
            self.assertEqual(b'r' * (3 * MB), rows.read())
        # Asked again (the flow resumed after the driver finished): still
        # refused by the driver, but the flow's task checks the size first.
        self.assertRaises(exception.BadRequest, self.driver.extend,
                          volume['id'], 2)
        self.driver.detach(volume['id'])
        self.driver.delete(volume['id'])
