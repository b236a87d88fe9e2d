"""/v1.0/{tenant}/instances/{id}/modules: the modules of one instance.

Apply and remove are synchronous calls to the instance's guest agent, as
in Trove; the control database records which md5 each instance has.
"""
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instance_accounts
from trove_clone.api.schemas import modules as schemas
from trove_clone.api.views import modules as views
from trove_clone.services import modules as module_service


class InstanceModuleController:
    PATHS = ('/instances/{instance_id}/modules/{module_id}',)

    def __init__(self, instance_id: str, module_id: str) -> None:
        self._instance_id = instance_id
        self._module_id = module_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row = instance_accounts.load_ready(self._instance_id,
                                                'instance:module_remove')
        module_service.remove_from(ctx, row, self._module_id,
                                   instance_accounts.guest(row))
        return base.respond_empty_ok()


class InstanceModulesController:
    PATHS = ('/instances/{instance_id}/modules',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        if base.bool_param('from_guest'):
            ctx, row = instance_accounts.load_ready(self._instance_id,
                                                    'instance:module_list')
            results = instance_accounts.guest(row).module_list(
                ctx, base.bool_param('include_contents'))
            return base.respond({'modules': results})
        ctx, row = instance_accounts.load(self._instance_id,
                                          'instance:module_list')
        return base.respond({'modules': [
            views.applied(applied)
            for applied in module_service.applied_to(ctx, row['id'])]})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.apply)
        ctx, row = instance_accounts.load_ready(self._instance_id,
                                                'instance:module_apply')
        results = module_service.apply_to(ctx, row, body['modules'],
                                          instance_accounts.guest(row))
        return base.respond({'modules': results})

    @expose()
    def _lookup(self, module_id, *remainder):
        if remainder:
            return None
        return InstanceModuleController(self._instance_id,
                                        module_id), remainder
