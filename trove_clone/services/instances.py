"""Business rules of instances (the read side for now)."""
from trove_clone.conf import CONF
from trove_clone.db import api as db_api


def page_size(requested: int | None) -> int:
    """The page size: the request's limit capped by instances_page_size."""
    if requested is None:
        return CONF.instances_page_size
    return min(requested, CONF.instances_page_size)


def list_page(context, project_id: str | None, limit: int | None,
              marker: str | None, include_clustered: bool = False
              ) -> tuple[list[dict], str | None]:
    """One page of instances and the marker of the next page (or None)."""
    size = page_size(limit)
    rows = db_api.instance_list(context, project_id, size + 1, marker,
                                include_clustered)
    if len(rows) > size:
        return rows[:size], rows[size - 1]['id']
    return rows, None
