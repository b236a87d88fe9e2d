"""The local backup storage: objects in files, atomic, private, and only
under its root whatever names it is given."""
import os
import stat

import fixtures

from trove_clone.common import exception
from trove_clone.drivers import backup_storage
from trove_clone.drivers.backup_storage import local
from trove_clone.tests.unit import base


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


class LocalStorageTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.root = os.path.join(self.useFixture(fixtures.TempDir()).path,
                                 'backups')
        self.storage = backup_storage.load({'driver': 'local',
                                            'root': self.root})

    def test_loaded_through_the_entry_point(self) -> None:
        self.assertIsInstance(self.storage, local.LocalStorage)

    def test_loader_refuses_unknown_or_missing_drivers(self) -> None:
        for options in ({}, {'driver': 'nosuch'}, None,
                        {'driver': 'local'},
                        {'driver': 'local', 'root': 'relative'}):
            self.assertRaises(exception.BackupStorageError,
                              backup_storage.load, options)

    def test_save_load_metadata_delete(self) -> None:
        result = self.storage.save('db_backups', 'b1.enc',
                                   iter([b'abc', b'', b'def']),
                                   {'backup_id': 'b1'})
        self.assertEqual({'location': 'local:///db_backups/b1.enc',
                          'size': 6,
                          'checksum': 'e80b5017098950fc58aad83c8c14978e'},
                         result)
        self.assertEqual(b'abcdef', b''.join(
            self.storage.load(result['location'], chunk_size=2)))
        self.assertEqual({'backup_id': 'b1', 'size': 6,
                          'checksum': result['checksum']},
                         self.storage.metadata(result['location']))
        path = os.path.join(self.root, 'db_backups', 'b1.enc')
        self.assertEqual(0o600, mode(path))
        self.assertEqual(0o600, mode(path + '.meta.json'))
        self.assertEqual(0o700, mode(os.path.dirname(path)))
        self.storage.delete(result['location'])
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(path + '.meta.json'))
        # Deleting again is not an error.
        self.storage.delete(result['location'])
        self.assertRaises(exception.BackupFileNotFound,
                          self.storage.load, result['location'])
        self.assertRaises(exception.BackupFileNotFound,
                          self.storage.metadata, result['location'])

    def test_a_failing_stream_leaves_nothing(self) -> None:
        def chunks():
            yield b'partial'
            raise RuntimeError('the tool died')

        self.assertRaises(RuntimeError, self.storage.save, 'c', 'o',
                          chunks())
        self.assertEqual([], os.listdir(os.path.join(self.root, 'c')))

    def test_unsafe_names_are_refused_before_any_write(self) -> None:
        for container, name in (('..', 'o'), ('a/b', 'o'), ('/etc', 'o'),
                                ('.', 'o'), ('c', '../o'), ('c', '/tmp/o'),
                                ('c', '.hidden'), ('c', 'o.meta.json'),
                                ('c', ''), ('', 'o'), ('c', 'a\nb'),
                                ('c', 'x' * 300)):
            self.assertRaises(exception.BackupStorageError,
                              self.storage.save, container, name,
                              iter([b'x']))
        self.assertFalse(os.path.exists(self.root))

    def test_unsafe_locations_are_refused(self) -> None:
        for location in ('local:///../etc/passwd', 'local:///a/b/c',
                         'local:///%2E%2E/x', 'local:///c/%2E%2E',
                         'local:///c%2F..%2F..%2Fetc/passwd',
                         'swift://host/c/o', 'local:///c', None):
            self.assertRaises(exception.BackupStorageError,
                              self.storage.load, location)
            self.assertRaises(exception.BackupStorageError,
                              self.storage.delete, location)

    def test_a_link_out_of_the_root_is_refused(self) -> None:
        outside = self.useFixture(fixtures.TempDir()).path
        os.makedirs(self.root)
        os.symlink(outside, os.path.join(self.root, 'evil'))
        self.assertRaises(exception.BackupStorageError, self.storage.save,
                          'evil', 'o', iter([b'x']))
        self.assertEqual([], os.listdir(outside))
