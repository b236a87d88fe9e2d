"""Backups in OpenStack Swift (or any Swift API: Ceph RGW), through
python-swiftclient.

A backup is a Static Large Object, as Trove stores them: the stream is cut
into segments of ``segment_size`` bytes uploaded one after the other to
the container ``<container>_segments`` as ``<object>/<upload id>/<index>``
(each segment streamed with chunked transfer encoding: nothing is held in
memory beyond one chunk of the caller's), then a manifest listing them
with the ETags Swift answered is put as ``<object>`` in ``<container>``
(Swift checks each segment's ETag and size then). An empty stream is
stored as an empty plain object. A GET of the manifest streams the whole
backup back.

``save()['checksum']`` is the hex MD5 of the **whole stream** (what
``load`` gives back), computed while uploading; it is also kept on the
manifest as ``X-Object-Meta-Checksum``. It is not the manifest's ETag:
Swift's ETag of an SLO is the MD5 of its segments' ETags.

Options (the dict ``drivers.backup_storage.load`` gets; every key but
``driver`` optional unless said):

``driver``
    ``swift``.
``storage_url``
    The account URL (``https://swift.example.com/v1/AUTH_<project id>``).
    Required with ``token``; with credentials it overrides the catalog's
    endpoint (a reseller admin writing into another account).
``token``
    A Keystone token valid for ``storage_url`` (the user's, as Trove
    does, or one the control host made for its service user: see
    ``options_from_conf``). It must outlive the backup.
``auth_url``, ``username``, ``password``, ``project_name``,
``user_domain_name`` (``Default``), ``project_domain_name``
(``Default``), ``region_name``, ``interface`` (``public``),
``service_type`` (``object-store``)
    Credentials instead of a token: a keystoneauth session, the storage
    URL from its catalog. For tools and operators; the control host sends
    guests tokens only.
``segment_size``
    Bytes per segment (default 2 GiB, Trove's; at most Swift's
    ``max_file_size``, 5 GiB by default).
``segments_container``
    Where segments go (default ``<container>_segments``).
``insecure`` (false), ``cacert``
    TLS verification.
``timeout``
    Seconds of one request (default 60).
``retries``
    How often a failed request that can be repeated is (default 2;
    segment uploads cannot, being streams).

A *location* is the object's URL, ``<storage_url>/<container>/<object>``
(quoted). ``load``, ``delete`` and ``metadata`` send requests to this
driver's own storage URL, never to the host a location names: the
location's account must be this driver's account (the path is compared,
so that a public and an internal endpoint of one Swift agree).

Metadata: each key of ``save``'s ``metadata`` is a header
``X-Object-Meta-<key>`` of the manifest, its value JSON (so numbers stay
numbers); Swift does not keep the case of header names, so keys are
stored lower-case, other characters than letters, digits and ``-``
percent-encoded. Keys ``size`` and ``checksum`` are the driver's.

Errors: a missing object is ObjectNotFound, both the interface's
BackupNotFound and the BackupFileNotFound the local driver raises (with
its message); anything else Swift or the network answers (401/403
included: a token of another project) is BackupStorageError naming the
HTTP status.
"""
import hashlib
import json
import re
import typing
import urllib.parse
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from oslo_log import log as logging
from swiftclient import client as swift_client
from swiftclient import exceptions as swift_exc

from trove_clone.common import exception
from trove_clone.conf import CONF
from trove_clone.drivers.backup_storage import base
from trove_clone.drivers import openstack_auth

LOG = logging.getLogger(__name__)

#: Trove's backup_segment_max_size.
DEFAULT_SEGMENT_SIZE = 2 * 1024 ** 3
META = 'x-object-meta-'
CHECKSUM_HEADER = 'X-Object-Meta-Checksum'
#: Swift's default limit of a metadata value.
MAX_META_VALUE = 256
#: What a metadata value may hold unquoted (printable ASCII but '%').
_VALUE_SAFE = ''.join(chr(code) for code in range(0x20, 0x7f)
                      if chr(code) != '%')


class ObjectNotFound(exception.BackupFileNotFound, exception.BackupNotFound):
    """No object at a location: what the interface says (BackupNotFound)
    and what the local driver raises (BackupFileNotFound), so that a
    caller catching either works with both drivers."""


def _md5() -> typing.Any:
    # Not for security: the integrity check Swift's ETags use.
    return hashlib.md5(usedforsecurity=False)


def encode_key(key: str) -> str:
    """The header name of metadata ``key``."""
    encoded = urllib.parse.quote(str(key).lower(), safe='-')
    return 'X-Object-Meta-' + encoded.replace('_', '%5F').replace(
        '.', '%2E').replace('~', '%7E')


def encode_value(value: typing.Any) -> str:
    return urllib.parse.quote(json.dumps(value), safe=_VALUE_SAFE)


def decode_value(text: str) -> typing.Any:
    """A metadata value (swiftclient gives headers unquoted); a value not
    written by this driver is returned as the string it is."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Segments:
    """Cuts the caller's chunks into segments, hashing as they pass."""

    def __init__(self, chunks: typing.Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b''
        self.md5 = _md5()
        self.size = 0
        #: The error the caller's iterator raised, if it did.
        self.failed: BaseException | None = None

    def more(self) -> bool:
        """Whether bytes remain (reads ahead one chunk)."""
        while not self._pending:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                return False
            except BaseException as error:
                self.failed = error
                raise
            self._pending = bytes(chunk)
        return True

    def segment(self, limit: int) -> typing.Iterator[bytes]:
        """Up to ``limit`` bytes of the stream (the whole stream's MD5
        updated with them)."""
        left = limit
        while left and self.more():
            piece = self._pending[:left]
            self._pending = self._pending[len(piece):]
            left -= len(piece)
            self.size += len(piece)
            self.md5.update(piece)
            yield piece


class SwiftStorage(base.BackupStorage):
    """Backups as Static Large Objects in a Swift account."""

    def __init__(self, options: dict) -> None:
        super().__init__(options)
        self.segment_size = int(self.options.get('segment_size')
                                or DEFAULT_SEGMENT_SIZE)
        if self.segment_size < 1:
            raise exception.BackupStorageError(
                reason='segment_size must be a positive number of bytes')
        self.retries = int(self.options.get('retries', 2))
        self._connection = None

    # --- connection ----------------------------------------------------------

    def connection(self) -> swift_client.Connection:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> swift_client.Connection:
        options = self.options
        common = {'retries': self.retries,
                  'starting_backoff': 1, 'max_backoff': 4,
                  'timeout': float(options.get('timeout', 60)),
                  'insecure': bool(options.get('insecure', False)),
                  'cacert': options.get('cacert')}
        if options.get('token'):
            if not options.get('storage_url'):
                raise exception.BackupStorageError(
                    reason='the swift storage options give a token '
                           'without storage_url')
            return swift_client.Connection(
                preauthurl=options['storage_url'].rstrip('/'),
                preauthtoken=options['token'], **common)
        missing = [key for key in ('auth_url', 'username', 'password')
                   if not options.get(key)]
        if missing:
            raise exception.BackupStorageError(
                reason='the swift storage options need token and '
                       'storage_url, or credentials (missing %s)'
                       % ', '.join(missing))
        auth = v3.Password(
            auth_url=options['auth_url'], username=options['username'],
            password=options['password'],
            project_name=options.get('project_name'),
            user_domain_name=options.get('user_domain_name', 'Default'),
            project_domain_name=options.get('project_domain_name',
                                            'Default'))
        verify = (False if options.get('insecure')
                  else options.get('cacert') or True)
        session = ks_session.Session(auth=auth, verify=verify,
                                     timeout=common['timeout'])
        os_options = {'service_type': options.get('service_type',
                                                  'object-store'),
                      'endpoint_type': options.get('interface', 'public'),
                      'region_name': options.get('region_name')}
        if options.get('storage_url'):
            os_options['object_storage_url'] = options['storage_url']
        return swift_client.Connection(session=session,
                                       os_options=os_options, **common)

    def storage_url(self) -> str:
        """The account URL requests go to."""
        connection = self.connection()
        try:
            if not connection.url:
                connection.url, connection.token = connection.get_auth()
        except Exception as error:  # swiftclient, keystoneauth, network
            raise self._error('authenticate', error)
        return connection.url.rstrip('/')

    # --- locations -----------------------------------------------------------

    def location(self, container: str, name: str) -> str:
        return '%s/%s/%s' % (self.storage_url(),
                             urllib.parse.quote(container, safe=''),
                             urllib.parse.quote(name, safe='/'))

    def split(self, location: str) -> tuple[str, str]:
        """(container, object) of a location in this driver's account."""
        account = urllib.parse.urlsplit(self.storage_url()).path.rstrip('/')
        path = urllib.parse.urlsplit(location).path
        container, _, name = path[len(account) + 1:].partition('/')
        if (not path.startswith(account + '/') or not container
                or not name):
            raise exception.BackupStorageError(
                reason='location %s is not an object of the Swift account '
                       '%s' % (location, self.storage_url()))
        return urllib.parse.unquote(container), urllib.parse.unquote(name)

    # --- errors --------------------------------------------------------------

    @staticmethod
    def _error(action: str, error: Exception,
               location: str | None = None) -> Exception:
        """The exception for ``error`` of a swiftclient call."""
        status = getattr(error, 'http_status', None)
        if status == 404 and location is not None:
            return ObjectNotFound(location=location, backup=location)
        if status in (401, 403):
            reason = ('Swift refused to %s%s (HTTP %d): the token is not '
                      'allowed on this account' % (
                          action, ' ' + location if location else '',
                          status))
        elif status:
            reason = 'Swift answered HTTP %s to %s%s: %s' % (
                status, action, ' ' + location if location else '',
                getattr(error, 'http_reason', '') or error)
        else:
            reason = 'cannot %s%s in Swift: %s' % (
                action, ' ' + location if location else '', error)
        return exception.BackupStorageError(reason=reason)

    # --- the interface -------------------------------------------------------

    def save(self, container: str, name: str,
             chunks: typing.Iterable[bytes],
             metadata: dict | None = None) -> dict:
        headers = self._meta_headers(metadata or {})
        connection = self.connection()
        segments_container = self.options.get(
            'segments_container') or container + '_segments'
        location = self.location(container, name)
        try:
            connection.put_container(container)
            connection.put_container(segments_container)
        except Exception as error:
            raise self._error('create the container %s' % container, error)
        previous = self._manifest_segments(container, name)
        stream = _Segments(chunks)
        uploaded: list[dict] = []
        prefix = '%s/%s/' % (name, uuid.uuid4().hex)
        try:
            if not stream.more():
                headers[CHECKSUM_HEADER] = encode_value(stream.md5.hexdigest())
                connection.put_object(container, name, b'', headers=headers)
                return {'location': location, 'size': 0,
                        'checksum': stream.md5.hexdigest()}
            # A segment is a stream: swiftclient cannot send it again, so
            # its first failure is the one reported (with its status).
            connection.retries = 0
            while stream.more():
                segment_name = '%s%08d' % (prefix, len(uploaded) + 1)
                before = stream.size
                etag = connection.put_object(
                    segments_container, segment_name,
                    stream.segment(self.segment_size),
                    content_type='application/octet-stream')
                # The manifest names each segment with the ETag (MD5)
                # the object server computed: the SLO middleware checks
                # every segment against it and its size.
                uploaded.append({
                    'path': '/%s/%s' % (segments_container, segment_name),
                    'etag': (etag or '').strip('"') or None,
                    'size_bytes': stream.size - before})
            connection.retries = self.retries
            headers[CHECKSUM_HEADER] = encode_value(stream.md5.hexdigest())
            connection.put_object(
                container, name, json.dumps(uploaded), headers=headers,
                query_string='multipart-manifest=put',
                content_type='application/octet-stream')
        except BaseException as error:
            connection.retries = self.retries
            self._remove_segments([entry['path'] for entry in uploaded])
            if error is stream.failed or isinstance(
                    error, (exception.TroveError, KeyboardInterrupt,
                            SystemExit, GeneratorExit)):
                # The caller's stream failed: its error, as it is.
                raise
            raise self._error('store', error) from error
        if previous:
            # The object was there before: its old segments are not
            # referenced by anything now.
            self._remove_segments(previous)
        LOG.info('Stored %s: %d bytes in %d segments', location,
                 stream.size, len(uploaded))
        return {'location': location, 'size': stream.size,
                'checksum': stream.md5.hexdigest()}

    def load(self, location: str,
             chunk_size: int = 1 << 20) -> typing.Iterator[bytes]:
        container, name = self.split(location)
        try:
            headers, body = self.connection().get_object(
                container, name, resp_chunk_size=chunk_size)
        except Exception as error:
            raise self._error('read', error, location) from error
        return self._stream(body, location,
                            int(headers.get('content-length', -1)))

    def _stream(self, body, location: str,
                expected: int) -> typing.Iterator[bytes]:
        received = 0
        try:
            for chunk in body:
                received += len(chunk)
                yield chunk
        except Exception as error:
            raise exception.BackupStorageError(
                reason='reading %s from Swift failed after %d bytes: %s'
                       % (location, received, error)) from error
        if expected >= 0 and received != expected:
            raise exception.BackupStorageError(
                reason='Swift sent %d bytes of %s, not %d' % (
                    received, location, expected))

    def delete(self, location: str) -> None:
        container, name = self.split(location)
        connection = self.connection()
        try:
            headers = connection.head_object(
                container, name, query_string='multipart-manifest=get')
        except Exception as error:
            if getattr(error, 'http_status', None) == 404:
                return
            raise self._error('delete', error, location) from error
        try:
            if headers.get('x-static-large-object', '').lower() == 'true':
                # Swift's SLO middleware removes the segments and then the
                # manifest; segments already gone are not an error.
                connection.delete_object(
                    container, name, query_string='multipart-manifest=delete')
                return
            dlo = headers.get('x-object-manifest')
            connection.delete_object(container, name)
            if dlo:
                self._remove_dlo_segments(dlo)
        except Exception as error:
            if getattr(error, 'http_status', None) == 404:
                return
            raise self._error('delete', error, location) from error

    def metadata(self, location: str) -> dict:
        container, name = self.split(location)
        try:
            headers = self.connection().head_object(container, name)
        except Exception as error:
            raise self._error('read the metadata of', error,
                              location) from error
        found = {key[len(META):]: decode_value(value)
                 for key, value in headers.items()
                 if key.lower().startswith(META)}
        found['checksum'] = found.get('checksum')
        found['size'] = int(headers.get('content-length', 0))
        return found

    # --- helpers -------------------------------------------------------------

    @staticmethod
    def _meta_headers(metadata: dict) -> dict:
        headers = {}
        for key, value in metadata.items():
            if str(key).lower() in ('size', 'checksum'):
                continue
            header, text = encode_key(key), encode_value(value)
            if len(text) > MAX_META_VALUE:
                raise exception.BackupStorageError(
                    reason='metadata %s is longer than Swift keeps (%d '
                           'bytes encoded, at most %d)' % (
                               key, len(text), MAX_META_VALUE))
            headers[header] = text
        return headers

    def _manifest_segments(self, container: str, name: str) -> list[str]:
        """The segment paths of an SLO ``name`` already there, if any."""
        try:
            headers, body = self.connection().get_object(
                container, name, query_string='multipart-manifest=get')
        except swift_exc.ClientException:
            return []
        if headers.get('x-static-large-object', '').lower() != 'true':
            return []
        try:
            return [entry['name'] for entry in json.loads(body)]
        except (ValueError, KeyError, TypeError):
            return []

    def _remove_segments(self, paths: list[str]) -> None:
        """Delete segments (``/container/object`` paths), best effort."""
        connection = self.connection()
        for path in paths:
            container, _, name = path.lstrip('/').partition('/')
            try:
                connection.delete_object(urllib.parse.unquote(container),
                                         urllib.parse.unquote(name))
            except Exception as error:
                if getattr(error, 'http_status', None) != 404:
                    LOG.warning('Could not remove segment %s: %s', path,
                                error)

    def _remove_dlo_segments(self, manifest: str) -> None:
        """Delete the segments of a Dynamic Large Object
        (``X-Object-Manifest: container/prefix``)."""
        container, _, prefix = urllib.parse.unquote(manifest).partition('/')
        try:
            _, listing = self.connection().get_container(
                container, prefix=prefix, full_listing=True)
        except swift_exc.ClientException as error:
            if error.http_status == 404:
                return
            raise
        self._remove_segments(['/%s/%s' % (container, entry['name'])
                               for entry in listing])


# --- the control host's side ----------------------------------------------

def options_from_conf(context) -> dict:
    """The storage options for a backup of ``context``'s project (see
    ``trove_clone.conf.swift`` for the settings)."""
    conf = CONF
    options = {'driver': 'swift',
               'segment_size': conf.backup_segment_max_size,
               'insecure': conf.swift_api_insecure}
    token = getattr(context, 'auth_token', None)
    if conf.backup_swift_auth == 'user' and token:
        options.update(token=token,
                       storage_url=project_storage_url(context, None))
        return options
    session = openstack_auth.session()
    try:
        options.update(
            token=session.get_token(),
            storage_url=project_storage_url(context, session))
    except ks_exc.ClientException as error:
        raise exception.BackupStorageError(
            reason='cannot get a token for Swift from Keystone: %s' % error)
    return options


def project_storage_url(context, session) -> str:
    """The account URL of ``context``'s project: ``swift_url`` followed by
    the project id when set (Trove's), otherwise the catalog's
    ``object-store`` endpoint (the request's catalog, or the service
    user's) with its account replaced by the project's."""
    project_id = context.project_id
    if CONF.swift_url:
        return CONF.swift_url + project_id
    interface = CONF.swift_endpoint_type
    for service in getattr(context, 'service_catalog', None) or []:
        if service.get('type') != CONF.swift_service_type:
            continue
        for endpoint in service.get('endpoints', []):
            if endpoint.get('region') not in (
                    CONF.service_credentials.region_name, None):
                continue
            # keystonemiddleware's X-Service-Catalog has one entry per
            # region with a <interface>URL each (the v2 shape); a v3
            # catalog one per interface.
            url = endpoint.get(interface + 'URL')
            if not url and endpoint.get('interface') in (interface, None):
                url = endpoint.get('url')
            if url:
                return url.rstrip('/')
    if session is None:
        session = openstack_auth.session()
    try:
        url = session.get_endpoint(
            service_type=CONF.swift_service_type, interface=interface,
            region_name=CONF.service_credentials.region_name)
    except ks_exc.ClientException as error:
        raise exception.BackupStorageError(
            reason='no %s endpoint in the catalog: %s' % (
                CONF.swift_service_type, error))
    if not url:
        raise exception.BackupStorageError(
            reason='no %s endpoint in the catalog' % CONF.swift_service_type)
    account = re.compile(r'/%s[^/]*/?$' % re.escape(
        CONF.swift_reseller_prefix))
    if not account.search(url):
        raise exception.BackupStorageError(
            reason='the %s endpoint %s does not end with an account '
                   '(%s...): set swift_url' % (
                       CONF.swift_service_type, url,
                       CONF.swift_reseller_prefix))
    return account.sub('/%s%s' % (CONF.swift_reseller_prefix, project_id),
                       url)
