"""Business rules of the datastore catalogue.

Used by the REST API (public and mgmt) and by trove-manage, so that both
enforce the same rules: a version needs an image id or image tags that
resolve in the image service; a version must be active to be made the
default; a version name may repeat with different version numbers.

As in Trove, disabling the default version does not clear the default:
the datastore keeps it, and enabling the version again makes it the
default once more. While it is disabled it is simply not used: a request
that names no version gets the datastore's newest active version (Trove
refuses it with DatastoreVersionInactive; seed 001 disables the default
it has just made, and seed 003 then creates an instance naming only the
datastore). With no active version at all the request is refused with
DatastoreVersionInactive.
"""
import functools
import json
import re
import threading
import time

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import listings
from trove_clone import drivers

FLAVOR_KEY = 'flavor'
VOLUME_TYPE_KEY = 'volume_type'


class _Catalogue:
    """A short-lived snapshot of all datastores and versions.

    Listing datastores is the API's most frequent read; the snapshot spares
    it two queries per request. It lives ``datastore_cache_ttl`` seconds and
    is dropped by every write made through this module.
    """

    #: Values derived from one snapshot (e.g. rendered listings) kept.
    MAX_DERIVED = 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: tuple | None = None
        self._expires = 0.0
        self._derived: dict = {}

    def get(self, context) -> tuple[list[dict], list[dict]]:
        ttl = CONF.datastore_cache_ttl
        now = time.monotonic()
        with self._lock:
            if ttl > 0 and self._snapshot is not None and now < self._expires:
                return self._snapshot
        snapshot = (db_api.datastore_list(context),
                    listings.datastore_versions(context))
        with self._lock:
            self._snapshot = snapshot
            self._expires = now + ttl
            self._derived = {}
        return snapshot

    def derived(self, context, key, compute):
        """``compute(snapshot)``, remembered as long as the snapshot lives.

        ``key`` must name everything else the value depends on.
        """
        snapshot = self.get(context)
        with self._lock:
            if self._snapshot is snapshot and key in self._derived:
                return self._derived[key]
        value = compute(snapshot)
        with self._lock:
            if self._snapshot is snapshot:
                if len(self._derived) >= self.MAX_DERIVED:
                    self._derived = {}
                self._derived[key] = value
        return value

    def invalidate(self) -> None:
        with self._lock:
            self._snapshot = None
            self._derived = {}


_catalogue = _Catalogue()


def invalidate_cache() -> None:
    """Forget the catalogue snapshot (after a write, and in tests)."""
    _catalogue.invalidate()


def _writes_catalogue(func):
    """Drop the snapshot once ``func`` has written (or failed)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        finally:
            _catalogue.invalidate()
    return wrapper


def split_tags(text: str | None) -> list[str]:
    """``"trove,mysql"`` → ``['trove', 'mysql']``; blanks dropped."""
    return [tag.strip() for tag in (text or '').split(',') if tag.strip()]


def check_image(image_id: str | None, image_tags: list[str]) -> None:
    """Raise unless the image, or an image with all the tags, exists."""
    if image_id:
        drivers.get('image').get(image_id)
    elif image_tags:
        drivers.get('image').find_by_tags(image_tags)
    else:
        raise exception.ImageRequired()


def require_names(**names: str | None) -> None:
    """BadRequest naming the first of ``names`` (what=value) that is
    empty or blank: Trove's trove-manage accepted '' and created a
    datastore (or version) nobody could name again."""
    for what, value in names.items():
        if not (value or '').strip():
            raise exception.BadRequest(
                'The %s must not be empty.' % what.replace('_', ' '))


def find_version(context, datastore: str, version: str,
                 version_number: str | None = None) -> dict:
    return db_api.datastore_version_find(context, datastore, version,
                                         version_number)


def version_or_default(context, datastore: str, version: str | None,
                       version_number: str | None = None) -> dict:
    """The version a request names, or the datastore's default version.

    :raises: DatastoreNotFound, DatastoreNoVersion,
        DatastoreDefaultVersionNotFound
    """
    if version:
        return find_version(context, datastore, version, version_number)
    ds = db_api.datastore_get(context, datastore)
    if not ds.get('default_version_id'):
        raise exception.DatastoreDefaultVersionNotFound(datastore=ds['name'])
    default = db_api.datastore_version_get(context, ds['default_version_id'])
    if default['active']:
        return default
    active = listings.datastore_versions(context, ds['id'],
                                         only_active=True)
    if not active:
        return default
    return max(active, key=_newest)


def _newest(version: dict) -> tuple:
    """Order versions by their version number's numbers, then name."""
    numbers = tuple(int(part) for part in
                    re.findall(r'\d+', version.get('version') or ''))
    return numbers, version.get('version') or '', version['name']


@_writes_catalogue
def update_datastore(context, name: str, default_version: str,
                     version_number: str | None = None) -> dict:
    """trove-manage datastore_update: create the datastore if missing and
    set its default version by name ("" clears it).

    The datastore is created only once the default version is known to be
    valid, so that a bad call changes nothing.

    :raises: BadRequest for an empty name; DatastoreNotFound,
        DatastoreNoVersion, DatastoreVersionInactive for the version
    """
    require_names(datastore_name=name)
    if not default_version:
        return db_api.datastore_create_or_update(
            context, name, default_version_id=None, set_default=True)
    version = find_version(context, name, default_version, version_number)
    if not version['active']:
        raise exception.DatastoreVersionInactive(
            version='%s (%s)' % (default_version, version['version']))
    return db_api.datastore_create_or_update(
        context, name, default_version_id=version['id'], set_default=True)


@_writes_catalogue
def upsert_version(context, datastore: str, name: str, manager: str,
                   image_id: str | None, packages: str | None, active: bool,
                   image_tags: list[str] | None = None,
                   version_number: str | None = None,
                   registry_ext: str | None = None,
                   repl_strategy: str | None = None,
                   create_datastore: bool = False,
                   make_default: bool | None = None,
                   only_create: bool = False) -> tuple[dict, bool]:
    """Create or update the version (``name``, ``version_number``).

    Everything is checked before anything is written.

    :param create_datastore: create a missing datastore (the mgmt API)
        instead of raising DatastoreNotFound (trove-manage)
    :param only_create: refuse to update an existing version
    :returns: (version, created)
    :raises: BadRequest for an empty datastore, version or manager name;
        DatastoreNotFound, ImageNotFound, ImageRequired,
        DatastoreVersionAlreadyExists, DatastoreVersionInactive
    """
    require_names(datastore_name=datastore, version_name=name,
                  manager=manager)
    image_tags = image_tags or []
    version_number = version_number or name
    if make_default and not active:
        raise exception.DatastoreVersionInactive(
            version='%s (%s)' % (name, version_number))
    if not create_datastore:
        db_api.datastore_get(context, datastore)
    check_image(image_id, image_tags)
    if create_datastore:
        ds = db_api.datastore_create_or_update(context, datastore)
    else:
        ds = db_api.datastore_get(context, datastore)
    values = {
        'manager': manager,
        'image_id': image_id or None,
        'image_tags': ','.join(image_tags) or None,
        'packages': packages or None,
        'active': bool(active),
        'registry_ext': registry_ext,
        'repl_strategy': repl_strategy,
    }
    existing = [v for v in listings.datastore_versions(context, ds['id'])
                if v['name'] == name and v['version'] == version_number]
    if existing and only_create:
        raise exception.DatastoreVersionAlreadyExists(
            name=name, version=version_number, datastore=ds['name'])
    if existing:
        version = db_api.datastore_version_update(
            context, existing[0]['id'], values)
        created = False
    else:
        values.update(datastore_id=ds['id'], name=name,
                      version=version_number)
        version = db_api.datastore_version_create(context, values)
        created = True
    _apply_default(context, ds['id'], version['id'], make_default)
    return db_api.datastore_version_get(context, version['id']), created


def _apply_default(context, datastore_id: str, version_id: str,
                   make_default: bool | None) -> None:
    if make_default is True:
        db_api.datastore_set_default_version(context, datastore_id,
                                             version_id)
    elif make_default is False:
        db_api.datastore_set_default_version(
            context, datastore_id, None, only_if_current=version_id)


@_writes_catalogue
def edit_version(context, version_id: str, changes: dict) -> dict:
    """The mgmt PATCH: apply ``changes`` to a version.

    Sending image tags without an image drops the image id, as Trove does.
    Disabling the datastore's default version keeps it the default (see
    the module's docstring); only ``default: false`` clears it.

    :raises: DatastoreVersionNotFound, ImageNotFound, ImageRequired,
        DatastoreVersionInactive (made the default while disabled)
    """
    version = db_api.datastore_version_get(context, version_id)
    values: dict = {}
    if 'name' in changes:
        values['name'] = changes['name']
    if 'datastore_manager' in changes:
        values['manager'] = changes['datastore_manager']
    if 'packages' in changes:
        values['packages'] = ','.join(changes['packages']) or None
    if 'registry_ext' in changes:
        values['registry_ext'] = _as_text(changes['registry_ext'])
    if 'repl_strategy' in changes:
        values['repl_strategy'] = changes['repl_strategy']
    if 'active' in changes:
        values['active'] = bool(changes['active'])
    if 'image' in changes or 'image_tags' in changes:
        image_id = changes.get('image') or None
        tags = changes.get('image_tags') or []
        if image_id is None and not tags:
            tags = split_tags(version['image_tags'])
        check_image(image_id, tags)
        values['image_id'] = image_id
        values['image_tags'] = ','.join(tags) or None
    will_be_active = values.get('active', version['active'])
    if changes.get('default') and not will_be_active:
        raise exception.DatastoreVersionInactive(version=version_id)
    if values:
        db_api.datastore_version_update(context, version_id, values)
    if 'default' in changes:
        _apply_default(context, version['datastore_id'], version_id,
                       bool(changes['default']))
    return db_api.datastore_version_get(context, version_id)


def _as_text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


@_writes_catalogue
def delete_version(context, version_id: str) -> None:
    db_api.datastore_version_delete(context, version_id)


def get_version(context, version_id: str) -> dict:
    """Administrator: any version by id, active or not.

    :raises: DatastoreVersionNotFound (404)
    """
    return db_api.datastore_version_get(context, version_id)


def list_versions(context) -> list[dict]:
    """Administrator: every version of every datastore."""
    return listings.datastore_versions(context)


def visible_datastores(context, is_admin: bool,
                       snapshot: tuple | None = None
                       ) -> list[tuple[dict, list]]:
    """Datastores with their versions, as a caller may see them.

    Members see only active versions and only datastores that have one.
    """
    datastores, versions = snapshot or _catalogue.get(context)
    by_datastore: dict[str, list] = {}
    for version in versions:
        if is_admin or version['active']:
            by_datastore.setdefault(version['datastore_id'],
                                    []).append(version)
    result = []
    for ds in datastores:
        ds_versions = by_datastore.get(ds['id'], [])
        if ds_versions or is_admin:
            result.append((ds, ds_versions))
    return result


def derived_from_datastores(context, key, compute):
    """``compute(snapshot)`` for the current catalogue snapshot, computed
    once per snapshot and ``key`` (the API keeps rendered listings)."""
    return _catalogue.derived(context, key, compute)


def visible_datastore(context, id_or_name: str,
                      is_admin: bool) -> tuple[dict, list]:
    ds = db_api.datastore_get(context, id_or_name)
    versions = listings.datastore_versions(context, ds['id'],
                                           only_active=not is_admin)
    if not versions and not is_admin:
        raise exception.DatastoreNotFound(datastore=id_or_name)
    return ds, versions


def visible_version(context, datastore: str, version: str,
                    is_admin: bool) -> dict:
    found = find_version(context, datastore, version)
    if not found['active'] and not is_admin:
        raise exception.DatastoreVersionNotFound(version=version)
    return found


def visible_version_by_id(context, version_id: str, is_admin: bool) -> dict:
    found = db_api.datastore_version_get(context, version_id)
    if not found['active'] and not is_admin:
        raise exception.DatastoreVersionNotFound(version=version_id)
    return found


# --- flavor and volume-type associations ----------------------------------

def add_associations(context, datastore: str, version: str, key: str,
                     values: list[str],
                     version_number: str | None = None) -> tuple[dict, list]:
    found = find_version(context, datastore, version, version_number)
    if key == FLAVOR_KEY:
        for flavor_id in values:
            drivers.get('flavor').get(flavor_id)
    return found, db_api.version_metadata_add(context, found['id'], key,
                                              values)


def delete_association(context, datastore: str, version: str, key: str,
                       value: str, version_number: str | None = None) -> dict:
    found = find_version(context, datastore, version, version_number)
    if not db_api.version_metadata_delete(context, found['id'], key, value):
        raise exception.NotFound(
            '%s %s is not associated with datastore %s version %s.'
            % (key.replace('_', ' ').capitalize(), value, datastore,
               version))
    return found


def list_associations(context, version_id: str, key: str) -> list[str]:
    return db_api.version_metadata_list(context, version_id, key)


def associated_flavors(context, datastore: str, version_id: str,
                       is_admin: bool) -> list[dict]:
    """Flavors allowed for a version: all of them when none is associated."""
    version = visible_version(context, datastore, version_id, is_admin)
    allowed = set(list_associations(context, version['id'], FLAVOR_KEY))
    flavors = drivers.get('flavor').list()
    if allowed:
        flavors = [flavor for flavor in flavors if flavor['id'] in allowed]
    return flavors


@_writes_catalogue
def delete_datastore(context, id_or_name: str) -> None:
    """Delete a datastore that has no versions left."""
    ds = db_api.datastore_get(context, id_or_name)
    db_api.datastore_delete(context, ds['id'])
