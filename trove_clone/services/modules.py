"""Business rules of modules: who may create, see and change them, where
they apply, their contents (encrypted at rest) and what a guest receives.

The md5 of a module is Trove's: of its contents as the client sent them
(the trove CLI sends a file base64-encoded), so the same file gives the
same md5 as in Trove.
"""
import hashlib
import os
from typing import Any, Protocol

from oslo_log import log as logging

from trove_clone.common import context as trove_context
from trove_clone.common import crypto
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import modules as db_modules
from trove_clone.services import quotas

LOG = logging.getLogger(__name__)
ALL = 'all'
KEY_FILE_NAME = 'module.key'
#: The status a guest reports for a module it applied.
APPLIED = 'OK'
#: Options only an administrator may set (value that needs admin).
_ADMIN_OPTIONS = (('all_tenants', True), ('auto_apply', True),
                  ('visible', False), ('priority_apply', True))
_FLAGS = ('auto_apply', 'visible', 'live_update', 'priority_apply')


class Tasks(Protocol):
    """What this module casts to the taskmanager."""

    def reapply_module(self, context, module_id: str, md5: str | None,
                       include_clustered: bool, batch_size: int,
                       batch_delay: int, force: bool) -> None: ...


class ModuleGuest(Protocol):
    """The module calls of an instance's guest agent."""

    def module_apply(self, context, modules: list[dict]) -> list[dict]: ...

    def module_remove(self, context, module: dict) -> None: ...


# --- the deployment's module key ---------------------------------------------

def key_file() -> str:
    """Where the generated module key lives."""
    return secrets.beside_config(CONF.module_key_file, KEY_FILE_NAME)


def ensure_key() -> str | None:
    """Generate the module key file (0600) when no key is configured and
    the file does not exist yet; returns the path written, or None."""
    if CONF.module_aes_cbc_key:
        return None
    path = key_file()
    return path if secrets.ensure_key_file(path) else None


def _secret() -> str:
    if CONF.module_aes_cbc_key:
        return CONF.module_aes_cbc_key
    if not os.path.exists(key_file()):
        # A host that was never given the deployment's key must not make
        # its own: modules it encrypted would be unreadable elsewhere.
        if db_modules.newest(trove_context.admin_context()) is not None:
            raise exception.TroveError(_MISSING_KEY % key_file())
        ensure_key()
    with open(key_file()) as source:
        secret = source.read().strip()
    if not secret:
        # Never encrypt under an empty key (a truncated file, or one that
        # another process has created but not written yet).
        raise exception.TroveError(
            'The module key file %s is empty: restore it, or set '
            'module_aes_cbc_key.' % key_file())
    return secret


_MISSING_KEY = ('The module key file %s is missing but modules are stored: '
                'copy it from the host where trove-manage db_sync ran (every '
                'trove-api and trove-taskmanager host needs the same key), '
                'or set module_aes_cbc_key.')


def key_check(context) -> tuple[bool, str]:
    """Whether this host's module key can read the stored modules, and
    why (``trove-status upgrade check``)."""
    source = ('module_aes_cbc_key' if CONF.module_aes_cbc_key
              else key_file())
    newest = db_modules.newest(context)
    if not CONF.module_aes_cbc_key and not os.path.exists(source):
        if newest is not None:
            return False, _MISSING_KEY % source
        return True, ('No module key yet; trove-manage db_sync (or the '
                      'first module created) writes %s.' % source)
    if newest is None:
        return True, 'Module key in %s; no modules stored.' % source
    try:
        decrypt(newest['contents'])
    except exception.TroveError as error:
        return False, ('Module %s (%s) cannot be read with the key in %s: '
                       '%s' % (newest['name'], newest['id'], source,
                               error.message))
    return True, 'Module key in %s reads the stored modules.' % source


def encrypt(contents: str) -> str:
    return crypto.encrypt_text(contents, _secret())


def decrypt(stored: str) -> str:
    """The contents as the client sent them.

    :raises: TroveError (500) when the key changed since they were stored
    """
    try:
        return crypto.decrypt_text(stored, _secret())
    except crypto.UnsealError as error:
        raise exception.TroveError(
            'A module\'s contents cannot be read: %s. Was the module key '
            '(module_aes_cbc_key or %s) changed?' % (error, key_file()))


def md5_of(contents: str) -> str:
    return hashlib.md5(contents.encode('utf-8'),
                       usedforsecurity=False).hexdigest()


# --- checks ------------------------------------------------------------------

def _check_type(module_type: str) -> str:
    allowed = [name.lower() for name in CONF.module_types]
    module_type = (module_type or '').strip().lower()
    if module_type not in allowed:
        raise exception.ModuleTypeNotFound(
            module_type=module_type, allowed=', '.join(allowed) or '(none)')
    return module_type


def check_type_allowed(context, module_type: str, action: str) -> None:
    """ModuleTypeAdminOnly (403) when a member asks for a module of a type
    in admin_only_module_types to be ``action`` ("created", "updated",
    "applied", "reapplied"): its contents run as code or SQL on the guest.
    """
    if context.is_admin:
        return
    admin_only = {name.strip().lower()
                  for name in CONF.admin_only_module_types}
    if (module_type or '').strip().lower() in admin_only:
        raise exception.ModuleTypeAdminOnly(module_type=module_type,
                                            action=action)


def _check_contents(contents: Any) -> str:
    if not isinstance(contents, str) or not contents.strip():
        raise exception.BadRequest('module.contents must be a non-empty '
                                   'string.')
    size = len(contents.encode('utf-8'))
    if size > CONF.module_contents_max_size:
        raise exception.BadRequest(
            'module.contents is %d bytes; the limit is %d bytes '
            '(module_contents_max_size).' % (size,
                                             CONF.module_contents_max_size))
    return contents


def _check_admin_options(context, spec: dict, action: str) -> list[str]:
    """403 when a member sets an administrator's option; 400 when
    full_access is combined with one. Returns the options chosen."""
    chosen = [name for name, admin_value in _ADMIN_OPTIONS
              if name in spec and bool(spec[name]) == admin_value]
    if 'full_access' in spec and spec['full_access'] is not None:
        if not context.is_admin:
            chosen.append('full_access')
        elif spec['full_access'] and chosen:
            raise exception.BadRequest(
                'full_access cannot be combined with the administrator '
                'options %s.' % ', '.join(chosen))
    if chosen and not context.is_admin:
        raise exception.ModuleAccessForbidden(action=action,
                                              options=', '.join(chosen))
    return chosen


def _options_after(module: dict, spec: dict) -> dict:
    """The administrator's options ``module`` has once ``spec`` is
    applied, with the request's full_access: an update is checked against
    what the module becomes, not only against what the request names."""
    current = {'all_tenants': module['tenant_id'] is None,
               'auto_apply': module['auto_apply'],
               'visible': module['visible'],
               'priority_apply': module['priority_apply']}
    options = {name: spec[name] if spec.get(name) is not None else value
               for name, value in current.items()}
    options['full_access'] = spec.get('full_access')
    return options


def _resolve_datastore(context, datastore: dict | None
                       ) -> tuple[str | None, str | None]:
    """(datastore id, version id) a request's ``datastore`` names; None
    for "all"."""
    datastore = datastore or {}
    name = datastore.get('type')
    version = datastore.get('version')
    if not name or name == ALL:
        if version and version != ALL:
            raise exception.BadRequest(
                'module.datastore.version needs module.datastore.type.')
        return None, None
    found = db_api.datastore_get(context, name)
    if not version or version == ALL:
        return found['id'], None
    return found['id'], db_api.datastore_version_find(
        context, found['id'], version)['id']


def _check_apply_order(value: Any) -> int:
    try:
        order = int(value)
    except (TypeError, ValueError):
        order = -1
    if not 0 <= order <= 9:
        raise exception.BadRequest('module.apply_order must be a whole '
                                   'number from 0 to 9, not %r.' % (value,))
    return order


# --- create, show, list, update, delete -------------------------------------

def create(context, spec: dict) -> dict:
    """Check and record a module; returns it (contents encrypted).

    :raises: ModuleTypeNotFound (404), ModuleAccessForbidden,
        ModuleTypeAdminOnly (403), ModuleAlreadyExists, QuotaExceeded,
        BadRequest, DatastoreNotFound
    """
    module_type = _check_type(spec.get('module_type'))
    check_type_allowed(context, module_type, 'created')
    contents = _check_contents(spec.get('contents'))
    _check_admin_options(context, spec, 'create a module with')
    datastore_id, version_id = _resolve_datastore(context,
                                                  spec.get('datastore'))
    full_access = bool(spec.get('full_access'))
    values = {
        'name': spec['name'].strip(), 'type': module_type,
        'contents': encrypt(contents), 'md5': md5_of(contents),
        'description': spec.get('description'),
        'tenant_id': None if spec.get('all_tenants') else context.project_id,
        'datastore_id': datastore_id, 'datastore_version_id': version_id,
        'auto_apply': bool(spec.get('auto_apply', False)),
        'visible': bool(spec.get('visible', True)),
        'live_update': bool(spec.get('live_update', False)),
        'priority_apply': bool(spec.get('priority_apply', False)),
        'apply_order': _check_apply_order(spec.get('apply_order', 5)),
        'is_admin': bool(context.is_admin) and not full_access,
    }
    return db_modules.create(context, values, _limit(context))


def _limit(context, project_id: str | None = None) -> int:
    """The modules quota of ``project_id`` (the caller's by default)."""
    return quotas.limits(context, project_id or context.project_id)[
        db_modules.QUOTA_RESOURCE]


def visible_to(context, module: dict) -> bool:
    if context.is_admin:
        return True
    return bool(module['visible']) and \
        module['tenant_id'] in (None, context.project_id)


def get(context, module_id: str) -> dict:
    """A module the caller may see; ModuleNotFound otherwise."""
    module = db_modules.get(context, module_id)
    if not visible_to(context, module):
        raise exception.ModuleNotFound(id=module_id)
    return module


def page_size(requested: int | None) -> int:
    """The page size: the request's limit capped by modules_page_size."""
    if requested is None:
        return CONF.modules_page_size
    return min(requested, CONF.modules_page_size)


def list_page(context, datastore: str | None = None,
              limit: int | None = None, marker: str | None = None
              ) -> tuple[list[dict], str | None]:
    """One page of the modules the caller may see (without contents) and
    the marker of the next page (or None). ``datastore`` (a name or id,
    or "all") keeps those of exactly that datastore (or those for all),
    as Trove does.

    :raises: DatastoreNotFound, ModuleNotFound (the marker)
    """
    size = page_size(limit)
    datastore_id = None
    all_datastores = bool(datastore) and datastore.lower() == ALL
    if datastore and not all_datastores:
        datastore_id = db_api.datastore_get(context, datastore)['id']
    rows = db_modules.list_page(
        context, None if context.is_admin else context.project_id,
        size + 1, marker, datastore_id, all_datastores)
    next_marker = rows[size - 1]['id'] if len(rows) > size else None
    return rows[:size], next_marker


def _check_may_change(context, module: dict, action: str) -> None:
    if module['is_admin'] and not context.is_admin:
        raise exception.ModuleAccessForbidden(
            action='%s this module' % action,
            options='it was created by an administrator')
    if not module['live_update']:
        count = db_modules.count_current(context, module['id'],
                                         module['md5'])
        if count:
            raise exception.ModuleAppliedToInstance(
                id=module['id'], count=count, action=action + 'd')


def _datastore_changes(context, module: dict, spec: dict) -> dict:
    changes = {}
    if spec.get('all_datastores'):
        changes.update(datastore_id=None, datastore_version_id=None)
    elif spec.get('datastore'):
        datastore = dict(spec['datastore'])
        if not datastore.get('type') and module['datastore_id']:
            datastore['type'] = module['datastore_id']
        ds_id, version_id = _resolve_datastore(context, datastore)
        changes.update(datastore_id=ds_id, datastore_version_id=version_id)
    if spec.get('all_datastore_versions'):
        changes['datastore_version_id'] = None
    return changes


def update(context, module: dict, spec: dict) -> dict:
    """Change a module; the md5 follows new contents.

    :raises: ModuleAccessForbidden, ModuleAppliedToInstance,
        ModuleTypeAdminOnly (403), ModuleTypeNotFound, ModuleAlreadyExists,
        BadRequest
    """
    check_type_allowed(context, module['type'], 'updated')
    _check_may_change(context, module, 'update')
    chosen = _check_admin_options(context, _options_after(module, spec),
                                  'update a module with')
    changes = _datastore_changes(context, module, spec)
    if spec.get('name') is not None:
        changes['name'] = spec['name'].strip()
    module_type = spec.get('module_type', spec.get('type'))
    if module_type is not None:
        changes['type'] = _check_type(module_type)
        check_type_allowed(context, changes['type'], 'updated')
    if spec.get('contents') is not None:
        contents = _check_contents(spec['contents'])
        changes.update(contents=encrypt(contents), md5=md5_of(contents))
    if 'description' in spec:
        changes['description'] = spec['description']
    if spec.get('all_tenants') is not None:
        changes['tenant_id'] = None if spec['all_tenants'] else \
            (module['tenant_id'] or context.project_id)
    for flag in _FLAGS:
        if spec.get(flag) is not None:
            changes[flag] = bool(spec[flag])
    if spec.get('apply_order') is not None:
        changes['apply_order'] = _check_apply_order(spec['apply_order'])
    if spec.get('full_access') is not None:
        changes['is_admin'] = not spec['full_access']
    elif chosen:
        changes['is_admin'] = True
    return db_modules.update(context, module['id'], changes,
                             _limit(context, changes.get('tenant_id')))


def delete(context, module: dict) -> None:
    _check_may_change(context, module, 'delete')
    db_modules.delete(context, module['id'])


# --- instances ---------------------------------------------------------------

def check_applies(context, module: dict, version: dict) -> None:
    """ModuleInvalid (400) when the module is for another datastore or
    version than ``version``; the message names both and the way out."""
    datastore, module_version = _names(context, module)
    if module['datastore_id'] and \
            module['datastore_id'] != version['datastore_id']:
        raise exception.ModuleInvalid(reason=(
            "module '%s' is for another datastore than %s: it applies to "
            "%s instances only ('trove module-update %s --all_datastores' "
            "lets it apply to every datastore)."
            % (module['name'], version['datastore_name'], datastore,
               module['name'])))
    if module['datastore_version_id'] and \
            module['datastore_version_id'] != version['id']:
        raise exception.ModuleInvalid(reason=(
            "module '%s' is for another version of %s than %s: it applies "
            "to %s %s instances only ('trove module-update %s "
            "--all_datastore_versions' lets it apply to every version)."
            % (module['name'], version['datastore_name'], version['name'],
               datastore, module_version, module['name'])))


def for_instance(context, references: list, version: dict) -> list[dict]:
    """The modules of ``[{'id': ...}]`` (each visible to the caller, of a
    type the caller may apply and for ``version``), without repeats."""
    modules: dict = {}
    for reference in references:
        module_id = reference.get('id') if isinstance(reference, dict) \
            else reference
        module = get(context, str(module_id))
        check_type_allowed(context, module['type'], 'applied')
        check_applies(context, module, version)
        modules[module['id']] = module
    return list(modules.values())


def for_new_instance(context, references: list, version: dict) -> list[dict]:
    """The requested modules and the auto_apply ones of the tenant and
    version, for an instance about to be created."""
    modules = {module['id']: module for module in
               for_instance(context, references, version)}
    for module in db_modules.auto_apply_for(
            context, context.project_id, version['datastore_id'],
            version['id']):
        modules.setdefault(module['id'], module)
    return list(modules.values())


def _names(context, module: dict) -> tuple[str, str]:
    """The names of the module's datastore and version: "all" where it
    has none, the id where the datastore (version) is gone."""
    return (_name(context, db_api.datastore_get, module['datastore_id'],
                  exception.DatastoreNotFound),
            _name(context, db_api.datastore_version_get,
                  module['datastore_version_id'],
                  exception.DatastoreVersionNotFound))


def _name(context, lookup, object_id: str | None, missing) -> str:
    if not object_id:
        return ALL
    try:
        return lookup(context, object_id)['name']
    except missing:
        return object_id


def with_names(context, module: dict) -> dict:
    """The module with ``datastore``, ``datastore_version`` and
    ``tenant`` as the views show them ("all" or a name)."""
    data = dict(module)
    data['datastore'], data['datastore_version'] = _names(context, module)
    data['tenant'] = module['tenant_id'] or ALL
    return data


def payload(context, module: dict) -> dict:
    """What a guest needs to apply the module (contents decrypted)."""
    datastore, version = _names(context, module)
    return {
        'id': module['id'], 'name': module['name'], 'type': module['type'],
        'contents': decrypt(module['contents']), 'md5': module['md5'],
        'datastore': datastore, 'datastore_version': version,
        'tenant': module['tenant_id'] or ALL,
        'auto_apply': bool(module['auto_apply']),
        'visible': bool(module['visible']),
        'is_admin': bool(module['is_admin']),
        'live_update': bool(module['live_update']),
        'priority_apply': bool(module['priority_apply']),
        'apply_order': module['apply_order'],
        'created': module['created'].isoformat(),
        'updated': module['updated'].isoformat(),
    }


def applied_to(context, instance_id: str) -> list[dict]:
    """The modules the control database records on an instance that the
    caller may see, with names as the views show them."""
    return [with_names(context, module)
            for module in db_modules.applied_to(context, instance_id)
            if visible_to(context, module)]


def apply_to(context, row: dict, references: list,
             guest: ModuleGuest) -> list[dict]:
    """Have the instance's guest apply ``[{'id': ...}]`` now; records the
    md5 of each it applied and returns the guest's results."""
    modules = for_instance(context, references, row['datastore_version'])
    results = guest.module_apply(context, [payload(context, module)
                                           for module in modules])
    record_results(context, row['id'], modules, results)
    return results


def remove_from(context, row: dict, module_id: str,
                guest: ModuleGuest) -> None:
    """Have the guest undo a module and forget it on the instance. A
    module the guest lost (a rebuilt volume, say) is forgotten too; one
    never applied stays a 404."""
    module = get(context, module_id)
    try:
        guest.module_remove(context, payload(context, module))
    except exception.NotFound:
        if module['id'] not in [applied['id'] for applied in
                                db_modules.applied_to(context, row['id'])]:
            raise
    db_modules.record_removed(context, row['id'], module['id'])


def current_count(context, module: dict) -> int:
    """How many instances have the module's current contents (md5)."""
    return db_modules.count_current(context, module['id'], module['md5'])


def instance_counts(context, module: dict, include_clustered: bool,
                    tenant_id: str | None) -> list:
    """The module's instances counted by the md5 each has (of
    ``tenant_id``'s instances, or everyone's for None)."""
    return db_modules.count_by_md5(context, module['id'], include_clustered,
                                   tenant_id)


def instance_ids(context, module: dict, include_clustered: bool,
                 limit: int, marker: str | None,
                 tenant_id: str | None) -> list[str]:
    """Ids of at most ``limit`` instances the module is applied to, after
    ``marker`` (of ``tenant_id``'s instances, or everyone's for None)."""
    return db_modules.instance_ids(context, module['id'], include_clustered,
                                   limit, marker, tenant_id)


def record_results(context, instance_id: str, modules: list[dict],
                   results: list[dict]) -> list[dict]:
    """Record, for each of ``modules`` (rows or payloads) the guest
    reports applied, its md5 on the instance; returns the modules it did
    not apply, each with its result (``{}`` when it gave none)."""
    by_id = {result.get('id'): result for result in results}
    failed = []
    for module in modules:
        result = by_id.get(module['id'], {})
        if result.get('status') == APPLIED:
            db_modules.record_applied(context, instance_id, module['id'],
                                      module['md5'])
        else:
            failed.append(dict(module, result=result))
    return failed


def reapply(context, module: dict, spec: dict, tasks: Tasks) -> None:
    """Check a reapply request and cast it.

    As in Trove, an ``md5`` that no instance has is not an error: the
    reapply is accepted and finds no instance to update.

    :raises: ModuleTypeAdminOnly (403) for a member and a type of
        admin_only_module_types; BadRequest for a batch larger than a
        member may ask for, or a delay shorter
    """
    check_type_allowed(context, module['type'], 'reapplied')
    md5 = spec.get('md5') or None
    batch_size = spec.get('batch_size')
    batch_delay = spec.get('batch_delay')
    if batch_size is None:
        batch_size = CONF.module_reapply_max_batch_size
    if batch_delay is None:
        batch_delay = CONF.module_reapply_min_batch_delay
    if not context.is_admin:
        if batch_size > CONF.module_reapply_max_batch_size:
            raise exception.BadRequest(
                'reapply.batch_size may be at most %d.'
                % CONF.module_reapply_max_batch_size)
        if batch_delay < CONF.module_reapply_min_batch_delay:
            raise exception.BadRequest(
                'reapply.batch_delay must be at least %d seconds.'
                % CONF.module_reapply_min_batch_delay)
    tasks.reapply_module(context, module['id'], md5,
                         bool(spec.get('include_clustered')), batch_size,
                         batch_delay, bool(spec.get('force')))
