"""WSGI middleware around the pecan application.

From the outside in: :class:`FaultWrapper` (every error leaves as Trove's
envelope), request ids, :class:`InputGuard` (what no route can take is
refused before routing), authentication (keystonemiddleware ``auth_token``
or :class:`NoAuthMiddleware`), then :class:`ContextMiddleware`, which builds
the request context and checks that the URL's tenant is the caller's
project.
"""
import io
import json
import logging
import re
import urllib.parse
import uuid

from oslo_db import exception as db_exc
import webob
import webob.exc

from trove_clone.api import json_input
from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import policy
from trove_clone.conf import CONF

LOG = logging.getLogger(__name__)

CONTEXT_KEY = 'trove.context'
_TENANT_PATH = re.compile(r'^/v1\.0/([^/]+)')
#: C0 controls and DEL: never part of a path, a parameter or an identity.
_CONTROL = re.compile(r'[\x00-\x1f\x7f]')
#: The widths of the control database's columns that request identities
#: and path parts end up in (db/models.py: tenant_id String(64); user
#: names, as recorded by root history, String(255)).
MAX_PROJECT_ID = 64
MAX_USER_ID = 255
_BODY_METHODS = ('POST', 'PUT', 'PATCH')
_READ_CHUNK = 64 * 1024


def json_response(code: int, body, headers: dict | None = None
                  ) -> webob.Response:
    """A JSON response; ``body`` None gives an empty body."""
    response = webob.Response(status=code, headerlist=[])
    if body is not None:
        response.content_type = 'application/json'
        response.charset = None
        response.body = json.dumps(body).encode('utf-8')
    else:
        response.content_type = None
        response.content_length = 0
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(error: exception.TroveError) -> webob.Response:
    headers = getattr(error, 'headers', None)
    return json_response(error.code,
                         exception.error_body(error.code, error.message),
                         headers)


class FaultWrapper:
    """Catch every exception and rewrap every non-JSON error response.

    A client's mistake never becomes a 500; a server bug becomes a 500
    ``instanceFault`` with a message that does not leak internals.
    """

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        captured: dict = {}

        def capture(status, headers, exc_info=None):
            captured['status'], captured['headers'] = status, headers
            if int(status[:3]) < 400:
                return start_response(status, headers, exc_info)
            written = captured.setdefault('written', [])
            return written.append

        try:
            body = self.application(environ, capture)
            if int(captured['status'][:3]) < 400:
                return body
            # Errors are small: buffer them to check and rewrap the body.
            chunks = captured.get('written', []) + list(body)
            if hasattr(body, 'close'):
                body.close()
            response = webob.Response(status=captured['status'],
                                      headerlist=list(captured['headers']))
            response.body = b''.join(chunks)
        except exception.TroveError as error:
            response = error_response(error)
        except db_exc.DBDataError:
            # A value the checks before let through and the control
            # database refused (too long, out of range, NUL): the
            # request's fault, but worth a warning, as a check is missing.
            LOG.warning('The control database refused a value of %s %s',
                        environ.get('REQUEST_METHOD'),
                        environ.get('PATH_INFO'), exc_info=True)
            response = error_response(exception.BadRequest(
                'A value in the request is too long or not valid for the '
                'field that holds it.'))
        except Exception:
            LOG.exception('Unhandled error serving %s %s',
                          environ.get('REQUEST_METHOD'),
                          environ.get('PATH_INFO'))
            response = error_response(exception.TroveError(
                'The server has either erred or is incapable of performing '
                'the requested operation.'))
        if response.status_code >= 400 and not self._is_envelope(response):
            response = self._rewrap(response)
        return response(environ, start_response)

    @staticmethod
    def _is_envelope(response: webob.Response) -> bool:
        if 'json' not in (response.content_type or ''):
            return False
        try:
            body = json.loads(response.body)
        except ValueError:
            return False
        if not isinstance(body, dict) or len(body) != 1:
            return False
        name, inner = next(iter(body.items()))
        # keystonemiddleware answers {"error": {"code": 401, ...}}: that is
        # not Trove's envelope, whose key names the error.
        return name == exception.error_name(response.status_code) and \
            isinstance(inner, dict) and 'code' in inner and \
            'message' in inner

    @staticmethod
    def _rewrap(response: webob.Response) -> webob.Response:
        code = response.status_code
        message = None
        if 'json' in (response.content_type or ''):
            try:
                body = json.loads(response.body)
                inner = next(iter(body.values())) if isinstance(
                    body, dict) and body else {}
                message = inner.get('message') if isinstance(
                    inner, dict) else None
            except ValueError:
                message = None
        if not message:
            message = response.status.split(' ', 1)[-1]
            if code == 404:
                message = 'The resource could not be found.'
            elif code == 401:
                message = 'The request you have made requires ' \
                          'authentication.'
        headers = {name: value for name, value in response.headers.items()
                   if name.lower() in ('www-authenticate', 'allow',
                                       'retry-after',
                                       'x-openstack-request-id')}
        return json_response(code, exception.error_body(code, message),
                             headers)


class InputGuard:
    """Refuse, before routing, what no route could take (400, or 413 for
    a body over ``max_body_size``):

    * a path or query string that is not UTF-8 once percent-decoded
      (``%ff``, the overlong ``%c0%af``), or carries a control character
      such as NUL (PostgreSQL refuses NUL in any string);
    * a ``Content-Length`` that is not a number, or a body shorter than
      it, and a chunked body the server cannot decode (a malformed chunk
      size);
    * a JSON body that is not UTF-8 or nests deeper than
      :data:`json_input.MAX_DEPTH` (pecan parses JSON bodies itself,
      recursively, before any controller).

    The body is read here, whatever the WSGI server, and handed on as a
    buffer of known length, so no later reader meets a broken stream.
    """

    def __init__(self, application, max_body_size: int) -> None:
        self.application = application
        self.max_body_size = max_body_size

    def __call__(self, environ, start_response):
        try:
            check_path(environ.get('PATH_INFO', ''))
            check_query(environ.get('QUERY_STRING', ''))
            self._buffer_body(environ)
        except exception.TroveError as error:
            return error_response(error)(environ, start_response)
        return self.application(environ, start_response)

    def _buffer_body(self, environ) -> None:
        length = self._declared_length(environ)
        chunked = 'chunked' in environ.get('HTTP_TRANSFER_ENCODING',
                                           '').lower()
        if length is None and not chunked:
            if environ.get('REQUEST_METHOD') in _BODY_METHODS:
                environ['wsgi.input'] = io.BytesIO(b'')
                environ['CONTENT_LENGTH'] = '0'
            return
        if length is not None and length > self.max_body_size:
            raise exception.RequestTooLarge(limit=self.max_body_size)
        limit = length if length is not None else self.max_body_size + 1
        body = self._read(environ['wsgi.input'], limit)
        if length is not None and len(body) < length:
            raise exception.BadRequest(
                'The request body has %d bytes, fewer than its '
                'Content-Length of %d.' % (len(body), length))
        if len(body) > self.max_body_size:
            raise exception.RequestTooLarge(limit=self.max_body_size)
        if body and 'json' in environ.get('CONTENT_TYPE', '').lower():
            # pecan parses JSON bodies itself before any controller.
            json_input.check_text(body)
        environ['wsgi.input'] = io.BytesIO(body)
        environ['CONTENT_LENGTH'] = str(len(body))
        environ.pop('HTTP_TRANSFER_ENCODING', None)
        environ['wsgi.input_terminated'] = True

    @staticmethod
    def _declared_length(environ) -> int | None:
        value = environ.get('CONTENT_LENGTH', '').strip()
        if not value:
            return None
        if not value.isascii() or not value.isdigit():
            raise exception.BadRequest(
                'The Content-Length header must be a number of bytes, '
                'not %r.' % value[:40])
        return int(value)

    @staticmethod
    def _read(stream, limit: int) -> bytes:
        chunks, total = [], 0
        try:
            while total < limit:
                chunk = stream.read(min(_READ_CHUNK, limit - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        # The stream is the client's: whatever the server raises on a
        # malformed chunk size, a short read or a timeout is the client's
        # mistake, not the service's.
        except Exception as error:
            raise exception.BadRequest(
                'The request body could not be read (%s): check '
                'Content-Length or the chunked encoding.'
                % (str(error)[:80] or type(error).__name__))
        return b''.join(chunks)


def _decoded(raw: str, what: str) -> str:
    """A WSGI string (bytes as latin-1) as UTF-8 text.

    :raises: BadRequest naming ``what``
    """
    try:
        return raw.encode('latin-1').decode('utf-8')
    except UnicodeError:
        raise exception.BadRequest('%s is not valid UTF-8.' % what)


def check_path(path_info: str) -> str:
    """The request path as text.

    :raises: BadRequest for invalid UTF-8 or a control character
    """
    path = _decoded(path_info, 'The request path')
    if _CONTROL.search(path):
        raise exception.BadRequest(
            'The request path contains a control character.')
    return path


def check_query(query_string: str) -> list[tuple[str, str]]:
    """The query parameters as text pairs.

    :raises: BadRequest naming the parameter that is not UTF-8 once
        percent-decoded or carries a control character
    """
    raw = _decoded(query_string, 'The query string')
    pairs = []
    for part in raw.split('&'):
        if not part:
            continue
        name, _, value = part.partition('=')
        try:
            name = urllib.parse.unquote_plus(name, errors='strict')
        except UnicodeError:
            raise exception.BadRequest('A query parameter name is not '
                                       'valid UTF-8.')
        shown = name if not _CONTROL.search(name) else repr(name)
        try:
            value = urllib.parse.unquote_plus(value, errors='strict')
        except UnicodeError:
            raise exception.BadRequest('The query parameter %s is not '
                                       'valid UTF-8.' % shown[:64])
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise exception.BadRequest('The query parameter %s contains a '
                                       'control character.' % shown[:64])
        pairs.append((name, value))
    return pairs


class RequestIdMiddleware:
    """Give every request an id (``x-openstack-request-id``), as
    oslo.middleware's RequestId does, without its per-request webob
    objects."""

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        request_id = 'req-%s' % uuid.uuid4()
        environ['openstack.request_id'] = request_id

        def with_id(status, headers, exc_info=None):
            headers = [header for header in headers
                       if header[0].lower() != 'x-openstack-request-id']
            headers.append(('x-openstack-request-id', request_id))
            return start_response(status, headers, exc_info)

        return self.application(environ, with_id)


class NoAuthMiddleware:
    """Identity from headers, for the local quick start and tests.

    ``X-User-Id``, ``X-Project-Id`` (or ``X-Tenant-Id``) and ``X-Roles`` (or
    ``X-Role``) are trusted as sent. Without them, an ``X-Auth-Token`` of
    the form ``user:project`` (as Nova's noauth2 accepts) gives the
    identity, with the admin role when the user is ``admin``.
    """

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        token = environ.get('HTTP_X_AUTH_TOKEN', '')
        has_project = ('HTTP_X_PROJECT_ID' in environ or
                       'HTTP_X_TENANT_ID' in environ)
        if not has_project and ':' in token:
            user_id, _, project_id = token.partition(':')
            environ['HTTP_X_USER_ID'] = user_id
            environ['HTTP_X_PROJECT_ID'] = project_id
            if user_id == 'admin' and 'HTTP_X_ROLES' not in environ:
                environ['HTTP_X_ROLES'] = 'admin,member,reader'
        environ['HTTP_X_IDENTITY_STATUS'] = 'Confirmed'
        return self.application(environ, start_response)


class ContextMiddleware:
    """Build the TroveContext and enforce the URL tenant.

    The tenant in ``/v1.0/{tenant}/...`` must be the caller's project
    (403 otherwise), admins included: an admin acts on another project's
    resources by id through its own project's URL.
    """

    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        try:
            context = self._make_context(environ)
        except exception.TroveError as error:
            return error_response(error)(environ, start_response)
        environ[CONTEXT_KEY] = context
        error = self._check_content_type(environ)
        if error is not None:
            return error_response(error)(environ, start_response)
        accept = environ.get('HTTP_ACCEPT', '')
        if 'json' in accept or '*/*' in accept:
            # Trove serves JSON under any JSON media type, its own
            # application/vnd.openstack.trove+json included. Dropping the
            # header also spares pecan its content negotiation.
            del environ['HTTP_ACCEPT']
        # InputGuard has checked that the path decodes as UTF-8.
        match = _TENANT_PATH.match(environ.get('PATH_INFO', '').encode(
            'latin-1').decode('utf-8'))
        if match and match.group(1) != context.project_id:
            error = exception.TenantMismatch(project_id=context.project_id)
            return error_response(error)(environ, start_response)
        return self.application(environ, start_response)

    @staticmethod
    def _check_content_type(environ) -> exception.TroveError | None:
        """Bodies are JSON. A request with any other declared body type is
        refused before anything parses it (415); on a method without a
        body the header is ignored."""
        content_type = environ.get('CONTENT_TYPE', '')
        media_type = content_type.split(';')[0].strip().lower()
        if not media_type or media_type.endswith('json'):
            return None
        if environ.get('REQUEST_METHOD') in ('POST', 'PUT', 'PATCH'):
            return exception.UnsupportedMediaType(content_type=media_type)
        del environ['CONTENT_TYPE']
        return None

    @staticmethod
    def _make_context(environ: dict) -> trove_context.TroveContext:
        if environ.get('HTTP_X_IDENTITY_STATUS', 'Confirmed') != 'Confirmed':
            raise exception.Unauthorized()
        # webob keeps the parsed query in the environ: pecan reuses it.
        query = webob.Request(environ).GET if environ.get(
            'QUERY_STRING') else {}
        limit = query.get('limit')
        try:
            limit = int(limit) if limit not in (None, '') else None
        except ValueError:
            raise exception.BadRequest(
                'The limit parameter must be an integer, not %r.' % limit)
        if limit is not None and limit < 1:
            raise exception.BadRequest(
                'The limit parameter must be at least 1.')
        context = trove_context.TroveContext.from_environ(
            environ, limit=limit, marker=query.get('marker') or None,
            is_admin=False)
        if not context.project_id or not context.user_id:
            raise exception.Unauthorized(
                'The request carries no user and project identity.')
        _check_identity('project id', context.project_id, MAX_PROJECT_ID)
        _check_identity('user id', context.user_id, MAX_USER_ID)
        context.is_admin = policy.is_admin(context)
        context.service_catalog = service_catalog(environ)
        return context


def service_catalog(environ: dict) -> list:
    """The caller's catalog, from keystonemiddleware's X-Service-Catalog
    (Trove's ContextMiddleware reads it): where the project's object store
    is for backups and guest logs. Only with Keystone, whose middleware
    replaces whatever header a client sent; a header that is not a JSON
    list is ignored (Trove answers 500)."""
    if CONF.auth_strategy != 'keystone':
        return []
    try:
        catalog = json.loads(environ.get('HTTP_X_SERVICE_CATALOG') or '[]')
    except ValueError:
        return []
    if not isinstance(catalog, list):
        return []
    return [entry for entry in catalog if isinstance(entry, dict)]


def _check_identity(what: str, value: str, limit: int) -> None:
    """BadRequest unless an identity fits the control database's column
    and is printable text (keystone's never fail this; noauth headers
    can)."""
    if len(value) > limit:
        raise exception.BadRequest('The %s has %d characters; at most %d '
                                   'are allowed.' % (what, len(value), limit))
    if _CONTROL.search(value):
        raise exception.BadRequest('The %s contains a control character.'
                                   % what)
