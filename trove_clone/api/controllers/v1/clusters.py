"""/v1.0/{tenant}/clusters: create, list, show, actions, delete."""
import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import instance_accounts
from trove_clone.api.controllers.v1 import instances as instance_routes
from trove_clone.api import hooks
from trove_clone.api.schemas import clusters as schemas
from trove_clone.api.views import clusters as views
from trove_clone.api.views import instances as instance_views
from trove_clone.common import exception
from trove_clone.services import clusters as service
from trove_clone.services import instances as instance_service


def tasks():
    """The taskmanager's RPC client, from the request's (RPCHook)."""
    return hooks.rpcapi().tasks


def load(cluster_id: str, rule: str) -> tuple:
    """(context, cluster) of a cluster the caller may see (an
    administrator sees every project's), after the policy check."""
    ctx = base.context()
    row = service.get(ctx, cluster_id,
                      None if ctx.is_admin else ctx.project_id)
    base.authorize(rule, owner=row['tenant_id'])
    return ctx, row


def with_state(ctx, row: dict) -> dict:
    """The cluster with the engine's ``cluster_state`` (asked of a
    running member, briefly; left out when none answers)."""
    row['cluster_state'] = service.engine_state(
        ctx, row, lambda member: instance_accounts.guest(member, timeout=2))
    return row


class ClusterInstanceController:
    PATHS = ('/clusters/{cluster_id}/instances/{instance_id}',)

    def __init__(self, cluster_id: str, instance_id: str) -> None:
        self._cluster_id = cluster_id
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row = load(self._cluster_id, 'cluster:show_instance')
        if self._instance_id not in {one['id'] for one in row['members']}:
            raise exception.InstanceNotFound(instance=self._instance_id)
        member = instance_service.get(ctx, self._instance_id, None)
        return base.respond({'instance': instance_views.detail(
            member, is_admin=ctx.is_admin)})


class ClusterInstancesController:
    def __init__(self, cluster_id: str) -> None:
        self._cluster_id = cluster_id

    @expose()
    def _lookup(self, instance_id, *remainder):
        return ClusterInstanceController(self._cluster_id,
                                         instance_id), remainder


class ClusterController:
    PATHS = ('/clusters/{cluster_id}',)

    def __init__(self, cluster_id: str) -> None:
        self._id = cluster_id
        self.instances = ClusterInstancesController(cluster_id)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row = load(self._id, 'cluster:show')
        return base.respond({'cluster': views.cluster(with_state(ctx, row))})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.action)
        name = next(iter(body))
        if name == 'reset-status':
            force = (body[name] or {}).get('force_delete')
            ctx, row = load(self._id, 'cluster:force_delete' if force
                            else 'cluster:reset-status')
            if force:
                base.authorize('cluster:reset-status', row['tenant_id'])
            service.reset_status(ctx, row)
            if force:
                service.delete(ctx, service.get(ctx, self._id, None),
                               tasks())
        else:
            ctx, row = load(self._id, 'cluster:action')
            if name == 'grow':
                service.grow(ctx, row, body['grow'], tasks())
            elif name == 'shrink':
                service.shrink(ctx, row, [one['id'] for one in
                                          body['shrink']], tasks())
            elif name == 'upgrade':
                service.upgrade(ctx, row,
                                body['upgrade']['datastore_version'],
                                tasks())
            elif name == 'add_shard':
                raise exception.BadRequest('Action add_shard not supported.')
            else:
                raise exception.NotImplementedYet(
                    operation='cluster %s' % name)
        row = service.get(ctx, self._id, None)
        return base.respond({'cluster': views.cluster(row)}, 202)

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row = load(self._id, 'cluster:delete')
        service.delete(ctx, row, tasks())
        return base.respond(None, 202)


class ClustersController:
    PATHS = ('/clusters',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('cluster:index')
        rows, marker = service.list_page(ctx, ctx.project_id, ctx.limit,
                                         ctx.marker)
        return base.respond({
            'clusters': [views.cluster(row) for row in rows],
            'links': instance_routes.next_link(pecan.request.path, marker)})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.authorize('cluster:create')
        spec = base.read_body(schemas.create)['cluster']
        if any(one.get('modules') for one in spec['instances']):
            base.authorize('instance:module_apply')
        row = service.create(ctx, spec, tasks())
        return base.respond({'cluster': views.cluster(row)})

    @expose()
    def _lookup(self, cluster_id, *remainder):
        return ClusterController(cluster_id), remainder
