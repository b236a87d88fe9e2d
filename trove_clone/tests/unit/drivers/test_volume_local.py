"""The local volume driver with the directory backend."""
import os
import subprocess

import fixtures

from trove_clone.common import exception
from trove_clone.drivers.volume import local
from trove_clone.tests.unit import base
from trove_clone.tests.unit.drivers import contracts


class VolumeContract:
    """What every volume driver promises; mixed into backend tests."""

    def test_lifecycle(self) -> None:
        volume = self.driver.create(1, 'data-1')
        self.assertEqual('available', volume['status'])
        self.assertEqual([volume['id']], [v['id'] for v in
                                          self.driver.list()])
        attached = self.driver.attach(volume['id'], 'server-1')
        self.assertEqual('in-use', attached['status'])
        path = os.path.join(attached['mountpoint'], 'table.ibd')
        with open(path, 'wb') as data:
            data.write(b'x' * 4096 * 16)
        usage = self.driver.usage(volume['id'])
        self.assertGreaterEqual(usage['used'], 4096 * 16)
        self.assertLessEqual(usage['total'], 1024 ** 3)
        self.driver.detach(volume['id'])
        grown = self.driver.extend(volume['id'], 2)
        self.assertEqual(2, grown['size'])
        attached = self.driver.attach(volume['id'], 'server-1')
        with open(os.path.join(attached['mountpoint'], 'table.ibd'),
                  'rb') as data:
            self.assertEqual(b'x' * 4096 * 16, data.read())
        self.driver.detach(volume['id'])
        self.driver.delete(volume['id'])
        self.assertEqual([], self.driver.list())
        self.assertEqual(['.lock'], os.listdir(self.driver.root))

    def test_bad_input_creates_nothing(self) -> None:
        self.assertRaises(exception.VolumeLimitExceeded, self.driver.create,
                          self.pool + 1, 'too-big')
        self.assertRaises(exception.BadRequest, self.driver.create, 0, 'x')
        self.assertEqual([], self.driver.list())
        self.assertRaises(exception.VolumeNotFound, self.driver.get,
                          'nosuch')
        volume = self.driver.create(1, 'v')
        self.assertRaises(exception.BadRequest, self.driver.extend,
                          volume['id'], 1)
        self.assertRaises(exception.VolumeLimitExceeded, self.driver.extend,
                          volume['id'], self.pool + 1)
        self.driver.attach(volume['id'], 'a')
        self.assertRaises(exception.BadRequest, self.driver.attach,
                          volume['id'], 'b')
        self.driver.detach(volume['id'])
        self.driver.delete(volume['id'])


class DirectoryVolumeTest(VolumeContract, contracts.VolumeApiContract,
                          base.TestCase):

    pool = 3

    def setUp(self) -> None:
        super().setUp()
        self.conf.config(volume_pool_gb=self.pool, group='local')
        state = self.useFixture(fixtures.TempDir()).path
        self.driver = self.volumes = local.LocalVolumeDriver(state,
                                                             'directory')

    def test_volume_record_is_private(self) -> None:
        volume = self.driver.create(1, 'data-1')
        record = os.path.join(self.driver.root, volume['id'], 'volume.json')
        self.assertEqual(0o600, os.stat(record).st_mode & 0o777)


class HalfMadeVolumeTest(base.TestCase):

    def test_a_volume_whose_creator_died_shows_error(self) -> None:
        driver = local.LocalVolumeDriver(
            self.useFixture(fixtures.TempDir()).path, 'directory')
        volume = driver.create(1, 'data-1')
        record = driver._load(volume['id'])
        self.assertEqual(os.getpid(), record['creator'])
        self.assertNotIn('creator', volume)
        dead = subprocess.Popen(['true'])
        dead.wait()
        record.update(status='creating', creator=dead.pid)
        driver._save(record)
        self.assertEqual('error', driver.get(volume['id'])['status'])
        record['creator'] = os.getpid()
        driver._save(record)
        self.assertEqual('creating', driver.get(volume['id'])['status'])
