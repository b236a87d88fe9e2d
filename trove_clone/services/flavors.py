"""Flavors, as the flavor driver of the deployment knows them (the API
reads them here, never from the driver)."""
from trove_clone import drivers


def list_all() -> list[dict]:
    """Every flavor the driver offers."""
    return drivers.get('flavor').list()


def get(flavor_id: str) -> dict:
    """One flavor.

    :raises: FlavorNotFound (404)
    """
    return drivers.get('flavor').get(flavor_id)
