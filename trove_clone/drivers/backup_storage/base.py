"""The backup storage driver interface.

A backup is one *object* in a *container*: the guest agent streams it in
with ``save`` and out with ``load``; the taskmanager removes it with
``delete``. The bytes are already compressed and encrypted by the caller:
a driver stores them as they come and never holds a whole backup in
memory or on disk.

A driver is built from a plain ``options`` dict, because the guest agent
has no access to the control host's configuration: the taskmanager puts
the options in the request it sends (``backup_info['storage']``, with
``driver`` naming the stevedore entry point in the
``trove_clone.drivers.backup_storage`` namespace) and the guest builds the
driver with ``load(options)``.

A *location* is the string a driver returns from ``save`` and takes back
in ``load``, ``delete`` and ``metadata``: the backup's ``locationRef`` in
the API (``local:///<container>/<object>`` for the local driver, the
object's URL for Swift).
"""
import abc
import typing


class BackupStorage(abc.ABC):

    def __init__(self, options: dict) -> None:
        self.options = dict(options)

    @abc.abstractmethod
    def save(self, container: str, name: str,
             chunks: typing.Iterable[bytes],
             metadata: dict | None = None) -> dict:
        """Store the stream ``chunks`` as object ``name`` of ``container``
        (made if missing).

        :returns: ``{'location': str, 'size': bytes stored (int),
                  'checksum': hex MD5 of the stored bytes}``
        :raises: BackupStorageError; nothing partial stays behind
        """

    @abc.abstractmethod
    def load(self, location: str,
             chunk_size: int = 1 << 20) -> typing.Iterator[bytes]:
        """The stored bytes, in chunks.

        :raises: BackupNotFound (no such object), BackupStorageError
        """

    @abc.abstractmethod
    def delete(self, location: str) -> None:
        """Remove the object; an object already gone is not an error."""

    @abc.abstractmethod
    def metadata(self, location: str) -> dict:
        """What ``save`` was given as ``metadata``, plus ``size`` and
        ``checksum``.

        :raises: BackupNotFound
        """
