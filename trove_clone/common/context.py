"""The request context of trove_clone, built on oslo.context."""
from typing import Any

from oslo_context import context


class TroveContext(context.RequestContext):
    """Who is calling and on which project's behalf.

    ``limit`` and ``marker`` carry the pagination parameters of the request.
    """

    def __init__(self, limit: int | None = None, marker: str | None = None,
                 service_catalog: list | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.limit = limit
        self.marker = marker
        self.service_catalog = service_catalog or []

    def to_dict(self) -> dict:
        values = super().to_dict()
        values.update(limit=self.limit, marker=self.marker,
                      service_catalog=self.service_catalog)
        return values

    @classmethod
    def from_dict(cls, values: dict, **kwargs: Any) -> 'TroveContext':
        kwargs.setdefault('limit', values.get('limit'))
        kwargs.setdefault('marker', values.get('marker'))
        kwargs.setdefault('service_catalog', values.get('service_catalog'))
        return super().from_dict(values, **kwargs)


def admin_context() -> TroveContext:
    """A context for the service's own work (trove-manage, periodic tasks)."""
    return TroveContext(user_id='trove', project_id=None, is_admin=True,
                        roles=['admin'], overwrite=False)
