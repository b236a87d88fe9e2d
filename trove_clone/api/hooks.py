"""pecan hooks: the RPC clients of a request, and errors raised by
controllers rendered as Trove's envelope."""
import logging

import pecan
from pecan import hooks
import webob.exc

from trove_clone.api import middleware
from trove_clone.common import exception
from trove_clone.guestagent import rpcapi as guest_rpcapi
from trove_clone.services import instances as instance_service
from trove_clone.taskmanager import rpcapi as taskmanager_rpcapi

LOG = logging.getLogger(__name__)


def taskmanager_client() -> taskmanager_rpcapi.TaskManagerAPI:
    """The taskmanager's RPC client (tests replace this factory)."""
    return taskmanager_rpcapi.TaskManagerAPI()


def guest_client(row: dict, timeout: float | None = None
                 ) -> guest_rpcapi.GuestAPI:
    """The RPC client of an instance's guest agent, sealed with the
    instance's key (tests replace this factory)."""
    return guest_rpcapi.GuestAPI(row['id'], timeout=timeout,
                                 key=instance_service.instance_key(row))


class RpcClients:
    """The RPC clients one request may use: the taskmanager's, made on
    first use (most requests cast nothing), and a guest's per instance.
    The only place the API builds RPC clients."""

    def __init__(self) -> None:
        self._tasks: taskmanager_rpcapi.TaskManagerAPI | None = None

    @property
    def tasks(self) -> taskmanager_rpcapi.TaskManagerAPI:
        if self._tasks is None:
            self._tasks = taskmanager_client()
        return self._tasks

    def guest(self, row: dict, timeout: float | None = None
              ) -> guest_rpcapi.GuestAPI:
        return guest_client(row, timeout)


def rpcapi() -> RpcClients:
    """The RPC clients of the request being served."""
    return pecan.request.rpcapi


class RPCHook(hooks.PecanHook):
    """Put the request's RPC clients on ``request.rpcapi`` (as Ironic's
    RPCHook does), so that controllers never build one."""

    priority = 20

    def before(self, state) -> None:
        state.request.rpcapi = RpcClients()


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
