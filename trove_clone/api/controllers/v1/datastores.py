"""/v1.0/{tenant}/datastores: datastores, versions, flavors, parameters."""
import json

import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.views import datastores as views
from trove_clone.api.views import flavors as flavor_views
from trove_clone.services import config_parameters
from trove_clone.services import datastores as service


class ParametersController:
    """.../versions/{version}/parameters[/{name}] (public, read only)."""
    PATHS = (
        '/datastores/{datastore}/versions/{version}/parameters',
        '/datastores/versions/{version_id}/parameters',
    )

    def __init__(self, resolve_version, rule_suffix: str = '') -> None:
        self._resolve_version = resolve_version
        self._suffix = rule_suffix

    def _version_id(self) -> str:
        return self._resolve_version()['id']

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        base.authorize('configuration-parameter:index' + self._suffix)
        params = config_parameters.list_for_version(base.context(),
                                                    self._version_id())
        return base.respond({'configuration-parameters':
                             [views.parameter(p) for p in params]})

    @expose()
    def _lookup(self, name, *remainder):
        if remainder:
            pecan.abort(404)
        return _ParameterController(self, name), remainder


class _ParameterController:
    PATHS = (
        '/datastores/{datastore}/versions/{version}/parameters/{name}',
        '/datastores/versions/{version_id}/parameters/{name}',
    )

    def __init__(self, parent: ParametersController, name: str) -> None:
        self._parent = parent
        self._name = name

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        base.authorize('configuration-parameter:show' + self._parent._suffix)
        param = config_parameters.get_for_version(
            base.context(), self._parent._version_id(), self._name)
        return base.respond(views.parameter(param))


class _VersionLeaf:
    """Shared behaviour of /datastores/{ds}/versions/{v}[/...]."""

    def __init__(self, datastore: str, version: str) -> None:
        self._datastore = datastore
        self._version = version
        self._found: dict | None = None

    def resolve(self) -> dict:
        if self._found is None:
            ctx = base.context()
            self._found = service.visible_version(
                ctx, self._datastore, self._version, ctx.is_admin)
        return self._found


class DatastoreVersionController(_VersionLeaf):
    PATHS = ('/datastores/{datastore}/versions/{version}',)

    def __init__(self, datastore: str, version: str) -> None:
        super().__init__(datastore, version)
        self.parameters = ParametersController(self.resolve)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('datastore:version_show')
        return base.respond({'version': views.version(self.resolve(),
                                                      ctx.is_admin)})

    @expose(generic=True, content_type=base.JSON)
    def flavors(self):
        base.method_not_allowed()

    @flavors.when(method='GET', content_type=base.JSON)
    def flavors_get(self):
        ctx = base.authorize('datastore:list_associated_flavors')
        flavors = service.associated_flavors(ctx, self._datastore,
                                             self._version, ctx.is_admin)
        return base.respond({'flavors': [flavor_views.flavor(f)
                                         for f in flavors]})

    @pecan.expose(generic=True, content_type=base.JSON)
    def volume_types(self):
        base.method_not_allowed()

    @volume_types.when(method='GET', content_type=base.JSON)
    def volume_types_get(self):
        ctx = base.authorize('datastore:list_associated_volume_types')
        version = self.resolve()
        types = service.list_associations(ctx, version['id'],
                                          service.VOLUME_TYPE_KEY)
        return base.respond({'volume_types': [
            {'id': name, 'name': name, 'description': '', 'is_public': True}
            for name in types]})


# pecan maps URL segments to attribute names: serve "volume-types" only.
setattr(DatastoreVersionController, 'volume-types',
        DatastoreVersionController.volume_types)
del DatastoreVersionController.volume_types


class DatastoreVersionsController:
    """/datastores/{ds}/versions[/{version}]"""
    PATHS = ('/datastores/{datastore}/versions',)

    def __init__(self, datastore: str) -> None:
        self._datastore = datastore

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('datastore:version_index')
        ds, versions = service.visible_datastore(ctx, self._datastore,
                                                 ctx.is_admin)
        return base.respond({'versions': [views.version(v, ctx.is_admin)
                                          for v in versions]})

    @expose()
    def _lookup(self, version, *remainder):
        return DatastoreVersionController(self._datastore, version), \
            remainder


class VersionByIdController:
    """/datastores/versions/{uuid}[/parameters[/{name}]]"""
    PATHS = ('/datastores/versions/{version_id}',)

    def __init__(self, version_id: str) -> None:
        self._version_id = version_id
        self._found: dict | None = None
        self.parameters = ParametersController(self.resolve, '_by_version')

    def resolve(self) -> dict:
        if self._found is None:
            ctx = base.context()
            self._found = service.visible_version_by_id(
                ctx, self._version_id, ctx.is_admin)
        return self._found

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('datastore:version_show_by_uuid')
        return base.respond({'version': views.version(self.resolve(),
                                                      ctx.is_admin)})


class VersionsByIdController:

    @expose()
    def _lookup(self, version_id, *remainder):
        return VersionByIdController(version_id), remainder


class DatastoreController:
    """/datastores/{id or name}"""
    PATHS = ('/datastores/{datastore}',)

    def __init__(self, datastore: str) -> None:
        self._datastore = datastore
        self.versions = DatastoreVersionsController(datastore)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('datastore:show')
        ds, versions = service.visible_datastore(ctx, self._datastore,
                                                 ctx.is_admin)
        return base.respond({'datastore': views.datastore(ds, versions,
                                                          ctx.is_admin)})

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx = base.authorize('datastore:delete')
        service.delete_datastore(ctx, self._datastore)
        return base.respond(None, 202)


class DatastoresController:
    """/datastores"""
    PATHS = ('/datastores',)

    versions = VersionsByIdController()

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('datastore:index')

        def render(snapshot) -> bytes:
            listing = service.visible_datastores(ctx, ctx.is_admin, snapshot)
            return json.dumps({'datastores': [
                views.datastore(ds, versions, ctx.is_admin)
                for ds, versions in listing]}).encode('utf-8')

        # The most frequent read: rendered once per catalogue snapshot for
        # each way it can look (project in the links, admin fields, host).
        body = service.derived_from_datastores(
            ctx, ('datastores', ctx.project_id, ctx.is_admin,
                  base.base_url()), render)
        return base.respond_encoded(body)

    @expose()
    def _lookup(self, datastore, *remainder):
        return DatastoreController(datastore), remainder
