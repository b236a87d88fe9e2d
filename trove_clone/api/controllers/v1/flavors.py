"""/v1.0/{tenant}/flavors"""
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.views import flavors as views
from trove_clone.services import flavors as service


class FlavorController:
    PATHS = ('/flavors/{flavor_id}',)

    def __init__(self, flavor_id: str) -> None:
        self._flavor_id = flavor_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        base.authorize('flavor:show')
        flavor = service.get(self._flavor_id)
        return base.respond({'flavor': views.flavor(flavor)})


class FlavorsController:
    PATHS = ('/flavors',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        base.authorize('flavor:index')
        flavors = service.list_all()
        return base.respond({'flavors': [views.flavor(f) for f in flavors]})

    @expose()
    def _lookup(self, flavor_id, *remainder):
        if remainder:
            return None
        return FlavorController(flavor_id), remainder
