"""The swift backup storage driver against a fake swiftclient connection
that behaves as Swift with its SLO middleware does (the functional test
TestSwiftStorage runs the driver against a real Swift)."""
import hashlib
import json
import urllib.parse
from unittest import mock

from oslo_config import fixture as config_fixture
from swiftclient import exceptions as swift_exc
import testtools

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers.backup_storage import swift

URL = 'http://swift.test:8080/v1/AUTH_p1'


def not_found(path: str) -> swift_exc.ClientException:
    return swift_exc.ClientException('Object GET failed', http_status=404,
                                     http_path=path)


class FakeConnection:
    """Containers of objects in memory; records what it was asked."""

    def __init__(self, url: str = URL, fail_put_after: int | None = None,
                 status: int | None = None) -> None:
        self.url = url
        self.token = 'token'
        self.containers: dict[str, dict[str, dict]] = {}
        self.puts: list[tuple[str, str, int]] = []
        self.largest_chunk = 0
        self.fail_put_after = fail_put_after
        self.status = status

    def _refuse(self) -> None:
        if self.status:
            raise swift_exc.ClientException('refused',
                                            http_status=self.status)

    def get_auth(self):
        return self.url, self.token

    def put_container(self, container: str) -> None:
        self._refuse()
        self.containers.setdefault(container, {})

    def put_object(self, container, name, contents, headers=None,
                   query_string=None, content_type=None, **kwargs):
        self._refuse()
        if container not in self.containers:
            raise not_found(container)
        if self.fail_put_after is not None and len(
                self.puts) >= self.fail_put_after:
            raise swift_exc.ClientException('Object PUT failed',
                                            http_status=503)
        if isinstance(contents, (bytes, str)):
            data = contents.encode() if isinstance(contents, str) \
                else contents
        else:
            parts = []
            for piece in contents:
                self.largest_chunk = max(self.largest_chunk, len(piece))
                parts.append(piece)
            data = b''.join(parts)
        self.puts.append((container, name, len(data)))
        meta = {key.lower(): urllib.parse.unquote(value)
                for key, value in (headers or {}).items()}
        record = {'data': data, 'headers': meta}
        if query_string == 'multipart-manifest=put':
            entries = json.loads(data)
            for entry in entries:
                segment = self._get(*entry['path'].lstrip('/').split('/', 1))
                assert hashlib.md5(segment['data']).hexdigest() == \
                    entry['etag'], entry
                assert len(segment['data']) == entry['size_bytes'], entry
            record['manifest'] = entries
        self.containers[container][name] = record
        return hashlib.md5(data).hexdigest()

    def _get(self, container, name) -> dict:
        try:
            return self.containers[container][name]
        except KeyError:
            raise not_found('/%s/%s' % (container, name)) from None

    def _body(self, record) -> bytes:
        if 'manifest' not in record:
            return record['data']
        return b''.join(
            self._get(*entry['path'].lstrip('/').split('/', 1))['data']
            for entry in record['manifest'])

    def _headers(self, record) -> dict:
        headers = dict(record['headers'])
        headers['content-length'] = str(len(self._body(record)))
        if 'manifest' in record:
            headers['x-static-large-object'] = 'True'
        return headers

    def get_object(self, container, name, resp_chunk_size=None,
                   query_string=None):
        self._refuse()
        record = self._get(container, name)
        if query_string == 'multipart-manifest=get' and 'manifest' in record:
            listing = [{'name': entry['path'], 'hash': entry['etag'],
                        'bytes': entry['size_bytes']}
                       for entry in record['manifest']]
            return (dict(record['headers'], **{
                'x-static-large-object': 'True'}),
                json.dumps(listing).encode())
        body = self._body(record)
        size = resp_chunk_size or len(body) or 1
        return self._headers(record), iter(
            [body[at:at + size] for at in range(0, len(body), size)])

    def head_object(self, container, name, query_string=None):
        self._refuse()
        return self._headers(self._get(container, name))

    def delete_object(self, container, name, query_string=None):
        self._refuse()
        record = self._get(container, name)
        if query_string == 'multipart-manifest=delete' and \
                'manifest' in record:
            for entry in record['manifest']:
                segment_container, segment = entry['path'].lstrip(
                    '/').split('/', 1)
                self.containers[segment_container].pop(segment, None)
        del self.containers[container][name]


def chunks(size: int, chunk: int = 1000):
    """``size`` bytes (a repeating pattern) in chunks of ``chunk``."""
    pattern = bytes(range(251)) * (chunk // 251 + 2)
    sent = 0
    while sent < size:
        piece = pattern[sent % 251:sent % 251 + min(chunk, size - sent)]
        sent += len(piece)
        yield piece


def data(size: int) -> bytes:
    return b''.join(chunks(size))


class SwiftStorageTest(testtools.TestCase):

    def storage(self, connection=None, **options) -> swift.SwiftStorage:
        options.setdefault('storage_url', URL)
        options.setdefault('token', 'token')
        storage = swift.SwiftStorage(dict(options, driver='swift'))
        storage._connection = connection or FakeConnection()
        return storage

    def test_save_segments_the_stream(self) -> None:
        connection = FakeConnection()
        storage = self.storage(connection, segment_size=4096)
        saved = storage.save('backups', 'b1.xbstream.zst', chunks(10000),
                             metadata={'lsn': 1234, 'Format': 'xb'})
        self.assertEqual({'location': URL + '/backups/b1.xbstream.zst',
                          'size': 10000,
                          'checksum': hashlib.md5(data(10000)).hexdigest()},
                         saved)
        segments = sorted(connection.containers['backups_segments'].items())
        self.assertEqual([4096, 4096, 1808],
                         [len(record['data']) for _, record in segments])
        self.assertTrue(all(name.startswith('b1.xbstream.zst/')
                            for name, _ in segments))
        # Each chunk went on as it came: never a whole segment at once.
        self.assertEqual(1000, connection.largest_chunk)
        self.assertEqual(data(10000), b''.join(
            storage.load(saved['location'], chunk_size=3000)))
        self.assertEqual({'lsn': 1234, 'format': 'xb', 'size': 10000,
                          'checksum': saved['checksum']},
                         storage.metadata(saved['location']))

    def test_segment_boundary_and_empty_stream(self) -> None:
        connection = FakeConnection()
        storage = self.storage(connection, segment_size=1000)
        saved = storage.save('c', 'exact', chunks(3000, 1000))
        self.assertEqual(3, len(connection.containers['c_segments']))
        self.assertEqual(data(3000), b''.join(storage.load(
            saved['location'])))
        empty = storage.save('c', 'empty', iter([]))
        self.assertEqual(hashlib.md5(b'').hexdigest(), empty['checksum'])
        self.assertEqual(0, empty['size'])
        self.assertEqual(b'', b''.join(storage.load(empty['location'])))

    def test_checksum_is_of_the_stream_not_the_manifest(self) -> None:
        storage = self.storage(segment_size=100)
        saved = storage.save('c', 'o', [b'a' * 250])
        self.assertEqual(hashlib.md5(b'a' * 250).hexdigest(),
                         saved['checksum'])
        self.assertEqual(saved['checksum'],
                         storage.metadata(saved['location'])['checksum'])

    def test_delete_removes_segments_and_manifest(self) -> None:
        connection = FakeConnection()
        storage = self.storage(connection, segment_size=100)
        saved = storage.save('c', 'o', chunks(1000, 64))
        self.assertEqual(10, len(connection.containers['c_segments']))
        storage.delete(saved['location'])
        self.assertEqual({}, connection.containers['c_segments'])
        self.assertEqual({}, connection.containers['c'])
        # Idempotent.
        storage.delete(saved['location'])
        self.assertRaises(exception.BackupNotFound, storage.load,
                          saved['location'])
        # The local driver's exception too, with its message.
        error = self.assertRaises(exception.BackupFileNotFound,
                                  storage.load, saved['location'])
        self.assertIn('was not found in the object storage', error.message)
        self.assertRaises(exception.BackupNotFound, storage.metadata,
                          saved['location'])

    def test_overwrite_removes_the_old_segments(self) -> None:
        connection = FakeConnection()
        storage = self.storage(connection, segment_size=100)
        storage.save('c', 'o', chunks(300))
        saved = storage.save('c', 'o', chunks(150))
        self.assertEqual(2, len(connection.containers['c_segments']))
        self.assertEqual(data(150), b''.join(storage.load(
            saved['location'])))

    def test_failed_upload_leaves_nothing(self) -> None:
        connection = FakeConnection(fail_put_after=2)
        storage = self.storage(connection, segment_size=100)
        error = self.assertRaises(exception.BackupStorageError, storage.save,
                                  'c', 'o', chunks(1000))
        self.assertIn('503', str(error))
        self.assertEqual({}, connection.containers['c_segments'])
        self.assertEqual({}, connection.containers['c'])

    def test_failing_stream_is_raised_as_it_is(self) -> None:
        connection = FakeConnection()
        storage = self.storage(connection, segment_size=100)

        def broken():
            yield b'x' * 250
            raise ValueError('mariadb-backup exited 1')

        error = self.assertRaises(ValueError, storage.save, 'c', 'o',
                                  broken())
        self.assertEqual('mariadb-backup exited 1', str(error))
        self.assertEqual({}, connection.containers['c_segments'])

    def test_forbidden_is_a_storage_error(self) -> None:
        storage = self.storage(FakeConnection(status=403))
        error = self.assertRaises(exception.BackupStorageError,
                                  storage.load, URL + '/c/o')
        self.assertIn('HTTP 403', str(error))
        self.assertRaises(exception.BackupStorageError, storage.save, 'c',
                          'o', [b'x'])
        self.assertRaises(exception.BackupStorageError, storage.delete,
                          URL + '/c/o')

    def test_unreachable_is_a_storage_error(self) -> None:
        connection = FakeConnection()
        connection.head_object = mock.Mock(
            side_effect=ConnectionRefusedError(111, 'Connection refused'))
        error = self.assertRaises(exception.BackupStorageError,
                                  self.storage(connection).metadata,
                                  URL + '/c/o')
        self.assertIn('Connection refused', str(error))

    def test_location_of_another_account_is_refused(self) -> None:
        storage = self.storage()
        error = self.assertRaises(
            exception.BackupStorageError, storage.load,
            'http://swift.test:8080/v1/AUTH_other/c/o')
        self.assertIn('not an object of the Swift account', str(error))
        # Another host name of the same account is the same account.
        storage.save('c', 'dir/o b', [b'abc'])
        self.assertEqual(b'abc', b''.join(storage.load(
            'https://internal.test/v1/AUTH_p1/c/dir/o%20b')))

    def test_metadata_keys_and_values(self) -> None:
        headers = swift.SwiftStorage._meta_headers(
            {'wal_position': '0/3000060', 'Size': 1, 'n.x': [1, 2]})
        self.assertEqual({'X-Object-Meta-wal%5Fposition': '"0/3000060"',
                          'X-Object-Meta-n%2Ex': '[1, 2]'}, headers)
        self.assertRaises(exception.BackupStorageError,
                          swift.SwiftStorage._meta_headers, {'k': 'v' * 300})
        self.assertEqual('plain', swift.decode_value('plain'))

    def test_options_need_a_token_and_url_or_credentials(self) -> None:
        error = self.assertRaises(
            exception.BackupStorageError,
            swift.SwiftStorage({'driver': 'swift', 'token': 't'}).connection)
        self.assertIn('storage_url', str(error))
        error = self.assertRaises(
            exception.BackupStorageError,
            swift.SwiftStorage({'driver': 'swift',
                                'auth_url': 'http://k/v3'}).connection)
        self.assertIn('username, password', str(error))

    def test_entry_point(self) -> None:
        from stevedore import driver
        manager = driver.DriverManager('trove_clone.drivers.backup_storage',
                                       'swift')
        self.assertIs(swift.SwiftStorage, manager.driver)


class OptionsFromConfTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.conf = self.useFixture(config_fixture.Config(CONF))
        self.context = trove_context.TroveContext(
            project_id='p9', auth_token='user-token')

    def test_user_token_and_swift_url(self) -> None:
        self.conf.config(swift_url='http://s:8080/v1/AUTH_',
                         backup_segment_max_size=5 * 1024 ** 2)
        self.assertEqual(
            {'driver': 'swift', 'token': 'user-token',
             'storage_url': 'http://s:8080/v1/AUTH_p9',
             'segment_size': 5 * 1024 ** 2, 'insecure': False},
            swift.options_from_conf(self.context))

    def test_service_token_and_catalog(self) -> None:
        self.conf.config(backup_swift_auth='service')
        session = mock.Mock()
        session.get_token.return_value = 'service-token'
        session.get_endpoint.return_value = 'http://s/v1/AUTH_service-id'
        with mock.patch.object(swift.openstack_auth, 'session',
                               return_value=session):
            options = swift.options_from_conf(self.context)
        self.assertEqual('service-token', options['token'])
        self.assertEqual('http://s/v1/AUTH_p9', options['storage_url'])
        self.assertNotIn('password', options)
        session.get_endpoint.assert_called_once_with(
            service_type='object-store', interface='public',
            region_name='RegionOne')

    def test_catalog_endpoint_without_account(self) -> None:
        session = mock.Mock()
        session.get_endpoint.return_value = 'http://s/v1'
        self.context.auth_token = None
        with mock.patch.object(swift.openstack_auth, 'session',
                               return_value=session):
            error = self.assertRaises(exception.BackupStorageError,
                                      swift.options_from_conf, self.context)
        self.assertIn('set swift_url', str(error))

    def test_the_requests_catalog_in_either_shape(self) -> None:
        v2 = [{'type': 'object-store', 'endpoints': [
            {'region': 'Other', 'publicURL': 'http://x/v1/AUTH_p9'},
            {'region': 'RegionOne', 'publicURL': 'http://s/v1/AUTH_p9/',
             'internalURL': 'http://i/v1/AUTH_p9'}]}]
        v3 = [{'type': 'object-store', 'endpoints': [
            {'region': 'RegionOne', 'interface': 'internal',
             'url': 'http://i/v1/AUTH_p9'},
            {'region': 'RegionOne', 'interface': 'public',
             'url': 'http://s/v1/AUTH_p9'}]}]
        for catalog in (v2, v3):
            self.context.service_catalog = catalog
            self.assertEqual('http://s/v1/AUTH_p9',
                             swift.options_from_conf(self.context)[
                                 'storage_url'])
