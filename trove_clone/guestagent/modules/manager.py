"""Applying, listing and removing the modules of this guest.

The control plane sends module payloads (plain dicts: ``id``, ``name``,
``type``, ``contents`` as the API client sent them, ``md5``,
``datastore``, ``datastore_version``, ``tenant``, ``auto_apply``,
``visible``, ``is_admin``, ``live_update``, ``priority_apply``,
``apply_order``...). Each is applied by the driver of its type
(:mod:`loader`) and leaves a result, kept on the data volume in
``<volume>/modules/<type>/<module id>/result.json`` so that it survives a
restart of the agent::

    {'id', 'name', 'type', 'datastore', 'datastore_version', 'tenant',
     'md5', 'auto_apply', 'visible', 'is_admin',
     'status': 'OK' | 'ERROR' | a driver's own, 'message': str,
     'created': str, 'updated': str, 'removed': None | str}

plus ``contents`` (as received) when asked for. Timestamps are UTC, as
``2017-06-02 17:23:40.50``. The results directory is private to the agent
(mode 0700): contents may hold secrets.
"""
import base64
import binascii
import datetime
import glob
import json
import os
import re
import threading

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.capabilities import overrides
from trove_clone.guestagent.datastores import loader as engine_loader
from trove_clone.guestagent.modules import base
from trove_clone.guestagent.modules import loader

LOG = logging.getLogger(__name__)
#: The directory of the results, on the data volume.
MODULES_DIR = 'modules'
RESULT_FILE = 'result.json'
#: The apply_order of a payload without one.
DEFAULT_APPLY_ORDER = 5
#: The payload fields a result repeats.
PAYLOAD_FIELDS = ('id', 'name', 'type', 'datastore', 'datastore_version',
                  'tenant', 'md5', 'auto_apply', 'visible', 'is_admin')
#: The fields of a result, in the order views show them.
RESULT_FIELDS = PAYLOAD_FIELDS + ('status', 'message', 'created', 'updated',
                                  'removed')
#: A module id or type usable as a directory name (no '/', no leading '.').
_PATH_PART = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$')


def timestamp(moment: datetime.datetime | None = None) -> str:
    """``moment`` (default: now) in UTC as results show it,
    ``2017-06-02 17:23:40.50``."""
    moment = moment or datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime('%Y-%m-%d %H:%M:%S.%f')[:22]


def decode_contents(contents: str | None) -> bytes:
    """The bytes of a payload's ``contents``: decoded when it is valid
    base64 (as the trove CLI sends files), else its UTF-8 text."""
    text = contents or ''
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text.encode('utf-8')


def _apply_order(module: dict) -> int:
    try:
        return int(module.get('apply_order', DEFAULT_APPLY_ORDER))
    except (TypeError, ValueError):
        return DEFAULT_APPLY_ORDER


def apply_sequence(modules: list[dict]) -> list[dict]:
    """``modules`` in the order they are applied: ``priority_apply`` ones
    first, each group by ``apply_order`` ascending, ties as given."""
    by_order = sorted(modules, key=_apply_order)
    return sorted(by_order, key=lambda module: not module.get(
        'priority_apply'))


def view(result: dict, include_contents: bool = False) -> dict:
    """The result as the RPC API returns it (``contents`` only when
    ``include_contents``)."""
    shown = {field: result.get(field) for field in RESULT_FIELDS}
    if include_contents:
        shown['contents'] = result.get('contents')
    return shown


def _check_payload(payload: dict) -> None:
    """BadRequest unless ``payload`` has an id and a type that can name
    its result's directory."""
    for field in ('id', 'type'):
        value = payload.get(field)
        if not isinstance(value, str) or not _PATH_PART.fullmatch(value):
            raise exception.BadRequest('The module payload has no valid '
                                       '%s: %r.' % (field, value))


class ModuleManager:
    """The modules of this guest; one per agent (calls are serialised).

    :param root: where results are kept; default ``<volume>/modules``,
        found at each call (the volume is known once the configuration
        is loaded)
    """

    def __init__(self, root: str | None = None) -> None:
        self._root = root
        self._lock = threading.Lock()

    @property
    def root(self) -> str:
        return self._root or os.path.join(engine_loader.volume_dir(),
                                          MODULES_DIR)

    # --- the operations ----------------------------------------------------

    def apply(self, modules: list[dict],
              engine: lifecycle_base.Lifecycle) -> list[dict]:
        """Apply ``modules`` in :func:`apply_sequence` order on ``engine``
        and keep each one's result; returns the results in that order.

        Every module is applied, even one applied before with the same
        contents: ``updated`` changes, ``created`` stays that of the
        first apply since the module was last removed. A module without a
        driver, or whose driver fails or raises, gets an ERROR result and
        the others are still applied; a payload without a usable id or
        type gets an ERROR result that is not kept.

        :raises exception.BadRequest: ``modules`` is not a list of dicts
        :raises OSError: a result cannot be written to the volume
        """
        if not isinstance(modules, list) or not all(
                isinstance(module, dict) for module in modules):
            raise exception.BadRequest('Modules must be a list of module '
                                       'payloads.')
        with self._lock:
            return [self._apply_one(payload, engine)
                    for payload in apply_sequence(modules)]

    def results(self, include_contents: bool = False) -> list[dict]:
        """The results of the modules applied and not removed, sorted by
        name (then id); with ``contents`` when ``include_contents``."""
        found = []
        for path in glob.glob(os.path.join(self.root, '*', '*',
                                           RESULT_FILE)):
            result = self._read(path)
            if result is not None and not result.get('removed'):
                found.append(view(result, include_contents))
        return sorted(found, key=lambda result: (str(result['name']),
                                                 str(result['id'])))

    def remove(self, module: dict, engine: lifecycle_base.Lifecycle) -> None:
        """Run the driver's remove on ``engine`` (with the contents the
        module was last applied with), then mark the result removed:
        :meth:`results` no longer lists it.

        A module whose last apply failed is marked removed even when its
        remove fails too (there may be nothing to undo); so is one whose
        earlier remove failed.

        :raises exception.NotFound: the module is not applied here (never
            was, or was removed)
        :raises exception.UnprocessableEntity: the driver could not remove
            a module applied successfully; its result becomes ERROR with
            the reason and it stays listed
        """
        with self._lock:
            module_id = module.get('id') if isinstance(module, dict) \
                else None
            stored = self._find(module_id)
            if stored is None:
                raise exception.NotFound('Module %s is not applied on this '
                                         'instance.' % module_id)
            payload = dict(module, type=stored['type'],
                           contents=stored.get('contents'))
            status, message = self._run('remove', payload, engine)
            stored['updated'] = now = timestamp()
            if status == base.ERROR and stored.get('status') != base.ERROR:
                stored.update(status=base.ERROR, message=(
                    'Removing the module failed: %s' % message))
                self._write(stored)
                raise exception.UnprocessableEntity(stored['message'])
            stored.update(removed=now, message=message)
            self._write(stored)
            LOG.info('Module %s (%s) removed: %s', stored['id'],
                     stored.get('name'), message)

    # --- steps ---------------------------------------------------------------

    def _apply_one(self, payload: dict,
                   engine: lifecycle_base.Lifecycle) -> dict:
        now = timestamp()
        result = {field: payload.get(field) for field in PAYLOAD_FIELDS}
        result.update(created=now, updated=now, removed=None,
                      contents=payload.get('contents'))
        try:
            _check_payload(payload)
        except exception.BadRequest as error:
            LOG.error('Module not applied: %s', error.message)
            result.update(status=base.ERROR, message=error.message)
            return view(result)
        result['type'] = payload['type'].lower()
        previous = self._read(self._path(result['type'], result['id']))
        if previous and not previous.get('removed') and \
                previous.get('created'):
            result['created'] = previous['created']
        result['status'], result['message'] = self._run('apply', payload,
                                                        engine)
        self._write(result)
        LOG.info('Module %s (%s, type %s) applied: %s %s', result['id'],
                 result['name'], result['type'], result['status'],
                 result['message'])
        return view(result)

    @staticmethod
    def _run(action: str, payload: dict,
             engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """``(status, message)`` of the driver's ``action`` on the module;
        ERROR for a missing driver or one that raises."""
        module_type = payload['type'].lower()
        driver = loader.driver(module_type)
        if driver is None:
            return base.ERROR, (
                "This guest has no driver for the module type '%s'; its "
                'drivers are: %s.' % (module_type,
                                      ', '.join(loader.names()) or 'none'))
        data = decode_contents(payload.get('contents'))
        try:
            status, message = getattr(driver, action)(payload, data, engine)
        except exception.TroveError as error:
            return base.ERROR, error.message
        except Exception as error:  # noqa: B902 - recorded in the result
            LOG.exception('The %s driver failed to %s module %s.',
                          module_type, action, payload.get('id'))
            return base.ERROR, '%s: %s' % (type(error).__name__, error)
        return str(status), str(message)

    # --- result files ----------------------------------------------------

    def _path(self, module_type: str, module_id: str) -> str:
        return os.path.join(self.root, module_type, module_id, RESULT_FILE)

    @staticmethod
    def _read(path: str) -> dict | None:
        try:
            with open(path) as source:
                result = json.load(source)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            LOG.warning('The module result %s cannot be read: %s', path,
                        error)
            return None
        return result if isinstance(result, dict) else None

    def _find(self, module_id: str | None) -> dict | None:
        """The result of the applied (not removed) module ``module_id``,
        whatever its type."""
        if not isinstance(module_id, str) or \
                not _PATH_PART.fullmatch(module_id):
            return None
        for path in sorted(glob.glob(os.path.join(self.root, '*', module_id,
                                                  RESULT_FILE))):
            result = self._read(path)
            if result is not None and not result.get('removed'):
                return result
        return None

    def _write(self, result: dict) -> None:
        """Replace the module's result file atomically."""
        path = self._path(result['type'], result['id'])
        # 0700: only the agent may read contents (they may hold secrets).
        os.makedirs(self.root, mode=0o700, exist_ok=True)
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        overrides.replace_file(path, json.dumps(result, sort_keys=True))
