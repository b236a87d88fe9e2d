"""A real engine backed up into the real Swift and restored from it:
the guest's backup capability with the ``swift`` storage driver, options
as the control host sends them (the project's token and account URL), the
stream cut into several SLO segments; a segment changed in Swift fails
the restore and leaves the new data directory empty; a Swift that does
not answer fails the backup with the storage's reason."""
import os

import redis
from swiftclient import client as swift_client

from trove_clone.common import exception
from trove_clone.drivers import backup_storage
from trove_clone.guestagent.capabilities import backup
from trove_clone.localstack import keystone as keystone_service
from trove_clone.localstack import swift as swift_service
from trove_clone.tests.functional.guestagent import test_backup
from trove_clone.tests.functional import fixtures as trove_fixtures

CONTAINER = test_backup.CONTAINER


class RedisSwiftBackupTest(test_backup._BackupTest):

    datastore = 'redis'
    manager = 'redis'
    version = '7.0'
    lifecycle_class = test_backup.redis_lifecycle.RedisLifecycle
    address = '127.77.154.1'

    def setUp(self) -> None:
        super().setUp()
        keystone = self.useFixture(keystone_service.KeystoneFixture())
        self.keystone = keystone.keystone
        self.swift = self.useFixture(
            swift_service.SwiftFixture(self.keystone)).swift
        self.addCleanup(trove_fixtures.keep_logs, self.swift.state_dir)
        user = self.keystone.create_project_user('project-a', 'alice',
                                                 'alice-pw')
        self.token = self.keystone.token('alice', 'alice-pw', 'project-a')
        self.account = self.swift.account_url(user['project_id'])
        # 64 KiB segments: a few hundred KB of backup makes several.
        self.storage_options = {'driver': 'swift', 'token': self.token,
                                'storage_url': self.account,
                                'segment_size': 64 * 1024}
        self.storage = backup_storage.load(self.storage_options)

    def create(self, backup_id: str, parent: dict | None = None) -> dict:
        info = {'id': backup_id, 'instance_id': 'i-1', 'name': backup_id,
                'datastore': self.manager, 'datastore_version': self.version,
                'incremental': parent is not None, 'parent': parent,
                'storage': self.storage_options, 'container': CONTAINER,
                'encryption_key': self.key}
        result = self.capability(self.engine).create(info)
        self.assertEqual('%s/%s/%s' % (
            self.account, CONTAINER,
            self.capability(self.engine).object_name(info)),
            result['location'])
        self.assertEqual(result['checksum'], self.storage.metadata(
            result['location'])['checksum'])
        return dict(result, id=backup_id)

    def segments(self) -> list[dict]:
        return swift_client.get_container(self.account, self.token,
                                          CONTAINER + '_segments')[1]

    def test_backup_restore_through_swift(self) -> None:
        self.engine.prepare()
        client = self.engine.client(timeout=5)
        self.addCleanup(client.close)
        # Incompressible, so that the stored stream spans segments.
        value = os.urandom(300 * 1024)
        client.set('blob', value)
        client.set('k1', 'one')
        client.execute_command('ACL', 'SETUSER', 'app', 'on', '>app-pw',
                               '~*', '&*', '+@all')
        full = self.create('full-1')
        segments = self.segments()
        self.assertGreaterEqual(len(segments), 5)
        self.assertEqual(sum(entry['bytes'] for entry in segments),
                         self.storage.metadata(full['location'])['size'])

        restored = self.restore([full])
        app = redis.Redis(host=self.address, port=6379, username='app',
                          password='app-pw', socket_timeout=5)
        self.addCleanup(app.close)
        self.assertEqual([value, b'one'], app.mget('blob', 'k1'))
        restored.stop()

        # A segment changed behind the manifest's back: Swift stops the
        # stream, the restore fails and writes nothing.
        name = segments[len(segments) // 2]['name']
        _, data = swift_client.get_object(self.account, self.token,
                                          CONTAINER + '_segments', name)
        swift_client.put_object(self.account, self.token,
                                CONTAINER + '_segments', name,
                                bytes([data[0] ^ 0x40]) + data[1:])
        engine = self.fresh()
        error = self.assertRaises(
            (exception.RestoreBackupIntegrityError,
             exception.BackupStorageError, backup.BackupFailed),
            self.capability(engine).restore, {
                'id': 'full-1', 'chain': [{
                    name: full[name] for name in (
                        'id', 'location', 'checksum', 'metadata')}],
                'storage': self.storage_options,
                'encryption_key': self.key})
        self.assertEqual([], os.listdir(engine.data_dir)
                         if os.path.isdir(engine.data_dir) else [])
        self.assertIn('Swift failed after', error.message)

        # Swift gone: a backup fails with the storage's reason.
        restored.start()
        self.engine = restored
        self.swift.stop(remove=False)
        error = self.assertRaises(exception.BackupStorageError,
                                  self.create, 'full-2')
        self.assertIn('Swift', error.message)
