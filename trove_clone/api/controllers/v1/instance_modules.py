"""/v1.0/{tenant}/instances/{id}/modules: the modules of one instance.

Apply and remove are synchronous calls to the instance's guest agent, as
in Trove; the control database records which md5 each instance has.
"""
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instance_accounts
from trove_clone.api.schemas import modules as schemas
from trove_clone.api.views import modules as views
from trove_clone.common import exception
from trove_clone.db import modules as db_modules
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
        module = module_service.get(ctx, self._module_id)
        try:
            instance_accounts.guest(row).module_remove(
                ctx, module_service.payload(ctx, module))
        except exception.NotFound:
            # The guest lost it (a rebuilt volume, say): forget it here
            # too, but a module never applied stays a 404.
            if module['id'] not in [applied['id'] for applied in
                                    db_modules.applied_to(ctx, row['id'])]:
                raise
        db_modules.record_removed(ctx, row['id'], module['id'])
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
        modules = []
        for applied in db_modules.applied_to(ctx, row['id']):
            if module_service.visible_to(ctx, applied):
                modules.append(views.applied(
                    module_service.with_names(ctx, applied)))
        return base.respond({'modules': modules})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.apply)
        ctx, row = instance_accounts.load_ready(self._instance_id,
                                                'instance:module_apply')
        modules = module_service.for_instance(ctx, body['modules'],
                                              row['datastore_version'])
        payloads = [module_service.payload(ctx, module)
                    for module in modules]
        results = instance_accounts.guest(row).module_apply(ctx, payloads)
        module_service.record_results(ctx, row['id'], modules, results)
        return base.respond({'modules': results})

    @expose()
    def _lookup(self, module_id, *remainder):
        if remainder:
            return None
        return InstanceModuleController(self._instance_id,
                                        module_id), remainder
