"""/v1.0/{tenant}/backups, /backup_strategies and
/instances/{id}/backups."""
import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api import hooks
from trove_clone.api.schemas import backups as schemas
from trove_clone.api.views import backups as views
from trove_clone.common import exception
from trove_clone.services import backup_drills as drills
from trove_clone.services import backups as service
from trove_clone.services import instances as instance_service


def tasks():
    """The taskmanager's RPC client, from the request's (RPCHook)."""
    return hooks.rpcapi().tasks


def render_page(rows: list[dict], marker: str | None) -> dict:
    links = []
    if marker is not None:
        query = {key: value for key, value in pecan.request.GET.items()
                 if key != 'marker'}
        query['marker'] = marker
        links.append({'rel': 'next', 'href': '%s%s?%s' % (
            base.base_url(), pecan.request.path,
            '&'.join('%s=%s' % item for item in sorted(query.items())))})
    return {'backups': [views.backup(row) for row in rows], 'links': links}


def load(backup_id: str, rule: str) -> tuple:
    """(context, backup) of a backup the caller may see (an
    administrator sees every project's), after the policy check."""
    ctx = base.context()
    row = service.get(ctx, backup_id,
                      None if ctx.is_admin else ctx.project_id)
    base.authorize(rule, owner=row['tenant_id'])
    return ctx, row


class BackupActionController:
    """POST /backups/{id}/action {"verify": {}}: a restore drill (an
    extension, services/backup_drills.py)."""

    PATHS = ('/backups/{backup_id}/action',)

    def __init__(self, backup_id: str) -> None:
        self._id = backup_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        base.read_body(schemas.action)
        ctx, row = load(self._id, 'backup:create')
        drills.start(ctx, row, tasks())
        return base.respond(None, 202)


class BackupController:
    PATHS = ('/backups/{backup_id}',)

    def __init__(self, backup_id: str) -> None:
        self._id = backup_id
        self.action = BackupActionController(backup_id)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        _ctx, row = load(self._id, 'backup:show')
        return base.respond({'backup': views.backup(row)})

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row = load(self._id, 'backup:delete')
        service.delete(ctx, row, tasks())
        return base.respond(None, 202)


class BackupsController:
    PATHS = ('/backups',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('backup:index')
        params = pecan.request.GET
        project_id = ctx.project_id
        if base.bool_param('all_projects') or params.get('project_id'):
            base.authorize('backup:index:all_projects')
            project_id = params.get('project_id') or None
        rows, marker = service.list_page(
            ctx, project_id, ctx.limit, ctx.marker,
            instance_id=params.get('instance_id') or None,
            datastore=params.get('datastore') or None)
        return base.respond(render_page(rows, marker))

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.authorize('backup:create')
        spec = base.read_body(schemas.create)['backup']
        if not spec.get('instance') and not spec.get('restore_from'):
            raise exception.BadRequest('backup.instance is required: the '
                                       'id of the instance to back up.')
        row = service.create(ctx, spec, tasks())
        return base.respond({'backup': views.backup(row)}, 202)

    @expose()
    def _lookup(self, backup_id, *remainder):
        return BackupController(backup_id), remainder


class InstanceBackupsController:
    PATHS = ('/instances/{instance_id}/backups',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.context()
        project_id = None if ctx.is_admin else ctx.project_id
        row = instance_service.get(ctx, self._instance_id, project_id)
        base.authorize('instance:backups', owner=row['tenant_id'])
        rows, marker = service.list_page(ctx, project_id, ctx.limit,
                                         ctx.marker,
                                         instance_id=self._instance_id)
        return base.respond(render_page(rows, marker))


class BackupStrategiesController:
    PATHS = ('/backup_strategies',)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx = base.authorize('backup_strategy:index')
        params = pecan.request.GET
        project_id = service.strategy_project(ctx, params.get('project_id'))
        rows = service.strategy_list(ctx, project_id,
                                     params.get('instance_id') or None)
        return base.respond({'backup_strategies': [
            views.strategy(row) for row in rows]})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        ctx = base.authorize('backup_strategy:create')
        spec = base.read_body(schemas.strategy_create)['backup_strategy']
        row = service.strategy_create(ctx, spec.get('instance_id'),
                                      spec['swift_container'])
        return base.respond({'backup_strategy': views.strategy(row)}, 202)

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx = base.authorize('backup_strategy:delete')
        params = pecan.request.GET
        project_id = service.strategy_project(ctx, params.get('project_id'))
        service.strategy_delete(ctx, project_id,
                                params.get('instance_id') or None)
        return base.respond(None, 202)
