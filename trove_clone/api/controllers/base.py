"""Helpers shared by the REST controllers: context, bodies, responses."""
import jsonschema
import pecan
import webob

from trove_clone.api import json_input
from trove_clone.api import middleware
from trove_clone.common import exception
from trove_clone.common import policy
from trove_clone.common.context import TroveContext
from trove_clone.conf import CONF

JSON = 'application/json'
_BASE_URL_KEY = 'trove.base_url'
_JSON_TYPES = ('application/json', 'application/vnd.openstack.trove+json')


def context() -> TroveContext:
    """The context of the request being served."""
    return pecan.request.environ[middleware.CONTEXT_KEY]


def authorize(rule: str, owner: str | None = None) -> TroveContext:
    """Check ``rule`` for the caller against the resource's owner project.

    :raises: PolicyNotAuthorized (403)
    """
    ctx = context()
    target = {'tenant': owner if owner is not None else ctx.project_id}
    policy.authorize(ctx, rule, target)
    return ctx


def require_admin() -> TroveContext:
    """Mgmt routes: 403 for anyone who is not an administrator."""
    ctx = context()
    if not ctx.is_admin:
        raise exception.AdminRequired()
    return ctx


def read_body(schema: dict) -> dict:
    """The request's JSON body, validated against ``schema``.

    :raises: BadRequest naming the field at fault; UnsupportedMediaType
    """
    request = pecan.request
    content_type = (request.content_type or '').split(';')[0].strip()
    if content_type and content_type not in _JSON_TYPES:
        raise exception.UnsupportedMediaType(content_type=content_type)
    if request.content_length and \
            request.content_length > CONF.max_request_body_size:
        raise exception.RequestTooLarge(limit=CONF.max_request_body_size)
    raw = request.body
    if not raw:
        raise exception.BadRequest('The request body is empty; a JSON '
                                   'object is required.')
    body = json_input.loads(raw)
    validate(body, schema)
    return body


def validate(body, schema: dict) -> None:
    """Raise ValidationError for the first (shallowest) schema violation."""
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(body),
                    key=lambda error: (len(error.path), list(error.path)))
    if errors:
        error = errors[0]
        where = json_input.format_path(error.path)
        raise exception.ValidationError(detail='%s %s' % (where,
                                                          error.message))


def respond(body, status: int = 200) -> webob.Response:
    """A JSON response; ``body`` None means an empty body."""
    return middleware.json_response(status, body)


def respond_encoded(body: bytes, status: int = 200) -> webob.Response:
    """A response whose JSON body is already encoded."""
    response = webob.Response(status=status, headerlist=[])
    response.content_type = 'application/json'
    response.charset = None
    response.body = body
    return response


def base_url() -> str:
    """Scheme and host that links in responses point at:
    ``public_endpoint``; else the request's Host header when it is one of
    ``public_hosts``; else the address the API is bound to. Never a Host
    header the operator did not list."""
    environ = pecan.request.environ
    # Lists ask for it twice per row: once per request is enough.
    found = environ.get(_BASE_URL_KEY)
    if found is None:
        found = environ[_BASE_URL_KEY] = base_url_of(environ)
    return found


def base_url_of(environ: dict) -> str:
    """:func:`base_url` for the request of this WSGI ``environ``."""
    if CONF.public_endpoint:
        return CONF.public_endpoint.rstrip('/')
    scheme = environ.get('wsgi.url_scheme', 'http')
    host = environ.get('HTTP_HOST', '').strip().lower()
    allowed = {name.strip().lower() for name in CONF.public_hosts}
    if host and (host in allowed or host.rsplit(':', 1)[0] in allowed
                 and _default_port(scheme, host)):
        return '%s://%s' % (scheme, host)
    return '%s://%s' % (scheme, _bound_address(environ))


def _default_port(scheme: str, host: str) -> bool:
    """Whether ``host`` has no port or the scheme's default one."""
    if host.endswith(']') or ':' not in host:
        return True
    port = host.rsplit(':', 1)[1]
    return port == ('443' if scheme == 'https' else '80')


def _bound_address(environ: dict) -> str:
    """``bind_host:bind_port``; for a wildcard bind, the server's own
    name (``SERVER_NAME``, set by the WSGI server, not the client)."""
    host = CONF.bind_host
    if host in ('0.0.0.0', '::', ''):
        host = environ.get('SERVER_NAME') or 'localhost'
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    return '%s:%d' % (host, CONF.bind_port)


def links(resource_path: str, resource_id: str) -> list[dict]:
    """Trove's self and bookmark links of a resource."""
    root = base_url()
    tenant = context().project_id
    return [
        {'href': '%s/v1.0/%s/%s/%s' % (root, tenant, resource_path,
                                       resource_id),
         'rel': 'self'},
        {'href': '%s/%s/%s' % (root, resource_path, resource_id),
         'rel': 'bookmark'},
    ]


def bool_param(name: str) -> bool:
    """A boolean query parameter (true/1/yes), False when absent."""
    value = pecan.request.GET.get(name, '')
    return value.strip().lower() in ('true', '1', 'yes', 'on')


def method_not_allowed():
    raise exception.MethodNotAllowed(method=pecan.request.method,
                                     path=pecan.request.path)


def has_body() -> bool:
    """Whether the request carries a body (optional bodies)."""
    return bool(pecan.request.body and pecan.request.body.strip())


def respond_empty_ok() -> webob.Response:
    """200 with an empty body, as Trove answers a configuration PATCH.

    Pecan turns an empty 200 into 204; a body given as a generator that
    yields one empty chunk keeps the 200 clients may check for.
    """
    response = webob.Response(status=200, headerlist=[])
    response.content_type = None
    response.app_iter = (chunk for chunk in [b''])
    response.content_length = 0
    return response
