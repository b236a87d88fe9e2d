"""The stream of a backup: an engine's tool → zstd → encryption → storage,
and back.

A backup is never copied whole onto the instance's volume: the engine's
backup tool writes to a pipe that ``zstd -1 -T0`` (measured: ~430 MB/s
on two cores, faster than the engines' tools; level 3 is 1.4 times
slower for 6 % less) reads, and the agent reads zstd's output in 1 MiB
chunks, encrypts each and hands it to the storage driver's ``save``.
Memory stays bounded by a few chunks.

The encrypted format (version 1)::

    header  = b'TCBK' | 0x01 | salt (16 bytes) | key check (16 bytes)
    record  = flag (1 byte: 0 more, 1 last) | length (4 bytes, big
              endian, of the plaintext) | AES-256-GCM ciphertext + tag

Each backup has its own key, HKDF-SHA256 of the deployment's key and the
random salt; record *n* is sealed with the nonce *n* (96 bits, big
endian) and authenticates its flag and length, so records cannot be
reordered, dropped, changed or cut off (the stream must end with the
last-flagged record and nothing after it). The key check (HMAC-SHA256 of
the deployment's key over the salt) tells a wrong key from a corrupt
object.

A restore reads the object back with ``load``, checks the header, each
record's tag and, at the end, the MD5 of the stored bytes against the
checksum recorded at backup time, writing decrypted bytes only to
``zstd -d`` and the engine's extraction tool in a scratch directory: the
caller moves the result into the data directory only once
:func:`restore` has returned. Any mismatch raises
:class:`~trove_clone.common.exception.RestoreBackupIntegrityError`
naming the reason.
"""
import base64
import hashlib
import hmac
import os
import shutil
import struct
import subprocess
import tempfile
import threading
import typing

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from oslo_log import log as logging

from trove_clone.common import exception

LOG = logging.getLogger(__name__)

MAGIC = b'TCBK'
VERSION = 1
SALT_BYTES = 16
CHECK_BYTES = 16
HEADER_BYTES = len(MAGIC) + 1 + SALT_BYTES + CHECK_BYTES
TAG_BYTES = 16
#: The plaintext of one record (at most).
CHUNK = 1 << 20
_RECORD = struct.Struct('>BI')
#: What zstd is run with to compress (see the module docstring).
ZSTD_LEVEL = '-1'
#: How much of a tool's stderr a failure reports.
ERROR_TAIL = 400


class StreamError(exception.TroveError):
    """A backup or restore tool failed; the message has its words."""


def decode_key(encoded: str) -> bytes:
    """The 32-byte key of ``encoded`` (base64); StreamError otherwise."""
    try:
        key = base64.b64decode(encoded, validate=True)
    except (TypeError, ValueError):
        key = b''
    if len(key) != 32:
        raise StreamError('the backup encryption key is not 32 bytes of '
                          'base64')
    return key


def _derive(key: bytes, salt: bytes) -> tuple[AESGCM, bytes]:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt,
                   info=b'trove_clone backup v1').derive(key)
    check = hmac.new(key, b'key check' + salt, 'sha256').digest()
    return AESGCM(derived), check[:CHECK_BYTES]


def _nonce(counter: int) -> bytes:
    return counter.to_bytes(12, 'big')


def encrypt(chunks: typing.Iterable[bytes], key: bytes,
            chunk_size: int = CHUNK) -> typing.Iterator[bytes]:
    """The encrypted stream of ``chunks`` (re-cut to ``chunk_size``); the
    last record is emitted only once ``chunks`` is exhausted without an
    error, so a failing source never makes a complete-looking object."""
    salt = os.urandom(SALT_BYTES)
    cipher, check = _derive(key, salt)
    yield MAGIC + bytes([VERSION]) + salt + check
    counter = 0
    pending = b''

    def record(data: bytes, last: bool) -> bytes:
        head = _RECORD.pack(1 if last else 0, len(data))
        return head + cipher.encrypt(_nonce(counter), data, head)

    for chunk in chunks:
        pending += chunk
        while len(pending) >= chunk_size:
            yield record(pending[:chunk_size], False)
            counter += 1
            pending = pending[chunk_size:]
    yield record(pending, True)


class _Reader:
    """Exact-size reads over an iterator of chunks."""

    def __init__(self, chunks: typing.Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = bytearray()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def decrypt(chunks: typing.Iterable[bytes], key: bytes,
            backup_id: str = '') -> typing.Iterator[bytes]:
    """The plaintext of an encrypted stream, record by record, each only
    once its tag verified.

    :raises exception.RestoreBackupIntegrityError: not this format, a
        wrong key, a record that does not verify, a truncated stream,
        bytes after the last record
    """
    def refuse(reason: str) -> exception.RestoreBackupIntegrityError:
        return exception.RestoreBackupIntegrityError(backup_id=backup_id,
                                                     reason=reason)

    reader = _Reader(chunks)
    header = reader.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES or header[:len(MAGIC)] != MAGIC:
        raise refuse('the object is not a trove_clone backup stream')
    if header[len(MAGIC)] != VERSION:
        raise refuse('unknown backup stream version %d'
                     % header[len(MAGIC)])
    salt = header[len(MAGIC) + 1:len(MAGIC) + 1 + SALT_BYTES]
    cipher, check = _derive(key, salt)
    if not hmac.compare_digest(check, header[-CHECK_BYTES:]):
        raise refuse('it was encrypted with another key than this '
                     "deployment's")
    counter = 0
    while True:
        head = reader.read(_RECORD.size)
        if len(head) < _RECORD.size:
            raise refuse('the object is truncated (record %d missing)'
                         % counter)
        flag, length = _RECORD.unpack(head)
        if flag not in (0, 1) or length > 64 * CHUNK:
            raise refuse('record %d has a corrupt header' % counter)
        sealed = reader.read(length + TAG_BYTES)
        if len(sealed) < length + TAG_BYTES:
            raise refuse('the object is truncated (in record %d)' % counter)
        try:
            plain = cipher.decrypt(_nonce(counter), sealed, head)
        except InvalidTag:
            raise refuse('record %d is corrupt (its authentication tag '
                         'does not verify)' % counter)
        if plain:
            yield plain
        if flag == 1:
            break
        counter += 1
    if reader.read(1):
        raise refuse('the object has bytes after its last record')


def zstd_program() -> str:
    return shutil.which('zstd') or '/usr/bin/zstd'


def _tail(path_or_file) -> str:
    path_or_file.seek(0, os.SEEK_END)
    path_or_file.seek(max(path_or_file.tell() - ERROR_TAIL, 0))
    text = path_or_file.read().decode('utf-8', 'replace').strip()
    return ' '.join(text.split())


class Command:
    """A program of a pipeline: its stderr kept in a temporary file for
    the error message.

    :param argv: the program and its arguments
    :param what: how messages name it
    :param popen: more subprocess arguments (user, group, cwd, env)
    """

    def __init__(self, argv: list[str], what: str, **popen) -> None:
        self.argv, self.what, self.popen = argv, what, popen
        self.process: subprocess.Popen | None = None
        self._stderr = None
        #: The end of its stderr, once finished.
        self.stderr_text = ''

    def start(self, stdin=subprocess.DEVNULL,
              stdout=subprocess.DEVNULL) -> subprocess.Popen:
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.argv, stdin=stdin,
                                        stdout=stdout, stderr=self._stderr,
                                        **self.popen)
        return self.process

    def finish(self, timeout: float | None = None) -> None:
        """Wait for the program; StreamError with its stderr on failure."""
        try:
            code = self.process.wait(timeout)
            self.stderr_text = _tail(self._stderr)
            if code:
                raise StreamError('%s failed (exit %d): %s' % (
                    self.what, code, self.stderr_text))
        finally:
            self._stderr.close()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()


class Writer:
    """A producer written in Python: ``write(file)`` writes the stream to
    a pipe from a thread (Redis' archive); its error ends the backup."""

    def __init__(self, write: typing.Callable[[typing.BinaryIO], None],
                 what: str) -> None:
        self.write, self.what = write, what
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start_reader(self) -> int:
        """Start writing; returns the pipe's read end (the caller's)."""
        read_end, write_end = os.pipe()

        def run() -> None:
            try:
                with os.fdopen(write_end, 'wb') as out:
                    self.write(out)
            except BaseException as error:  # noqa: B902 - reported later
                self.error = error

        self._thread = threading.Thread(target=run, name=self.what,
                                        daemon=True)
        self._thread.start()
        return read_end

    def finish(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        if self.error is not None:
            raise StreamError('%s failed: %s' % (self.what, self.error))

    def kill(self) -> None:
        """The thread ends with a broken pipe once its reader is gone."""


#: What writes a backup stream: a program, or Python code in a thread.
Producer = Command | Writer


def save(producer: Producer, storage, container: str, name: str,
         key: bytes, metadata: dict | None = None) -> dict:
    """Stream ``producer``'s output, compressed and encrypted, into object
    ``name`` of ``container``.

    :returns: what ``storage.save`` returns (location, size, checksum)
    :raises StreamError: the producer or zstd failed (nothing stored)
    :raises exception.BackupStorageError: the storage failed
    """
    zstd = Command([zstd_program(), ZSTD_LEVEL, '-T0', '-q', '-c'], 'zstd')
    try:
        if isinstance(producer, Writer):
            source = producer.start_reader()
            try:
                zstd.start(stdin=source, stdout=subprocess.PIPE)
            finally:
                os.close(source)
        else:
            output = producer.start(stdout=subprocess.PIPE).stdout
            try:
                zstd.start(stdin=output, stdout=subprocess.PIPE)
            finally:
                output.close()

        def compressed() -> typing.Iterator[bytes]:
            while True:
                chunk = zstd.process.stdout.read(CHUNK)
                if not chunk:
                    break
                yield chunk
            zstd.process.stdout.close()
            producer.finish()
            zstd.finish()

        return storage.save(container, name, encrypt(compressed(), key),
                            metadata)
    finally:
        zstd.kill()
        producer.kill()


class Reader:
    """A consumer written in Python: ``read(file)`` reads the restored
    stream from a pipe in a thread (Redis' archive)."""

    def __init__(self, read: typing.Callable[[typing.BinaryIO], None],
                 what: str) -> None:
        self.read, self.what = read, what
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start_writer(self) -> int:
        """Start reading; returns the pipe's write end (zstd's stdout)."""
        read_end, write_end = os.pipe()

        def run() -> None:
            try:
                with os.fdopen(read_end, 'rb') as source:
                    self.read(source)
                    # Drain, so that zstd never blocks on a full pipe.
                    while source.read(CHUNK):
                        pass
            except BaseException as error:  # noqa: B902 - reported later
                self.error = error

        self._thread = threading.Thread(target=run, name=self.what,
                                        daemon=True)
        self._thread.start()
        return write_end

    def finish(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise StreamError('%s did not finish' % self.what)
        if self.error is not None:
            raise StreamError('%s failed: %s' % (self.what, self.error))

    def kill(self) -> None:
        """The thread ends once zstd, its writer, is gone."""


#: What reads a restored stream: a program, or Python code in a thread.
Consumer = Command | Reader


def restore(storage, location: str, checksum: str | None, key: bytes,
            consumer: Consumer, backup_id: str = '') -> None:
    """Read the object at ``location``, verify it and feed its plaintext
    to ``consumer`` (which extracts it into a scratch directory).

    :raises exception.RestoreBackupIntegrityError: wrong key, corrupt or
        truncated object, MD5 not ``checksum``; the consumer may have
        written part of it: the caller discards its scratch directory
    :raises StreamError: zstd or the consumer failed
    :raises exception.BackupFileNotFound, BackupStorageError: from
        the storage
    """
    zstd = Command([zstd_program(), '-d', '-q', '-c'], 'zstd -d')
    digest = hashlib.md5(usedforsecurity=False)

    def counted() -> typing.Iterator[bytes]:
        for chunk in storage.load(location):
            digest.update(chunk)
            yield chunk

    try:
        if isinstance(consumer, Reader):
            sink = consumer.start_writer()
            try:
                zstd.start(stdin=subprocess.PIPE, stdout=sink)
            finally:
                os.close(sink)
        else:
            zstd.start(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            try:
                consumer.start(stdin=zstd.process.stdout)
            finally:
                zstd.process.stdout.close()
        broken = False
        for plain in decrypt(counted(), key, backup_id):
            if broken:
                continue
            try:
                zstd.process.stdin.write(plain)
            except BrokenPipeError:
                # zstd or the consumer gave up: their error says why,
                # once the rest of the object is verified.
                broken = True
        if checksum and digest.hexdigest() != checksum:
            raise exception.RestoreBackupIntegrityError(
                backup_id=backup_id,
                reason='its checksum is %s, %s was recorded' % (
                    digest.hexdigest(), checksum))
        try:
            zstd.process.stdin.close()
        except BrokenPipeError:
            pass
        # The consumer first: when it gives up, zstd fails on a broken
        # pipe, and the consumer's words are the ones that explain.
        try:
            consumer.finish()
        except StreamError:
            zstd.kill()
            raise
        zstd.finish()
    finally:
        if zstd.process is not None and zstd.process.stdin and \
                not zstd.process.stdin.closed:
            try:
                zstd.process.stdin.close()
            except BrokenPipeError:
                pass
        zstd.kill()
        consumer.kill()
