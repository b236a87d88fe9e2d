"""/v1.0/{tenant}/configurations: configuration groups."""
import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instance_accounts
from trove_clone.api.controllers.v1 import instances as instance_routes
from trove_clone.api.schemas import configurations as schemas
from trove_clone.api.views import configurations as views
from trove_clone.services import configurations as service


def load(configuration_id: str, rule: str) -> tuple:
    ctx = base.context()
    owner = None if ctx.is_admin else ctx.project_id
    group = service.get(ctx, configuration_id, owner)
    base.authorize(rule, owner=group['tenant_id'])
    return ctx, group


class ConfigurationInstancesController:
    PATHS = ('/configurations/{configuration_id}/instances',)

    def __init__(self, configuration_id: str) -> None:
        self._id = configuration_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, group = load(self._id, 'configuration:instances')
        return base.respond({'instances': service.instances_of(ctx, group),
                             'links': []})


class ConfigurationController:
    PATHS = ('/configurations/{configuration_id}',)

    def __init__(self, configuration_id: str) -> None:
        self._id = configuration_id
        self.instances = ConfigurationInstancesController(configuration_id)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        _ctx, group = load(self._id, 'configuration:show')
        return base.respond({'configuration': views.detail(group)})

    def _change(self, schema: dict, rule: str, merge: bool) -> None:
        body = base.read_body(schema)['configuration']
        ctx, group = load(self._id, rule)
        service.update_and_apply(ctx, group, body, merge,
                                 instance_accounts.guest)

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        self._change(schemas.update, 'configuration:update', merge=False)
        return base.respond(None, 202)

    @index.when(method='PATCH', content_type=base.JSON)
    def index_patch(self):
        self._change(schemas.edit, 'configuration:edit', merge=True)
        # Trove answers a PATCH with 200 and no body.
        return base.respond_empty_ok()

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, group = load(self._id, 'configuration:delete')
        service.delete(ctx, group)
        return base.respond(None, 202)


class ConfigurationsController:
    PATHS = ('/configurations',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('configuration:index')
        groups, marker = service.list_page(ctx, ctx.limit, ctx.marker)
        return base.respond({
            'configurations': [views.summary(group) for group in groups],
            'links': instance_routes.next_link(pecan.request.path, marker)})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.authorize('configuration:create')
        spec = base.read_body(schemas.create)['configuration']
        created = service.create(ctx, spec)
        group = service.get(ctx, created['id'], None)
        return base.respond({'configuration': views.detail(group)})

    @expose()
    def _lookup(self, configuration_id, *remainder):
        return ConfigurationController(configuration_id), remainder
