"""/v1.0/{tenant}/instances: create, list, show, update, delete, act."""
import urllib.parse

import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api.controllers.v1 import backups
from trove_clone.api.controllers.v1 import instance_accounts
from trove_clone.api.controllers.v1 import instance_logs
from trove_clone.api.controllers.v1 import instance_modules
from trove_clone.api import hooks
from trove_clone.api.schemas import instances as schemas
from trove_clone.api.views import instances as views
from trove_clone.common import exception
from trove_clone.services import backup_schedules
from trove_clone.services import instances as service
from trove_clone.services import replication


def tasks():
    """The taskmanager's RPC client, from the request's (RPCHook)."""
    return hooks.rpcapi().tasks


def next_link(path: str, marker: str | None) -> list[dict]:
    """Trove's pagination links: a "next" link while more rows remain."""
    if marker is None:
        return []
    query = {key: value for key, value in pecan.request.GET.items()
             if key != 'marker'}
    query['marker'] = marker
    href = '%s%s?%s' % (base.base_url(), path, urllib.parse.urlencode(query))
    return [{'rel': 'next', 'href': href}]


def render_page(rows: list[dict], marker: str | None,
                detailed: bool = False) -> dict:
    ctx = base.context()
    items = []
    for row in rows:
        if detailed:
            items.append(views.detail(row, is_admin=ctx.is_admin))
        else:
            items.append(views.instance(row, row['datastore_version'],
                                        is_admin=ctx.is_admin))
    return {'instances': items,
            'links': next_link(pecan.request.path, marker)}


load = instance_accounts.load


def volume_stats(ctx, row: dict) -> dict | None:
    """The volume's use from the guest, or None when it cannot say."""
    return service.volume_stats(
        ctx, row, lambda: instance_accounts.guest(row, timeout=2))


class ActionController:
    PATHS = ('/instances/{instance_id}/action',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.action)
        name = next(iter(body))
        if name == 'restart':
            ctx, row = load(self._instance_id, 'instance:restart')
            service.restart(ctx, row, tasks())
        elif name == 'resize':
            resize = body['resize']
            if 'volume' in resize:
                ctx, row = load(self._instance_id, 'instance:resize_volume')
                service.resize_volume(ctx, row, resize['volume']['size'],
                                      tasks())
            else:
                ctx, row = load(self._instance_id, 'instance:resize_flavor')
                service.resize_flavor(ctx, row, resize['flavorRef'],
                                      tasks())
        elif name == 'reset_status':
            # Changing task state is an administrator's (Trove's
            # instance:reset_status, rule:admin) in every form: Trove checks
            # only instance:force_delete (admin_or_owner) when the body
            # asks for a force delete, which let a member clear a task.
            ctx, row = load(self._instance_id, 'instance:reset_status')
            if body['reset_status'].get('force_delete'):
                base.authorize('instance:force_delete',
                               owner=row['tenant_id'])
            service.reset_status(ctx, row)
        elif name == 'promote_to_replica_source':
            ctx, row = load(self._instance_id, 'instance:%s' % name)
            replication.promote(ctx, row, tasks())
        elif name == 'eject_replica_source':
            ctx, row = load(self._instance_id, 'instance:%s' % name)
            replication.eject(ctx, row, tasks())
        else:
            load(self._instance_id, 'instance:%s' % name)
            raise exception.NotImplementedYet(operation=name)
        return base.respond(None, 202)


class InstanceConfigurationController:
    PATHS = ('/instances/{instance_id}/configuration',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row = instance_accounts.load_ready(self._instance_id,
                                                'instance:configuration')
        values = instance_accounts.guest(row).get_configuration(ctx)
        return base.respond({'instance': {'configuration': values}})


class InstanceController:
    PATHS = ('/instances/{instance_id}',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id
        self.action = ActionController(instance_id)
        self.databases = instance_accounts.DatabasesController(instance_id)
        self.users = instance_accounts.UsersController(instance_id)
        self.root = instance_accounts.InstanceRootController(instance_id)
        self.configuration = InstanceConfigurationController(instance_id)
        self.modules = instance_modules.InstanceModulesController(
            instance_id)
        self.backups = backups.InstanceBackupsController(instance_id)
        self.log = instance_logs.InstanceLogsController(instance_id)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row = load(self._instance_id, 'instance:show')
        return base.respond({'instance': views.detail(
            row, volume_stats(ctx, row), ctx.is_admin)})

    def _update(self, schema: dict, rule: str):
        body = base.read_body(schema)['instance']
        ctx, row = load(self._instance_id, rule)
        others = [key for key in body if key != 'name']
        if len(others) > 1:
            raise exception.BadRequest("Only one attribute (except 'name') "
                                       'is allowed to update.')
        if others and others[0] not in ('configuration', 'replica_of',
                                        'slave_of', 'backup_schedule',
                                        'datastore_version', 'access'):
            raise exception.NotImplementedYet(
                operation='updating %s of an instance' % others[0])
        if 'replica_of' in body or 'slave_of' in body:
            # Trove: any value detaches the replica from its primary.
            replication.detach(ctx, row, tasks())
        elif 'backup_schedule' in body:
            backup_schedules.set_schedule(ctx, row, body['backup_schedule'])
        elif 'access' in body:
            service.update_access(ctx, row, body['access'], tasks())
        elif 'datastore_version' in body:
            service.upgrade(ctx, row, body['datastore_version'], tasks())
        elif 'configuration' in body or not body:
            # Trove: an empty instance body detaches the configuration.
            service.attach_configuration(ctx, row, body.get('configuration'),
                                         instance_accounts.guest)
        # Last: a request refused, or whose cast failed, renames nothing.
        if 'name' in body:
            service.rename(ctx, row, body['name'])
        return base.respond(None, 202)

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        return self._update(schemas.update, 'instance:update')

    @index.when(method='PATCH', content_type=base.JSON)
    def index_patch(self):
        return self._update(schemas.edit, 'instance:edit')

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row = load(self._instance_id, 'instance:delete')
        service.delete(ctx, row, tasks())
        return base.respond(None, 202)


class InstancesController:
    PATHS = ('/instances',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('instance:index')
        rows, marker = service.list_page(
            ctx, ctx.project_id, ctx.limit, ctx.marker,
            include_clustered=base.bool_param('include_clustered'))
        return base.respond(render_page(rows, marker))

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.authorize('instance:create')
        spec = base.read_body(schemas.create)['instance']
        if spec.get('users'):
            base.authorize('instance:extension:user:create')
        if spec.get('databases'):
            base.authorize('instance:extension:database:create')
        if spec.get('modules'):
            base.authorize('instance:module_apply')
        row = service.create(ctx, spec, tasks())
        return base.respond({'instance': views.detail(
            row, is_admin=ctx.is_admin)})

    @expose(generic=True, content_type=base.JSON)
    def detail(self):
        base.method_not_allowed()

    @detail.when(method='GET', content_type=base.JSON)
    def detail_get(self):
        ctx = base.authorize('instance:detail')
        rows, marker = service.list_page(
            ctx, ctx.project_id, ctx.limit, ctx.marker,
            include_clustered=base.bool_param('include_clustered'))
        return base.respond(render_page(rows, marker, detailed=True))

    @expose()
    def _lookup(self, instance_id, *remainder):
        return InstanceController(instance_id), remainder
