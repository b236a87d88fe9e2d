"""Users, databases and root of an instance (Trove's "Mysql" extension,
served for every datastore that has them).

These are synchronous calls to the instance's guest agent, as in Trove;
names are checked here first, so a bad one never reaches the guest.
"""
import urllib.parse

import pecan
from pecan import expose

from trove_clone.api.controllers import base
from trove_clone.api import hooks
from trove_clone.api.schemas import instances as schemas
from trove_clone.api.views import instances as views
from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.services import accounts
from trove_clone.services import replication
from trove_clone.services import instances as service
from trove_clone.services import root as root_service


def guest(row: dict, timeout: float | None = None):
    """The guest agent's RPC client, from the request's (RPCHook)."""
    return hooks.rpcapi().guest(row, timeout)


def load(instance_id: str, rule: str):
    """The caller's instance (an admin may use any project's) after the
    policy check; returns (context, row)."""
    ctx = base.context()
    owner = None if ctx.is_admin else ctx.project_id
    row = service.get(ctx, instance_id, owner)
    base.authorize(rule, owner=row['tenant_id'])
    return ctx, row


def load_ready(instance_id: str, rule: str):
    """As load, for an instance whose guest can answer (422 otherwise)."""
    ctx, row = load(instance_id, rule)
    if row['status'] not in statuses.GUEST_READY:
        raise exception.UnprocessableEntity(
            'Instance %s is not ready: its status is %s.'
            % (instance_id, row['status']))
    return ctx, row


def _ready(instance_id: str, rule: str):
    """(context, row, manager) of an instance whose guest can answer."""
    ctx, row = load_ready(instance_id, rule)
    if pecan.request.method != 'GET':
        replication.check_accounts_change(row)
    return ctx, row, row['datastore_version']['manager']


def _ready_user(instance_id: str, user_id: str, rule: str):
    """(context, row, manager, name, host) for a user route."""
    ctx, row, manager = _ready(instance_id, rule)
    name, host = split_user_id(user_id)
    accounts.check_user_name(manager, name, host)
    return ctx, row, manager, name, host


def split_user_id(user_id: str) -> tuple[str, str]:
    """``name`` or ``name@host`` from the URL, unquoted."""
    text = urllib.parse.unquote(user_id)
    if '@' in text:
        name, _, host = text.rpartition('@')
        return name, host or '%'
    return text, '%'


class DatabaseController:
    PATHS = ('/instances/{instance_id}/databases/{database}',)

    def __init__(self, instance_id: str, name: str) -> None:
        self._instance_id = instance_id
        self._name = urllib.parse.unquote(name)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row, manager = _ready(self._instance_id,
                                   'instance:extension:database:delete')
        accounts.check_database_name(manager, self._name)
        guest(row).delete_database(ctx, self._name)
        return base.respond(None, 202)


class DatabasesController:
    PATHS = ('/instances/{instance_id}/databases',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row, _manager = _ready(self._instance_id,
                                    'instance:extension:database:index')
        items = guest(row).list_databases(ctx)
        return base.respond({'databases': [views.database(item)
                                           for item in items],
                             'links': []})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.databases)
        ctx, row, manager = _ready(self._instance_id,
                                   'instance:extension:database:create')
        databases = accounts.check_databases(manager, body['databases'])
        guest(row).create_databases(ctx, databases)
        return base.respond(None, 202)

    @expose()
    def _lookup(self, name, *remainder):
        if remainder:
            return None
        return DatabaseController(self._instance_id, name), remainder


class UserAccessController:
    PATHS = ('/instances/{instance_id}/users/{user}/databases',)

    def __init__(self, instance_id: str, user_id: str) -> None:
        self._instance_id = instance_id
        self._user_id = user_id

    def _user(self, rule: str):
        return _ready_user(self._instance_id, self._user_id, rule)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row, _manager, name, host = self._user(
            'instance:extension:user_access:index')
        items = guest(row).list_access(ctx, name, host)
        return base.respond({'databases': [views.database(item)
                                           for item in items]})

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        body = base.read_body(schemas.access)
        ctx, row, manager, name, host = self._user(
            'instance:extension:user_access:update')
        databases = [accounts.check_database_name(manager, item['name'])
                     for item in body['databases']]
        guest(row).grant_access(ctx, name, host, databases)
        return base.respond(None, 202)

    @expose()
    def _lookup(self, database, *remainder):
        if remainder:
            return None
        return _RevokeController(self, urllib.parse.unquote(database)), \
            remainder


class _RevokeController:
    PATHS = ('/instances/{instance_id}/users/{user}/databases/{database}',)

    def __init__(self, parent: UserAccessController, database: str) -> None:
        self._parent = parent
        self._database = database

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row, manager, name, host = self._parent._user(
            'instance:extension:user_access:delete')
        accounts.check_database_name(manager, self._database)
        guest(row).revoke_access(ctx, name, host, self._database)
        return base.respond(None, 202)


class UserController:
    PATHS = ('/instances/{instance_id}/users/{user}',)

    def __init__(self, instance_id: str, user_id: str) -> None:
        self._instance_id = instance_id
        self._user_id = user_id
        self.databases = UserAccessController(instance_id, user_id)

    def _user(self, rule: str):
        return _ready_user(self._instance_id, self._user_id, rule)

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row, _manager, name, host = self._user(
            'instance:extension:user:show')
        return base.respond({'user': views.user(
            guest(row).get_user(ctx, name, host))})

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        body = base.read_body(schemas.user_update)['user']
        ctx, row, manager, name, host = self._user(
            'instance:extension:user:update')
        if 'name' in body or 'host' in body:
            accounts.check_user_name(manager, body.get('name', name),
                                     body.get('host', host))
        guest(row).update_attributes(ctx, name, host, body)
        return base.respond(None, 202)

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row, _manager, name, host = self._user(
            'instance:extension:user:delete')
        guest(row).delete_user(ctx, name, host)
        return base.respond(None, 202)


class UsersController:
    PATHS = ('/instances/{instance_id}/users',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row, _manager = _ready(self._instance_id,
                                    'instance:extension:user:index')
        items = guest(row).list_users(ctx)
        return base.respond({'users': [views.user(item) for item in items],
                             'links': []})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        body = base.read_body(schemas.users)
        ctx, row, manager = _ready(self._instance_id,
                                   'instance:extension:user:create')
        users = accounts.check_users(manager, body['users'])
        guest(row).create_users(ctx, users)
        return base.respond(None, 202)

    @index.when(method='PUT', content_type=base.JSON)
    def index_put(self):
        body = base.read_body(schemas.passwords)
        ctx, row, manager = _ready(self._instance_id,
                                   'instance:extension:user:update_all')
        users = []
        for item in body['users']:
            name, host = accounts.check_user_name(manager, item['name'],
                                                  item.get('host'))
            users.append({'name': name, 'host': host,
                          'password': item['password']})
        guest(row).change_passwords(ctx, users)
        return base.respond(None, 202)

    @expose()
    def _lookup(self, user_id, *remainder):
        return UserController(self._instance_id, user_id), remainder


class InstanceRootController:
    PATHS = ('/instances/{instance_id}/root',)

    def __init__(self, instance_id: str) -> None:
        self._instance_id = instance_id

    @expose(generic=True, content_type=base.JSON)
    def index(self):
        base.method_not_allowed()

    @index.when(method='GET', content_type=base.JSON)
    def index_get(self):
        ctx, row, _manager = _ready(self._instance_id,
                                    'instance:extension:root:index')
        return base.respond({'rootEnabled': guest(row).is_root_enabled(ctx)})

    @index.when(method='POST', content_type=base.JSON)
    def index_post(self):
        password = None
        if base.has_body():
            body = base.read_body(schemas.root) or {}
            password = body.get('password')
        ctx, row, _manager = _ready(self._instance_id,
                                    'instance:extension:root:create')
        user = root_service.enable(ctx, row, password, guest(row))
        return base.respond({'user': user})

    @index.when(method='DELETE', content_type=base.JSON)
    def index_delete(self):
        ctx, row, _manager = _ready(self._instance_id,
                                    'instance:extension:root:delete')
        root_service.disable(ctx, row, guest(row))
        return base.respond(None, 204)
