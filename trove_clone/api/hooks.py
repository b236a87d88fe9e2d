"""pecan hooks: errors raised by controllers become Trove's envelope."""
import logging

from pecan import hooks
import webob.exc

from trove_clone.api import middleware
from trove_clone.common import exception

LOG = logging.getLogger(__name__)


class ErrorHook(hooks.PecanHook):
    """Render TroveError and webob HTTP errors as Trove's error body."""

    priority = 10

    def on_error(self, state, error):
        if isinstance(error, exception.TroveError):
            if error.code >= 500:
                LOG.error('%s %s failed: %s', state.request.method,
                          state.request.path, error.message)
            return middleware.error_response(error)
        if isinstance(error, webob.exc.HTTPException):
            code = error.code
            message = error.detail or error.explanation
            if code == 404:
                message = 'The resource could not be found.'
            return middleware.json_response(
                code, exception.error_body(code, message))
        return None
