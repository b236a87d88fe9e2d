"""Per-project rate limits by HTTP verb, as Trove applies them.

A sliding one-minute window per (project, verb); over the limit the API
answers 413 ``overLimit`` with a Retry-After header.
"""
import collections
import re
import threading
import time

from trove_clone.api import middleware
from trove_clone.common import exception
from trove_clone.conf import CONF

WINDOW = 60.0
_MGMT = re.compile(r'^/v1\.0/[^/]+/mgmt(/|$)')
#: The option that limits each verb (PATCH counts as PUT, as in Trove).
_RATE_OPTIONS = {'GET': 'http_get_rate', 'POST': 'http_post_rate',
                 'PUT': 'http_put_rate', 'PATCH': 'http_put_rate',
                 'DELETE': 'http_delete_rate'}


def configured_limits() -> list[dict]:
    """The rate limits in force, as the limits view lists them."""
    return [
        {'verb': 'POST', 'uri': '*', 'regex': '.*',
         'value': CONF.http_post_rate},
        {'verb': 'PUT', 'uri': '*', 'regex': '.*',
         'value': CONF.http_put_rate},
        {'verb': 'DELETE', 'uri': '*', 'regex': '.*',
         'value': CONF.http_delete_rate},
        {'verb': 'GET', 'uri': '*', 'regex': '.*',
         'value': CONF.http_get_rate},
        {'verb': 'POST', 'uri': '*/mgmt', 'regex': '^/mgmt',
         'value': CONF.http_mgmt_post_rate},
    ]


class RateLimiter:
    """Counts requests in memory (per API process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict = collections.defaultdict(collections.deque)

    def _key_and_limit(self, project_id: str, method: str, path: str):
        if method == 'POST' and _MGMT.match(path):
            return (project_id, 'POST', '*/mgmt'), CONF.http_mgmt_post_rate
        option = _RATE_OPTIONS.get(method)
        limit = getattr(CONF, option) if option is not None else None
        return (project_id, method, '*'), limit

    def hit(self, project_id: str, method: str, path: str,
            now: float | None = None) -> float:
        """Count a request; returns 0 or the seconds until one is allowed."""
        key, limit = self._key_and_limit(project_id, method, path)
        if limit is None or limit < 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits[key]
            while hits and hits[0] <= now - WINDOW:
                hits.popleft()
            if len(hits) >= limit:
                return max(hits[0] + WINDOW - now, 0.001)
            hits.append(now)
            return 0.0

    def remaining(self, project_id: str, verb: str, uri: str, limit: int,
                  now: float | None = None) -> int:
        """Requests left in the window; -1 when unlimited."""
        if limit < 0:
            return -1
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.get((project_id, verb, uri), ())
            used = sum(1 for stamp in hits if stamp > now - WINDOW)
        return max(limit - used, 0)


class RateLimitMiddleware:

    def __init__(self, application, limiter: RateLimiter) -> None:
        self.application = application
        self.limiter = limiter

    def __call__(self, environ, start_response):
        context = environ.get(middleware.CONTEXT_KEY)
        if context is not None:
            # PATH_INFO as the server gives it (latin-1 text): only its
            # ASCII "/v1.0/<tenant>/mgmt" prefix is looked at.
            method = environ['REQUEST_METHOD']
            wait = self.limiter.hit(context.project_id, method,
                                    environ.get('PATH_INFO', ''))
            if wait:
                error = exception.OverLimit(
                    'This request was rate-limited: %s requests per minute '
                    'allowed.' % method)
                error.headers = {'Retry-After': str(int(wait) + 1)}
                return middleware.error_response(error)(environ,
                                                        start_response)
        return self.application(environ, start_response)
