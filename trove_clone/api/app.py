"""The trove-api WSGI application."""
import logging

from keystonemiddleware import auth_token
import pecan

from trove_clone.api import hooks
from trove_clone.api import middleware
from trove_clone.api import pecan_speedups
from trove_clone.api import ratelimit
from trove_clone.api.controllers import root
from trove_clone.conf import CONF

LOG = logging.getLogger(__name__)


#: Accept headers under which pecan answers ``GET /`` with JSON: the
#: dispatcher serves those itself; any other goes through pecan, which
#: negotiates (406).
_PLAIN_ACCEPT = ('', 'application/json', '*/*')


class _Dispatcher:
    """``/`` (version discovery) needs no credentials; the rest does.

    A plain ``GET /`` is answered here with the document pecan's root
    controller would render, without pecan's request objects, routing
    and hooks (several times the cost of the answer).
    """

    def __init__(self, public_app, protected_app) -> None:
        self.public_app = public_app
        self.protected_app = protected_app

    def __call__(self, environ, start_response):
        if environ.get('PATH_INFO', '/') in ('', '/'):
            if environ.get('REQUEST_METHOD') == 'GET' and \
                    environ.get('HTTP_ACCEPT', '').strip() in _PLAIN_ACCEPT:
                body = root.versions_document(environ)
                start_response('200 OK', [
                    ('Content-Type', 'application/json'),
                    ('Content-Length', str(len(body)))])
                return [body]
            return self.public_app(environ, start_response)
        return self.protected_app(environ, start_response)


class _LimiterEnviron:
    """Expose the rate limiter to the limits view."""

    def __init__(self, application, limiter) -> None:
        self.application = application
        self.limiter = limiter

    def __call__(self, environ, start_response):
        environ['trove.ratelimiter'] = self.limiter
        return self.application(environ, start_response)


def make_pecan_app():
    pecan_speedups.install()
    return pecan.make_app(
        root.RootController(), hooks=[hooks.RPCHook(), hooks.ErrorHook()],
        force_canonical=False, guess_content_type_from_ext=False,
        debug=False, logging=False)


def build_app():
    """The complete application, middleware included, as configured."""
    pecan_app = make_pecan_app()
    limiter = ratelimit.RateLimiter()
    protected = ratelimit.RateLimitMiddleware(pecan_app, limiter)
    protected = _LimiterEnviron(protected, limiter)
    protected = middleware.ContextMiddleware(protected)
    if CONF.auth_strategy == 'keystone':
        protected = auth_token.AuthProtocol(
            protected, {'oslo_config_project': 'trove',
                        'oslo_config_config': CONF})
    else:
        LOG.warning('auth_strategy is noauth: requests are trusted as '
                    'they come. Use it for the local quick start and tests '
                    'only.')
        protected = middleware.NoAuthMiddleware(protected)
    app = _Dispatcher(pecan_app, protected)
    app = middleware.InputGuard(app, CONF.max_request_body_size)
    app = middleware.RequestIdMiddleware(app)
    return middleware.FaultWrapper(app)
