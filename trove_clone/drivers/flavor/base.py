"""The flavor driver interface."""
import abc

from trove_clone.common import exception


class FlavorDriver(abc.ABC):
    """Lists the flavors instances may be created with.

    A flavor is a dict with ``id`` (str), ``name``, ``ram`` (MB), ``vcpus``,
    ``disk`` (GB) and ``ephemeral`` (GB).
    """

    @abc.abstractmethod
    def list(self) -> list[dict]:
        """Every flavor, sorted by id."""

    def get(self, flavor_id: str) -> dict:
        """The flavor with this id; raises FlavorNotFound."""
        from_list = {flavor["id"]: flavor for flavor in self.list()}
        try:
            return from_list[str(flavor_id)]
        except KeyError:
            raise exception.FlavorNotFound(uuid=flavor_id)
