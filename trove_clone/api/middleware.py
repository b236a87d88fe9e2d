"""WSGI middleware around the pecan application.

From the outside in: :class:`FaultWrapper` (every error leaves as Trove's
envelope), request ids, authentication (keystonemiddleware ``auth_token`` or
:class:`NoAuthMiddleware`), then :class:`ContextMiddleware`, which builds the
request context and checks that the URL's tenant is the caller's project.
"""
import json
import logging
import re
import uuid

import webob
import webob.exc

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import policy

LOG = logging.getLogger(__name__)

CONTEXT_KEY = 'trove.context'
_TENANT_PATH = re.compile(r'^/v1\.0/([^/]+)')


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
        request = webob.Request(environ)
        try:
            context = self._make_context(request)
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
        match = _TENANT_PATH.match(request.path_info)
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
    def _make_context(request: webob.Request) -> trove_context.TroveContext:
        environ = request.environ
        if environ.get('HTTP_X_IDENTITY_STATUS', 'Confirmed') != 'Confirmed':
            raise exception.Unauthorized()
        limit = request.GET.get('limit')
        try:
            limit = int(limit) if limit not in (None, '') else None
        except ValueError:
            raise exception.BadRequest(
                'The limit parameter must be an integer, not %r.' % limit)
        if limit is not None and limit < 1:
            raise exception.BadRequest(
                'The limit parameter must be at least 1.')
        context = trove_context.TroveContext.from_environ(
            environ, limit=limit, marker=request.GET.get('marker') or None,
            is_admin=False)
        if not context.project_id or not context.user_id:
            raise exception.Unauthorized(
                'The request carries no user and project identity.')
        context.is_admin = policy.is_admin(context)
        return context
