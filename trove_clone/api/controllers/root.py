"""The root of the API: version discovery and the v1.0 tree."""
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import tenant

VERSION_ID = 'v1.0'
VERSION_UPDATED = '2012-08-01T00:00:00Z'


def version_info() -> dict:
    return {'id': VERSION_ID, 'status': 'CURRENT',
            'updated': VERSION_UPDATED,
            'links': [{'rel': 'self',
                       'href': '%s/%s/' % (base.base_url(), VERSION_ID)}]}


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
