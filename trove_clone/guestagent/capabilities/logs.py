"""The logs capability of a datastore: Trove's guest logs.

An engine names its logs (:meth:`GuestLogs.specs`): a ``USER`` log (the
tenant turns it on and off: MariaDB's general and slow query logs,
PostgreSQL's statement log) or a ``SYS`` one (always written: the engine's
own error output; only administrators see it, which the API enforces).
Turning a USER log on or off is the engine's hook (:meth:`GuestLogs.
switch`): live where the engine allows (it answers True), otherwise the
log shows ``Restart Required`` until the engine has restarted.

Publishing copies the part of a log not yet published to the object
store, in Trove's layout, so that python-troveclient's ``log-tail`` and
``log-save`` read it back:

* container ``request['container']`` (Trove's guest_log_container_name)
  in the project's account, made when missing;
* objects ``<instance id>/<datastore>-<log>/log-<UTC time>``, each at most
  ``request['limit']`` bytes cut at line ends, with ``X-Object-Meta-Lines``
  (the client counts lines with it) and ``X-Delete-After``;
* a metafile ``<instance id>/<datastore>-<log>_metafile``: JSON with the
  log's name, type, file, the size published so far and the digest of its
  first line. It is the only state of a publish: a log whose file is
  shorter than published, or whose first line changed, was rotated, and
  the next publish discards what was published before.

The statuses are Trove's: Disabled, Enabled, Unavailable, Ready,
Published, Partial, Rotated, Restart Required.

``request`` (from trove-api, which reads the settings from its own
configuration): ``storage`` (the backup storage options of the project:
its token and account, the same as a backup gets; None when the
deployment stores in no object store, and then publish and discard
answer LogsNotAvailable), ``container``, ``limit``, ``expiry``,
``long_query_ms``.
"""
import dataclasses
import datetime
import hashlib
import json
import os
import typing

from oslo_log import log as logging
from swiftclient import exceptions as swift_exc

from trove_clone.common import exception
from trove_clone.drivers.backup_storage import swift
from trove_clone.guestagent.capabilities import overrides

LOG = logging.getLogger(__name__)
USER = 'USER'
SYS = 'SYS'
#: The agent's record of the USER logs turned on, and of those waiting
#: for a restart, in its directory.
STATE_FILE = 'guest-logs.json'
METAFILE_SUFFIX = '_metafile'
RESTART_REQUIRED = 'Restart Required'


@dataclasses.dataclass(frozen=True)
class LogSpec:
    """One log of an engine: its name, USER or SYS, and its file."""
    name: str
    type: str
    path: str


class Store(typing.Protocol):
    """The object store one request publishes to (see SwiftStore)."""

    container: str

    def ensure_container(self) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def put(self, name: str, data: bytes, headers: dict) -> None: ...

    def names(self, prefix: str) -> list[str]: ...

    def delete(self, name: str) -> None: ...


def _storage_error(action: str, error: Exception) -> exception.TroveError:
    return exception.LogStorageUnavailable(
        reason='cannot %s: %s' % (action, error))


class SwiftStore:
    """A container of the project's Swift account, reached with the
    storage options a backup gets (the user's token, the project's
    account URL)."""

    def __init__(self, options: dict, container: str) -> None:
        # The swift backup driver builds the connection from the options
        # (and checks them); the logs only need its plain object calls.
        self.container = container
        self._connection = swift.SwiftStorage(options).connection()

    def ensure_container(self) -> None:
        try:
            self._connection.head_container(self.container)
        except swift_exc.ClientException as error:
            if error.http_status != 404:
                raise _storage_error('read the log container', error)
            try:
                self._connection.put_container(self.container)
            except swift_exc.ClientException as error:
                raise _storage_error('make the log container', error)

    def get(self, name: str) -> bytes | None:
        try:
            return self._connection.get_object(self.container, name)[1]
        except swift_exc.ClientException as error:
            if error.http_status == 404:
                return None
            raise _storage_error('read %s' % name, error)

    def put(self, name: str, data: bytes, headers: dict) -> None:
        try:
            self._connection.put_object(self.container, name, data,
                                        headers=headers)
        except swift_exc.ClientException as error:
            raise _storage_error('write %s' % name, error)

    def names(self, prefix: str) -> list[str]:
        try:
            _, listing = self._connection.get_container(
                self.container, prefix=prefix, full_listing=True)
        except swift_exc.ClientException as error:
            if error.http_status == 404:
                return []
            raise _storage_error('list %s' % prefix, error)
        return [entry['name'] for entry in listing]

    def delete(self, name: str) -> None:
        try:
            self._connection.delete_object(self.container, name)
        except swift_exc.ClientException as error:
            if error.http_status != 404:
                raise _storage_error('delete %s' % name, error)


def store_for(request: dict) -> Store | None:
    """The store of ``request``; None without one (or not Swift)."""
    options = request.get('storage')
    if not isinstance(options, dict) or options.get('driver') != 'swift':
        return None
    return SwiftStore(options, request.get('container') or 'database_logs')


def first_line_digest(path: str) -> str:
    """The MD5 of a file's first line (how a rotation is told)."""
    try:
        with open(path, 'rb') as log:
            line = log.readline()
    except FileNotFoundError:
        line = b''
    return hashlib.md5(line, usedforsecurity=False).hexdigest()


def file_size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def components(data: bytes, limit: int) -> typing.Iterator[tuple]:
    """``(bytes, lines)`` pieces of ``data`` of at most ``limit`` bytes,
    cut after a line end (a line longer than ``limit`` is cut)."""
    piece, lines = b'', 0
    for line in data.splitlines(keepends=True):
        while len(line) > limit:
            if piece:
                yield piece, lines
                piece, lines = b'', 0
            yield line[:limit], 1
            line = line[limit:]
        if len(piece) + len(line) > limit:
            yield piece, lines
            piece, lines = b'', 0
        piece += line
        lines += 1
    if piece:
        yield piece, lines


def status_of(spec: LogSpec, enabled: bool, size: int, published: int,
              rotated: bool) -> str:
    """Trove's status of a log from its facts."""
    if rotated:
        status = 'Rotated'
    elif size > published:
        status = 'Partial' if published else 'Ready'
    else:
        status = 'Published' if published else 'Enabled'
    if not size or not enabled:
        if spec.type == USER:
            return 'Enabled' if enabled else 'Disabled'
        return 'Unavailable'
    return status


class GuestLogs:
    """The logs of one engine (its lifecycle, ``engine``)."""

    def __init__(self, engine) -> None:
        self.engine = engine

    # --- the engine's hooks ---------------------------------------------

    def specs(self) -> list[LogSpec]:
        """The engine's logs, in the order listed."""
        raise NotImplementedError

    def switch(self, enabled: set[str], request: dict) -> bool:
        """Make the engine write exactly the USER logs ``enabled`` (now
        and after restarts); True when it took effect now, False when it
        waits for a restart."""
        return False

    # --- the agent's record -------------------------------------------------

    @property
    def _state_path(self) -> str:
        return os.path.join(self.engine.agent_dir, STATE_FILE)

    def _load(self) -> dict:
        try:
            with open(self._state_path) as source:
                state = json.load(source)
        except (FileNotFoundError, ValueError):
            state = {}
        return {'enabled': list(state.get('enabled') or []),
                'restart': dict(state.get('restart') or {})}

    def _save(self, state: dict) -> None:
        os.makedirs(self.engine.agent_dir, mode=0o700, exist_ok=True)
        overrides.replace_file(self._state_path, json.dumps(state))

    def _engine_pid(self) -> int | None:
        process = getattr(self.engine, 'process', None)
        return getattr(process, 'pid', None)

    def _waiting_restart(self, state: dict, name: str) -> bool:
        """Whether ``name`` still waits for the engine to restart (the
        engine's process is the one it ran as when the log changed)."""
        pid = state['restart'].get(name)
        return pid is not None and pid == self._engine_pid()

    # --- the requests -----------------------------------------------------

    def _spec(self, name: str) -> LogSpec:
        for spec in self.specs():
            if spec.name == name:
                return spec
        raise exception.GuestLogNotFound(log=name)

    def _prefix(self, spec: LogSpec, request: dict) -> str:
        return '%s/%s-%s/' % (request['instance_id'], request['datastore'],
                              spec.name)

    def _metafile(self, spec: LogSpec, request: dict) -> str:
        return self._prefix(spec, request).rstrip('/') + METAFILE_SUFFIX

    def _published(self, spec: LogSpec, request: dict,
                   store: Store | None) -> tuple[int, str | None]:
        """(bytes published, first-line digest then) from the metafile."""
        if store is None:
            return 0, None
        text = store.get(self._metafile(spec, request))
        if not text:
            return 0, None
        try:
            meta = json.loads(text)
            return int(meta.get('log_size') or 0), meta.get(
                'log_header_digest')
        except (ValueError, TypeError, AttributeError):
            return 0, None

    def _show(self, spec: LogSpec, request: dict, store: Store | None,
              state: dict) -> dict:
        enabled = spec.type == SYS or spec.name in state['enabled']
        size = file_size(spec.path)
        published, digest = self._published(spec, request, store)
        rotated = published > 0 and (
            size < published or digest != first_line_digest(spec.path))
        status = status_of(spec, enabled, size, published, rotated)
        if self._waiting_restart(state, spec.name):
            status = RESTART_REQUIRED
        return {
            'name': spec.name, 'type': spec.type, 'status': status,
            'published': published,
            'pending': size if rotated else max(size - published, 0),
            'container': store.container if published else 'None',
            'prefix': self._prefix(spec, request) if published else 'None',
            'metafile': self._metafile(spec, request),
        }

    def list(self, request: dict) -> list[dict]:
        """Every log of the engine, shown."""
        store = store_for(request)
        state = self._load()
        return [self._show(spec, request, store, state)
                for spec in self.specs()]

    def action(self, request: dict, name: str, enable: bool = False,
               disable: bool = False, publish: bool = False,
               discard: bool = False) -> dict:
        """Trove's guest_log_action: enable or disable (a USER log), then
        discard and/or publish; the log shown after.

        :raises: GuestLogNotFound, BadRequest (enable and disable, or
            either on a SYS log), LogsNotAvailable (publish or discard
            without an object store)
        """
        spec = self._spec(name)
        if enable and disable:
            raise exception.BadRequest(
                "Cannot enable and disable log '%s'." % name)
        if publish and not disable:
            # Trove's: publishing a log turns it on.
            enable = True
        if spec.type == SYS and (disable or (enable and not publish)):
            raise exception.BadRequest("Cannot %s a SYSTEM log ('%s')." % (
                'disable' if disable else 'enable', name))
        if spec.type == SYS and not request.get('admin'):
            raise exception.LogAccessForbidden(
                action='publish' if publish else
                'discard' if discard else 'show', log=name)
        store = store_for(request)
        if (publish or discard) and store is None:
            raise exception.LogsNotAvailable(
                reason='the deployment stores no objects in Swift '
                       '(storage_strategy).')
        state = self._load()
        if spec.type == USER and (enable or disable):
            self._set_enabled(spec, bool(enable), request, state)
        if discard:
            self._discard(spec, request, store)
        if publish:
            self._publish(spec, request, store)
        return self._show(spec, request, store, state)

    def _set_enabled(self, spec: LogSpec, on: bool, request: dict,
                     state: dict) -> None:
        enabled = set(state['enabled'])
        if (spec.name in enabled) == on:
            return
        if on:
            enabled.add(spec.name)
        else:
            enabled.discard(spec.name)
        live = self.switch(enabled, request)
        state['enabled'] = sorted(enabled)
        if live:
            state['restart'].pop(spec.name, None)
        else:
            state['restart'][spec.name] = self._engine_pid()
        self._save(state)
        LOG.info('Log %s %s%s.', spec.name, 'enabled' if on else 'disabled',
                 '' if live else ' (after a restart of the engine)')

    def _discard(self, spec: LogSpec, request: dict, store: Store) -> None:
        names = store.names(self._prefix(spec, request))
        for name in names + [self._metafile(spec, request)]:
            store.delete(name)
        LOG.info('Discarded %d published part(s) of log %s.', len(names),
                 spec.name)

    def _publish(self, spec: LogSpec, request: dict, store: Store) -> None:
        store.ensure_container()
        published, digest = self._published(spec, request, store)
        size = file_size(spec.path)
        if published and (size < published or
                          digest != first_line_digest(spec.path)):
            LOG.info('Log %s was rotated: its published parts are '
                     'discarded first.', spec.name)
            self._discard(spec, request, store)
            published = 0
        headers = {'X-Delete-After': str(request.get('expiry') or 2592000)}
        data = b''
        if size > published:
            with open(spec.path, 'rb') as log:
                log.seek(published)
                data = log.read(size - published)
        # Only whole lines are published; the rest waits for its end.
        if data and not data.endswith(b'\n'):
            data = data[:data.rfind(b'\n') + 1]
        last = None
        limit = int(request.get('limit') or 1000000)
        for piece, lines in components(data, limit):
            stamp = datetime.datetime.now(datetime.timezone.utc).replace(
                tzinfo=None)
            if last is not None and stamp <= last:
                stamp = last + datetime.timedelta(microseconds=1)
            last = stamp
            store.put('%slog-%s' % (self._prefix(spec, request),
                                    stamp.isoformat(timespec='microseconds')),
                      piece, dict(headers, **{
                          'X-Object-Meta-Lines': str(lines)}))
            published += len(piece)
        meta = {'log_name': spec.name, 'log_type': spec.type,
                'log_file': spec.path, 'log_size': published,
                'log_header_digest': first_line_digest(spec.path)}
        store.put(self._metafile(spec, request),
                  json.dumps(meta).encode(), headers)
