"""/v1.0/{tenant}/modules: modules and the instances they are applied to.

Every route, the list included, serves administrators and members alike
(the trove CLI finds a module by name through the list).
"""
import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instances as instance_routes
from trove_clone.api.schemas import modules as schemas
from trove_clone.api.views import instances as instance_views
from trove_clone.api.views import modules as views
from trove_clone.services import instances as instance_service
from trove_clone.services import modules as service


def load(module_id: str, rule: str) -> tuple:
    """(context, module) of a module the caller may see, after the policy
    check."""
    ctx = base.context()
    module = service.get(ctx, module_id)
    base.authorize(rule, owner=module['tenant_id'] or ctx.project_id)
    return ctx, module


def show(ctx, module: dict, with_count: bool = True) -> dict:
    count = service.current_count(ctx, module) if with_count else None
    return views.detail(service.with_names(ctx, module), count)


class ModuleInstancesController:
    PATHS = ('/modules/{module_id}/instances',)

    def __init__(self, module_id: str) -> None:
        self._id = module_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, module = load(self._id, 'module:instances')
        clustered = base.bool_param('include_clustered')
        tenant = None if ctx.is_admin else ctx.project_id
        if base.bool_param('count_only'):
            groups = service.instance_counts(ctx, module, clustered, tenant)
            return base.respond({'instances': views.counts(module, groups)})
        size = instance_service.page_size(ctx.limit)
        ids = service.instance_ids(ctx, module, clustered, size + 1,
                                   ctx.marker, tenant)
        marker = ids[size - 1] if len(ids) > size else None
        rows = [instance_service.get(ctx, instance_id, None)
                for instance_id in ids[:size]]
        return base.respond({
            'instances': [instance_views.detail(row, is_admin=ctx.is_admin)
                          for row in rows],
            'links': instance_routes.next_link(pecan.request.path,
                                               marker)})

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        spec = base.read_body(schemas.reapply)['reapply']
        ctx, module = load(self._id, 'module:reapply')
        service.reapply(ctx, module, spec, instance_routes.tasks())
        return base.respond(None, 202)


class ModuleController:
    PATHS = ('/modules/{module_id}',)

    def __init__(self, module_id: str) -> None:
        self._id = module_id
        self.instances = ModuleInstancesController(module_id)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, module = load(self._id, 'module:show')
        return base.respond({'module': show(ctx, module)})

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        spec = base.read_body(schemas.update)['module']
        ctx, module = load(self._id, 'module:update')
        updated = service.update(ctx, module, spec)
        return base.respond({'module': show(ctx, updated,
                                            with_count=False)})

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, module = load(self._id, 'module:delete')
        service.delete(ctx, module)
        # Trove answers a module delete with 200 and no body.
        return base.respond_empty_ok()


class ModulesController:
    PATHS = ('/modules',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('module:index')
        modules, marker = service.list_page(
            ctx, pecan.request.GET.get('datastore') or None, ctx.limit,
            ctx.marker)
        return base.respond({'modules': [
            views.module(service.with_names(ctx, module))
            for module in modules],
            'links': instance_routes.next_link(pecan.request.path, marker)})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.authorize('module:create')
        spec = base.read_body(schemas.create)['module']
        created = service.create(ctx, spec)
        return base.respond({'module': show(ctx, created)})

    @expose()
    def _lookup(self, module_id, *remainder):
        return ModuleController(module_id), remainder
