"""/v1.0/{tenant}/mgmt: the administrators' API."""
import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instances as instance_routes
from trove_clone.api.schemas import datastores as schemas
from trove_clone.api.schemas import instances as instance_schemas
from trove_clone.api.schemas import quotas as quota_schemas
from trove_clone.api.views import datastores as views
from trove_clone.api.views import instances as instance_views
from trove_clone.common import exception
from trove_clone.services import config_parameters
from trove_clone.services import datastores as service
from trove_clone.services import instances as instance_service
from trove_clone.services import quotas


def _paginate(items: list[dict], limit: int | None, marker: str | None
              ) -> tuple[list[dict], str | None]:
    if marker:
        ids = [item['id'] for item in items]
        if marker not in ids:
            raise exception.NotFound(
                'Marker %s does not match any datastore version.' % marker)
        items = items[ids.index(marker) + 1:]
    if limit is not None and len(items) > limit:
        return items[:limit], items[limit - 1]['id']
    return items, None


class MgmtDatastoreVersionController:
    PATHS = ('/mgmt/datastore-versions/{version_id}',)

    def __init__(self, version_id: str) -> None:
        self._version_id = version_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.require_admin()
        version = service.get_version(ctx, self._version_id)
        return base.respond({'version': views.mgmt_version(version)})

    @index.when(method='PATCH', content_type=base.JSON)
    def index_patch(self):
        ctx = base.require_admin()
        body = base.read_body(schemas.version_edit)
        service.edit_version(ctx, self._version_id, body)
        return base.respond(None, 202)

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx = base.require_admin()
        service.delete_version(ctx, self._version_id)
        return base.respond(None, 202)


class MgmtDatastoreVersionsController:
    """/mgmt/datastore-versions"""
    PATHS = ('/mgmt/datastore-versions',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.require_admin()
        versions = [views.mgmt_version(v)
                    for v in service.list_versions(ctx)]
        page, marker = _paginate(versions, ctx.limit, ctx.marker)
        return base.respond({'versions': page, 'links': instance_routes.
                             next_link(pecan.request.path, marker)})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.require_admin()
        body = base.read_body(schemas.version_create)['version']
        _version, created = service.upsert_version(
            ctx, datastore=body['datastore_name'], name=body['name'],
            manager=body['datastore_manager'], image_id=body.get('image'),
            packages=','.join(body.get('packages') or []),
            active=body['active'], image_tags=body.get('image_tags') or [],
            version_number=body.get('version'),
            registry_ext=body.get('registry_ext'),
            repl_strategy=body.get('repl_strategy'),
            create_datastore=True, make_default=body.get('default') or None,
            only_create=True)
        return base.respond(None, 202)

    @expose()
    def _lookup(self, version_id, *remainder):
        return MgmtDatastoreVersionController(version_id), remainder


class MgmtParameterController:
    PATHS = ('/mgmt/datastores/versions/{version_id}/parameters/{name}',)

    def __init__(self, version_id: str, name: str) -> None:
        self._version_id = version_id
        self._name = name

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.require_admin()
        param = config_parameters.get_for_version(ctx, self._version_id,
                                                  self._name)
        return base.respond(views.mgmt_parameter(param))

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        ctx = base.require_admin()
        body = base.read_body(schemas.parameter)['configuration-parameter']
        param = config_parameters.mgmt_update(ctx, self._version_id,
                                              self._name, body)
        return base.respond(views.mgmt_parameter(param))

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx = base.require_admin()
        config_parameters.mgmt_delete(ctx, self._version_id, self._name)
        return base.respond(None, 204)


class MgmtParametersController:
    """/mgmt/datastores/versions/{version_id}/parameters"""
    PATHS = ('/mgmt/datastores/versions/{version_id}/parameters',)

    def __init__(self, version_id: str) -> None:
        self._version_id = version_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.require_admin()
        params = config_parameters.mgmt_list(ctx, self._version_id)
        return base.respond({'configuration-parameters':
                             [views.mgmt_parameter(p) for p in params]})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.require_admin()
        body = base.read_body(schemas.parameter)['configuration-parameter']
        param = config_parameters.mgmt_create(ctx, self._version_id, body)
        return base.respond(views.mgmt_parameter(param))

    @expose()
    def _lookup(self, name, *remainder):
        if remainder:
            return None
        return MgmtParameterController(self._version_id, name), remainder


class _MgmtVersionParameters:
    """/mgmt/datastores/versions/{version_id}/..."""

    def __init__(self, version_id: str) -> None:
        self.parameters = MgmtParametersController(version_id)


class _MgmtVersions:

    @expose()
    def _lookup(self, version_id, *remainder):
        return _MgmtVersionParameters(version_id), remainder


class MgmtDatastoresController:
    versions = _MgmtVersions()


class MgmtQuotaController:
    PATHS = ('/mgmt/quotas/{project_id}',)

    def __init__(self, project_id: str) -> None:
        self._project_id = project_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('mgmt:quota:show', owner=self._project_id)
        return base.respond({'quotas': quotas.show(ctx, self._project_id)})

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        ctx = base.authorize('mgmt:quota:update', owner=self._project_id)
        body = base.read_body(quota_schemas.quota_update)
        updated = quotas.update(ctx, self._project_id, body['quotas'])
        return base.respond({'quotas': updated})


class MgmtQuotasController:

    @expose()
    def _lookup(self, project_id, *remainder):
        if remainder:
            return None
        return MgmtQuotaController(project_id), remainder


class MgmtInstanceActionController:
    PATHS = ('/mgmt/instances/{instance_id}/action',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.require_admin()
        body = base.read_body(instance_schemas.mgmt_action)
        row = instance_service.get(ctx, self._instance_id, None)
        name = next(iter(body))
        if name == 'stop':
            instance_service.stop_database(
                ctx, row, instance_routes.instance_accounts.guest(row))
        elif name == 'reboot':
            instance_service.reboot(ctx, row, instance_routes.tasks())
        elif name == 'reset-task-status':
            instance_service.reset_task_status(ctx, row)
        elif name == 'rebuild':
            instance_service.rebuild(ctx, row, body['rebuild']['image_id'],
                                     instance_routes.tasks())
        else:
            raise exception.NotImplementedYet(operation=name)
        return base.respond(None, 202)


class MgmtInstanceController:
    PATHS = ('/mgmt/instances/{instance_id}',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id
        self.action = MgmtInstanceActionController(instance_id)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.require_admin()
        row = instance_service.get(ctx, self._instance_id, None)
        server, volume = instance_service.server_and_volume(row)
        return base.respond({'instance': instance_views.mgmt_detail(
            row, server, volume)})


class MgmtInstancesController:
    """/mgmt/instances: instances of every project."""
    PATHS = ('/mgmt/instances',)

    @expose()
    def _lookup(self, instance_id, *remainder):
        return MgmtInstanceController(instance_id), remainder

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        # What `openstack database instance list --all-projects` sends.
        ctx = base.require_admin()
        project = pecan.request.GET.get('project_id') or None
        rows, marker = instance_service.list_page(
            ctx, project, ctx.limit, ctx.marker,
            include_clustered=base.bool_param('include_clustered'))
        return base.respond({
            'instances': [instance_views.mgmt_instance(row) for row in rows],
            'links': instance_routes.next_link(pecan.request.path, marker)})


class MgmtController:
    datastores = MgmtDatastoresController()
    instances = MgmtInstancesController()
    quotas = MgmtQuotasController()


setattr(MgmtController, 'datastore-versions',
        MgmtDatastoreVersionsController())
