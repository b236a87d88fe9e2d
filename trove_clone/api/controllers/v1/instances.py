"""/v1.0/{tenant}/instances (list; the rest arrives with provisioning)."""
import urllib.parse

import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.views import instances as views
from trove_clone.db import api as db_api
from trove_clone.services import instances as service


def next_link(path: str, marker: str | None) -> list[dict]:
    """Trove's pagination links: a "next" link while more rows remain."""
    if marker is None:
        return []
    query = {key: value for key, value in pecan.request.GET.items()
             if key != 'marker'}
    query['marker'] = marker
    href = '%s%s?%s' % (base.base_url(), path, urllib.parse.urlencode(query))
    return [{'rel': 'next', 'href': href}]


def render_page(rows: list[dict], marker: str | None) -> dict:
    ctx = base.context()
    versions: dict = {}
    items = []
    for row in rows:
        version_id = row['datastore_version_id']
        if version_id not in versions:
            versions[version_id] = db_api.datastore_version_get(ctx,
                                                                version_id)
        items.append(views.instance(row, versions[version_id]))
    return {'instances': items,
            'links': next_link(pecan.request.path, marker)}


class InstancesController:
    PATHS = ('/instances',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('instance:index')
        rows, marker = service.list_page(
            ctx, ctx.project_id, ctx.limit, ctx.marker,
            include_clustered=base.bool_param('include_clustered'))
        return base.respond(render_page(rows, marker))

    @expose(generic=True, content_type=base.JSON)
    def detail(self):
        base.method_not_allowed()

    @detail.when(method='GET', content_type=base.JSON)
    def detail_get(self):
        ctx = base.authorize('instance:detail')
        rows, marker = service.list_page(
            ctx, ctx.project_id, ctx.limit, ctx.marker,
            include_clustered=base.bool_param('include_clustered'))
        return base.respond(render_page(rows, marker))
