"""The ``local`` backup storage: objects as files under a root directory.

Options: ``{'driver': 'local', 'root': '/absolute/dir'}``. A container is
a subdirectory of the root (0700), an object a file in it (0600), its
metadata a JSON file ``<object>.meta.json`` beside it. ``save`` writes to
a hidden temporary name, syncs it and renames it into place, so an object
is either complete or absent. The location of an object is
``local:///<container>/<object>``.

Container and object names come from tenants (a backup's container) and
from the control plane: each must be one path component of printable
characters, not ``.``/``..``, not hidden (a leading dot is reserved to
temporary files) and not ending in ``.meta.json``; anything else is
refused with BackupStorageError before the file system is touched, and
every path is checked to stay under the root.
"""
import hashlib
import json
import os
import re
import typing
import urllib.parse

from trove_clone.common import exception
from trove_clone.drivers.backup_storage import base

SCHEME = 'local'
META_SUFFIX = '.meta.json'
#: One path component: no separators, no control characters, not hidden.
_NAME = re.compile(r'^[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]{0,254}$')


def check_name(kind: str, name: str) -> str:
    """``name`` if it is a safe container or object name, else
    BackupStorageError naming ``kind``."""
    if not isinstance(name, str) or not _NAME.match(name) or \
            name.endswith(META_SUFFIX):
        raise exception.BackupStorageError(
            reason='invalid %s name %r: one path component without "/", '
                   'not starting with "."' % (kind, str(name)[:80]))
    return name


class LocalStorage(base.BackupStorage):
    """Objects as files under ``options['root']``."""

    def __init__(self, options: dict) -> None:
        super().__init__(options)
        root = self.options.get('root')
        if not isinstance(root, str) or not os.path.isabs(root):
            raise exception.BackupStorageError(
                reason='the local storage needs an absolute "root"')
        self.root = os.path.realpath(root)

    # --- names and paths -------------------------------------------------

    def location(self, container: str, name: str) -> str:
        return '%s:///%s/%s' % (SCHEME, urllib.parse.quote(container),
                                urllib.parse.quote(name))

    def parse(self, location: str) -> tuple[str, str]:
        """(container, object) of a location; BackupStorageError when it
        is not one of this driver's."""
        prefix = SCHEME + ':///'
        if not isinstance(location, str) or not location.startswith(prefix):
            raise exception.BackupStorageError(
                reason='%r is not a local storage location'
                       % str(location)[:200])
        parts = location[len(prefix):].split('/')
        if len(parts) != 2:
            raise exception.BackupStorageError(
                reason='%r is not a local storage location' % location[:200])
        container, name = (urllib.parse.unquote(part) for part in parts)
        return check_name('container', container), check_name('object', name)

    def _path(self, container: str, name: str | None = None) -> str:
        path = os.path.join(self.root, check_name('container', container))
        if name is not None:
            path = os.path.join(path, check_name('object', name))
        real = os.path.realpath(path)
        if os.path.commonpath([real, self.root]) != self.root:
            raise exception.BackupStorageError(
                reason='%s leaves the storage root' % path)
        return path

    def _container_dir(self, container: str) -> str:
        path = self._path(container)
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            if os.path.islink(path) or not os.path.isdir(path):
                raise exception.BackupStorageError(
                    reason='container %s is not a directory' % container)
        os.chmod(path, 0o700)
        return path

    # --- the interface ---------------------------------------------------

    def save(self, container: str, name: str,
             chunks: typing.Iterable[bytes],
             metadata: dict | None = None) -> dict:
        check_name('object', name)
        target = os.path.join(self._container_dir(container), name)
        directory = os.path.dirname(target)
        temporary = os.path.join(directory, '.%s.%s.part' % (
            name, os.urandom(6).hex()))
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                         os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, 'wb') as out:
                for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            result = {'location': self.location(container, name),
                      'size': size, 'checksum': digest.hexdigest()}
            self._write_json(self._meta_path(target),
                             dict(metadata or {}, size=size,
                                  checksum=result['checksum']))
            os.replace(temporary, target)
            self._sync_dir(directory)
        except OSError as error:
            self._remove(temporary)
            raise exception.BackupStorageError(
                reason='writing %s/%s failed: %s' % (container, name,
                                                     error.strerror))
        except BaseException:
            self._remove(temporary)
            raise
        return result

    def load(self, location: str,
             chunk_size: int = 1 << 20) -> typing.Iterator[bytes]:
        path = self._path(*self.parse(location))
        try:
            source = open(path, 'rb', buffering=0)
        except FileNotFoundError:
            raise exception.BackupFileNotFound(location=location)
        except OSError as error:
            raise exception.BackupStorageError(
                reason='reading %s failed: %s' % (location, error.strerror))
        return self._chunks(source, chunk_size)

    @staticmethod
    def _chunks(source, chunk_size: int) -> typing.Iterator[bytes]:
        with source:
            while True:
                chunk = source.read(chunk_size)
                if not chunk:
                    return
                yield chunk

    def delete(self, location: str) -> None:
        path = self._path(*self.parse(location))
        self._remove(path)
        self._remove(self._meta_path(path))

    def metadata(self, location: str) -> dict:
        path = self._path(*self.parse(location))
        try:
            with open(self._meta_path(path)) as source:
                data = json.load(source)
        except FileNotFoundError:
            raise exception.BackupFileNotFound(location=location)
        except (OSError, ValueError) as error:
            raise exception.BackupStorageError(
                reason='the metadata of %s is unreadable: %s'
                       % (location, error))
        if not os.path.exists(path):
            raise exception.BackupFileNotFound(location=location)
        return data

    # --- helpers ----------------------------------------------------------

    @staticmethod
    def _meta_path(path: str) -> str:
        return path + META_SUFFIX

    @staticmethod
    def _write_json(path: str, data: dict) -> None:
        temporary = os.path.join(os.path.dirname(path), '.%s.%s.part' % (
            os.path.basename(path), os.urandom(6).hex()))
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                     os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, 'w') as out:
                json.dump(data, out, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        except BaseException:
            LocalStorage._remove(temporary)
            raise

    @staticmethod
    def _sync_dir(directory: str) -> None:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    @staticmethod
    def _remove(path: str) -> None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        except OSError as error:
            raise exception.BackupStorageError(
                reason='removing %s failed: %s' % (path, error.strerror))
