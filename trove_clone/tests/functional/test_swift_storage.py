"""The swift backup storage driver against a real Swift (proxy with
keystonemiddleware and keystoneauth, account/container/object servers on
a directory device) and a real Keystone, as trovestack runs them."""
import hashlib

from oslo_config import fixture as config_fixture
from swiftclient import client as swift_client
import testtools

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers import openstack_auth
from trove_clone.drivers.backup_storage import swift
from trove_clone.localstack import keystone as keystone_service
from trove_clone.localstack import swift as swift_service
from trove_clone.tests.functional import base
from trove_clone.tests.functional import fixtures as trove_fixtures

MB = 1024 ** 2


def stream(size: int, chunk: int = MB):
    """``size`` bytes that differ from chunk to chunk."""
    sent = 0
    while sent < size:
        piece = hashlib.sha256(str(sent).encode()).digest() * (chunk // 32)
        piece = piece[:min(chunk, size - sent)]
        sent += len(piece)
        yield piece


class SwiftStorageTest(testtools.TestCase):
    """Keystone with two member projects, Swift in its catalog."""

    @classmethod
    def _use(cls, fixture):
        fixture.setUp()
        cls._fixtures.append(fixture)
        return fixture

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls._fixtures = []
        try:
            cls.keystone = cls._use(
                keystone_service.KeystoneFixture()).keystone
            cls.swift = cls._use(
                swift_service.SwiftFixture(cls.keystone)).swift
            cls.alice = cls.keystone.create_project_user(
                'project-a', 'alice', 'alice-pw')
            cls.bob = cls.keystone.create_project_user(
                'project-b', 'bob', 'bob-pw')
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        if getattr(cls, 'swift', None) is not None:
            # The servers' logs, when TROVE_CLONE_TEST_KEEP_LOGS is set.
            trove_fixtures.keep_logs(cls.swift.state_dir)
        while cls._fixtures:
            cls._fixtures.pop().cleanUp()
        super().tearDownClass()

    def credentials(self, user: dict) -> dict:
        """Options that log ``user`` in (the storage URL from the
        catalog)."""
        return {'driver': 'swift', 'auth_url': self.keystone.url,
                'username': user['username'], 'password': user['password'],
                'project_name': user['project_name'],
                'region_name': keystone_service.REGION}

    def token_options(self, user: dict, account_of: dict) -> dict:
        """Options with ``user``'s token on ``account_of``'s account, as
        the control host sends guests."""
        return {'driver': 'swift',
                'token': self.keystone.token(user['username'],
                                             user['password'],
                                             user['project_name']),
                'storage_url': self.swift.account_url(
                    account_of['project_id'])}

    def test_segmented_backup_round_trip(self) -> None:
        storage = swift.SwiftStorage(dict(self.credentials(self.alice),
                                          segment_size=5 * MB))
        size = 25 * MB
        expected = hashlib.md5(usedforsecurity=False)
        for piece in stream(size):
            expected.update(piece)
        saved = storage.save('database_backups', 'b1.xbstream.zst.enc',
                             stream(size), metadata={
                                 'lsn': 8812345, 'format': 'xbstream',
                                 'WAL_position': '0/3000060'})
        self.assertEqual(
            {'location': self.swift.account_url(self.alice['project_id'])
             + '/database_backups/b1.xbstream.zst.enc',
             'size': size, 'checksum': expected.hexdigest()}, saved)
        # Five segments and an SLO manifest, in alice's account.
        token = self.keystone.token('alice', 'alice-pw', 'project-a')
        url = self.swift.account_url(self.alice['project_id'])
        _, segments = swift_client.get_container(
            url, token, 'database_backups_segments')
        self.assertEqual([5 * MB] * 5, [entry['bytes']
                                        for entry in segments])
        headers = swift_client.head_object(url, token, 'database_backups',
                                           'b1.xbstream.zst.enc')
        self.assertEqual('True', headers['x-static-large-object'])
        # Loaded back byte for byte, by a driver made from a token.
        reader = swift.SwiftStorage(self.token_options(self.alice,
                                                       self.alice))
        loaded = hashlib.md5(usedforsecurity=False)
        length = 0
        for piece in reader.load(saved['location']):
            loaded.update(piece)
            length += len(piece)
        self.assertEqual((size, expected.hexdigest()),
                         (length, loaded.hexdigest()))
        # Keys come back lower-case, underscores kept.
        self.assertEqual({'lsn': 8812345, 'format': 'xbstream',
                          'wal_position': '0/3000060',
                          'size': size, 'checksum': expected.hexdigest()},
                         reader.metadata(saved['location']))
        # The openstack CLI sees the deployment's Swift through the
        # catalog.
        listed = base.run_cli(
            self, base.cli_env(self.keystone.url, self.alice),
            ('openstack', 'object', 'list', 'database_backups', '-f',
             'value', '-c', 'Name'))
        self.assertEqual(['b1.xbstream.zst.enc'], listed.split())
        reader.delete(saved['location'])
        reader.delete(saved['location'])
        self.assertRaises(exception.BackupNotFound, reader.load,
                          saved['location'])
        self.assertRaises(exception.BackupNotFound, reader.metadata,
                          saved['location'])
        _, segments = swift_client.get_container(
            url, token, 'database_backups_segments')
        self.assertEqual([], segments)

    def test_another_project_cannot_read(self) -> None:
        storage = swift.SwiftStorage(self.token_options(self.alice,
                                                        self.alice))
        saved = storage.save('private_backups', 'b2', [b'secret rows'])
        intruder = swift.SwiftStorage(self.token_options(self.bob,
                                                         self.alice))
        for action in (intruder.load, intruder.metadata, intruder.delete):
            error = self.assertRaises(exception.BackupStorageError, action,
                                      saved['location'])
            self.assertIn('HTTP 403', str(error))
        # Bob's own account is another one: the location is not in it.
        own = swift.SwiftStorage(self.token_options(self.bob, self.bob))
        self.assertRaises(exception.BackupStorageError, own.load,
                          saved['location'])
        self.assertEqual(b'secret rows',
                         b''.join(storage.load(saved['location'])))
        # A reseller admin (the service user's role) reads every account.
        admin = {'username': 'admin', 'project_name': 'admin',
                 'password': self.keystone.admin_password}
        reseller = swift.SwiftStorage(self.token_options(admin, self.alice))
        self.assertEqual(b'secret rows',
                         b''.join(reseller.load(saved['location'])))
        self.assertIn('private_backups', base.run_cli(
            self, base.cli_env(self.keystone.url, self.alice),
            ('openstack', 'container', 'list', '-f', 'value')).split())

    def test_options_from_conf_with_the_service_user(self) -> None:
        """The control host's options: a token of [service_credentials]
        (a reseller admin) and the project's account from the catalog;
        the project's user reads what was stored with them."""
        CONF([], project='trove', default_config_files=[])
        conf = self.useFixture(config_fixture.Config(CONF))
        conf.config(backup_swift_auth='service')
        conf.config(auth_url=self.keystone.url, username='admin',
                    password=self.keystone.admin_password,
                    project_name='admin', group='service_credentials')
        openstack_auth.session.cache_clear()
        self.addCleanup(openstack_auth.session.cache_clear)
        context = trove_context.TroveContext(
            project_id=self.alice['project_id'], auth_token='ignored')
        options = swift.options_from_conf(context)
        self.assertEqual(self.swift.account_url(self.alice['project_id']),
                         options['storage_url'])
        self.assertNotIn('password', options)
        saved = swift.SwiftStorage(options).save('service_backups', 'b3',
                                                 [b'by the service'])
        alice = swift.SwiftStorage(self.token_options(self.alice,
                                                      self.alice))
        self.assertEqual(b'by the service',
                         b''.join(alice.load(saved['location'])))
