"""The backup stream: compressed and encrypted on the way in, verified
(record tags, MD5) on the way out; tampering, truncation and a wrong key
are refused with the reason."""
import os

import fixtures

from trove_clone.common import exception
from trove_clone.drivers.backup_storage import local
from trove_clone.guestagent import backup_stream
from trove_clone.tests.unit import base

KEY = bytes(range(32))


def stream(data: bytes, key: bytes = KEY, chunk: int = 1000) -> bytes:
    return b''.join(backup_stream.encrypt(
        [data[i:i + 777] for i in range(0, len(data), 777)], key, chunk))


def plain(encrypted: bytes, key: bytes = KEY) -> bytes:
    return b''.join(backup_stream.decrypt(
        [encrypted[i:i + 333] for i in range(0, len(encrypted), 333)], key,
        'b1'))


class EncryptionTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.data = os.urandom(5000)

    def refused(self, encrypted: bytes, reason: str,
                key: bytes = KEY) -> None:
        error = self.assertRaises(exception.RestoreBackupIntegrityError,
                                  plain, encrypted, key)
        self.assertIn('Backup b1 cannot be restored: ', error.message)
        self.assertIn(reason, error.message)

    def test_round_trip(self) -> None:
        encrypted = stream(self.data)
        self.assertNotIn(self.data[:32], encrypted)
        self.assertEqual(self.data, plain(encrypted))
        self.assertEqual(b'', plain(stream(b'')))
        # A new salt each time: the same data never encrypts the same.
        self.assertNotEqual(encrypted, stream(self.data))

    def test_tampering_is_refused(self) -> None:
        encrypted = bytearray(stream(self.data))
        encrypted[len(encrypted) // 2] ^= 1
        self.refused(bytes(encrypted), 'corrupt')

    def test_truncation_is_refused(self) -> None:
        encrypted = stream(self.data)
        self.refused(encrypted[:-1], 'truncated')
        # Cut exactly at a record boundary: the last record is missing.
        record = 5 + 1000 + backup_stream.TAG_BYTES
        self.refused(encrypted[:backup_stream.HEADER_BYTES + 2 * record],
                     'truncated')
        self.refused(encrypted[:10], 'not a trove_clone backup')

    def test_reordered_records_are_refused(self) -> None:
        encrypted = stream(self.data)
        head = backup_stream.HEADER_BYTES
        record = 5 + 1000 + backup_stream.TAG_BYTES
        first = encrypted[head:head + record]
        second = encrypted[head + record:head + 2 * record]
        swapped = (encrypted[:head] + second + first +
                   encrypted[head + 2 * record:])
        self.refused(swapped, 'corrupt')

    def test_trailing_bytes_are_refused(self) -> None:
        self.refused(stream(self.data) + b'x', 'after its last record')

    def test_a_wrong_key_is_named(self) -> None:
        self.refused(stream(self.data), 'another key',
                     key=bytes(32))

    def test_keys_must_be_32_bytes_of_base64(self) -> None:
        self.assertEqual(KEY, backup_stream.decode_key(
            'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='))
        for bad in ('', 'not base64!', 'AAEC'):
            self.assertRaises(backup_stream.StreamError,
                              backup_stream.decode_key, bad)

    def test_a_failing_source_never_gets_a_last_record(self) -> None:
        def source():
            yield b'x' * 10
            raise RuntimeError('tool died')

        out = []
        self.assertRaises(RuntimeError,
                          lambda: out.extend(backup_stream.encrypt(
                              source(), KEY)))
        self.assertEqual(1, len(out))


class PipelineTest(base.TestCase):
    """save and restore with real programs (cat, sh, zstd)."""

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        self.storage = local.LocalStorage({'driver': 'local',
                                           'root': self.work + '/store'})
        self.source = os.path.join(self.work, 'source')
        self.data = os.urandom(300000) + b'compressible ' * 200000
        with open(self.source, 'wb') as out:
            out.write(self.data)

    def save(self) -> dict:
        return backup_stream.save(
            backup_stream.Command(['cat', self.source], 'cat'),
            self.storage, 'c', 'o', KEY, {'backup_id': 'b1'})

    def restore(self, result: dict, checksum: str | None = None) -> bytes:
        target = os.path.join(self.work, 'restored')
        backup_stream.restore(
            self.storage, result['location'],
            checksum or result['checksum'], KEY,
            backup_stream.Command(['sh', '-c', 'cat > %s' % target],
                                  'cat'), 'b1')
        with open(target, 'rb') as restored:
            return restored.read()

    def test_round_trip_compressed(self) -> None:
        result = self.save()
        self.assertLess(result['size'], len(self.data) // 2)
        self.assertEqual(self.data, self.restore(result))

    def test_python_writer_and_reader(self) -> None:
        result = backup_stream.save(
            backup_stream.Writer(lambda out: out.write(self.data), 'w'),
            self.storage, 'c', 'o2', KEY)
        received = []
        backup_stream.restore(
            self.storage, result['location'], result['checksum'], KEY,
            backup_stream.Reader(lambda source: received.append(
                source.read()), 'r'))
        self.assertEqual(self.data, b''.join(received))

    def test_a_failing_tool_stores_nothing(self) -> None:
        error = self.assertRaises(
            backup_stream.StreamError, backup_stream.save,
            backup_stream.Command(['sh', '-c', 'echo partial; echo no '
                                   'space >&2; exit 3'], 'the tool'),
            self.storage, 'c', 'o', KEY)
        self.assertEqual('the tool failed (exit 3): no space', error.message)
        self.assertEqual([], os.listdir(os.path.join(self.work, 'store',
                                                     'c')))

    def test_checksum_mismatch_is_refused(self) -> None:
        result = self.save()
        error = self.assertRaises(
            exception.RestoreBackupIntegrityError, self.restore, result,
            '0' * 32)
        self.assertIn('checksum', error.message)

    def test_a_failing_consumer_is_reported(self) -> None:
        result = self.save()
        error = self.assertRaises(
            backup_stream.StreamError, backup_stream.restore,
            self.storage, result['location'], result['checksum'], KEY,
            backup_stream.Command(['sh', '-c', 'echo bad archive >&2; '
                                   'exit 2'], 'tar -x'))
        self.assertIn('tar -x failed (exit 2): bad archive', error.message)
