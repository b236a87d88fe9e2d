"""The compute driver interface.

A server is a dict with ``id``, ``name``, ``status`` (``BUILD``,
``ACTIVE``, ``SHUTOFF``, ``ERROR``), ``image_id``, ``flavor_id``,
``volume_id``, ``addresses`` (``[{'address': ..., 'type': 'private'}]``),
``metadata`` (the string pairs given at create) and ``created``.
"""
from __future__ import annotations

import abc


class ComputeDriver(abc.ABC):

    @abc.abstractmethod
    def create(self, name: str, image_id: str, flavor_id: str,
               volume_id: str | None = None,
               files: dict[str, str] | None = None,
               user_data: str | None = None,
               metadata: dict[str, str] | None = None) -> dict:
        """Boot a server from an image, with ``files`` (path inside the
        server → content) injected, ``user_data`` given to it, the
        volume attached and ``metadata`` kept with it (the taskmanager
        tags each server with its instance, so that one whose id it never
        recorded can still be found and deleted).

        :raises: ImageNotFound, FlavorNotFound, AddressPoolExhausted;
            nothing is left behind when it raises
        """

    @abc.abstractmethod
    def get(self, server_id: str) -> dict:
        """:raises: ServerNotFound"""

    @abc.abstractmethod
    def list(self) -> list[dict]:
        """Every server, oldest first."""

    @abc.abstractmethod
    def reboot(self, server_id: str) -> dict:
        """Stop and start the server's processes."""

    @abc.abstractmethod
    def rebuild(self, server_id: str, image_id: str) -> dict:
        """Replace the server's root with another image, keeping its id,
        name, address and volume."""

    @abc.abstractmethod
    def resize(self, server_id: str, flavor_id: str) -> dict:
        """Give the server another flavor."""

    @abc.abstractmethod
    def delete(self, server_id: str) -> None:
        """Stop the server and remove it; its volume is detached, kept."""

    def update_access(self, server_id: str, is_public: bool,
                      allowed_cidrs: list[str], ports: list[int]) -> None:
        """Expose the server's database ``ports`` to ``allowed_cidrs``
        only ([]: to any address), on a public address or not
        (``is_public``), as far as this cloud's network can say it. The
        guest filters the engine's socket by the same CIDRs whatever the
        backend (trove_clone.guestagent.source_filter); a backend without
        network rules of its own does nothing here.

        :raises: ServerNotFound; TroveError when the cloud refuses
        """
