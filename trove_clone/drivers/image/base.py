"""The image driver interface."""
import abc


class ImageDriver(abc.ABC):
    """Finds guest images.

    An image is a dict with at least ``id``, ``name``, ``status``, ``tags``
    (list), ``created_at`` (ISO 8601 text) and ``checksum``.
    """

    @abc.abstractmethod
    def get(self, image_id: str) -> dict:
        """The image with this id; raises ImageNotFound."""

    @abc.abstractmethod
    def find_by_tags(self, tags: list[str]) -> dict:
        """The newest active image carrying every tag in ``tags``.

        Raises ImageNotFound when there is none.
        """

    @abc.abstractmethod
    def download(self, image_id: str, path: str) -> dict:
        """Write the image's data to ``path``; returns the image.

        :raises: ImageNotFound; ImageCorrupt when the data does not match
            the image's checksum
        """
