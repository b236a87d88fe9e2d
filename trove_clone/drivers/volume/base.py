"""The volume driver interface.

A volume is a dict with ``id``, ``name``, ``size`` (GB), ``status``
(``available``, ``in-use``, ``error``), ``attached_to`` (a server id or
None) and ``mountpoint`` (where its filesystem is reachable on the host
running the server, or None when detached).
"""
import abc


class VolumeDriver(abc.ABC):

    @abc.abstractmethod
    def create(self, size: int, name: str) -> dict:
        """A new, empty, formatted volume of ``size`` GB.

        :raises: VolumeLimitExceeded, BadRequest for a size below 1
        """

    @abc.abstractmethod
    def get(self, volume_id: str) -> dict:
        """:raises: VolumeNotFound"""

    @abc.abstractmethod
    def list(self) -> list[dict]:
        """Every volume, oldest first."""

    @abc.abstractmethod
    def attach(self, volume_id: str, server_id: str) -> dict:
        """Make the filesystem reachable for ``server_id``."""

    @abc.abstractmethod
    def detach(self, volume_id: str) -> dict:
        """Undo attach; the data stays."""

    @abc.abstractmethod
    def extend(self, volume_id: str, new_size: int) -> dict:
        """Grow the volume and its filesystem, keeping the data.

        The caller stops whatever writes to it first.
        """

    @abc.abstractmethod
    def usage(self, volume_id: str) -> dict:
        """``{'used': bytes, 'total': bytes}`` of the filesystem."""

    @abc.abstractmethod
    def delete(self, volume_id: str) -> None:
        """Remove the volume and everything it holds."""
