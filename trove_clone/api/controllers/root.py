"""The root of the API: version discovery and the v1.0 tree."""
import json

from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import tenant

VERSION_ID = 'v1.0'
VERSION_UPDATED = '2012-08-01T00:00:00Z'


def version_info(root_url: str | None = None) -> dict:
    """This version's entry, its link under ``root_url`` (default: the
    request's base URL)."""
    if root_url is None:
        root_url = base.base_url()
    return {'id': VERSION_ID, 'status': 'CURRENT',
            'updated': VERSION_UPDATED,
            'links': [{'rel': 'self',
                       'href': '%s/%s/' % (root_url, VERSION_ID)}]}


#: Encoded versions documents by base URL; few distinct base URLs exist
#: (public_endpoint, the listed public_hosts, the bound address).
_DOCUMENTS: dict[str, bytes] = {}
_MAX_DOCUMENTS = 64


def versions_document(environ: dict) -> bytes:
    """The body of ``GET /`` for the request of ``environ``, encoded:
    what RootController.index_get answers, without pecan (the app's
    dispatcher serves it directly; it is the most frequent request of
    load balancers' health checks)."""
    root_url = base.base_url_of(environ)
    body = _DOCUMENTS.get(root_url)
    if body is None:
        body = json.dumps({'versions': [version_info(root_url)]}).encode(
            'utf-8')
        if len(_DOCUMENTS) >= _MAX_DOCUMENTS:
            _DOCUMENTS.clear()
        _DOCUMENTS[root_url] = body
    return body


class V1Controller:
    """/v1.0/: this version; /v1.0/{tenant}/...: the resources."""
    PATHS = ('/v1.0/',)

    _tenant = tenant.TenantController()

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        return base.respond({'version': version_info()})

    @expose()
    def _lookup(self, tenant_id, *remainder):
        if not remainder:
            return None
        return self._tenant, remainder


class RootController:
    PATHS = ('/',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        return base.respond({'versions': [version_info()]})


setattr(RootController, VERSION_ID, V1Controller())
