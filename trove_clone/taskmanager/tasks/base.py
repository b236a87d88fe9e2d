"""What every task shares: step deadlines with fencing, the failure a
flow reports, the guest client and the notification payload."""
import concurrent.futures
import threading
import time
from typing import Any, Callable

from oslo_log import log as logging
from taskflow import task

from trove_clone.common import context as trove_context
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.common import statuses
from trove_clone.conf import CONF
from trove_clone.db import instances as db_instances
from trove_clone.guestagent import rpcapi as guest_rpcapi

LOG = logging.getLogger(__name__)
_READY = (statuses.HEALTHY, statuses.RUNNING)


class StepFailed(Exception):
    """A step of a flow failed; ``step`` names it."""

    def __init__(self, step: str, reason: str, details: str = '') -> None:
        super().__init__('%s: %s' % (step, reason))
        self.step = step
        self.reason = reason
        self.details = details or reason


class Dropped(Exception):
    """The flow has nothing to do (a duplicate cast): it ends, changing
    nothing, and its guard does not report a failure."""


def run_step(step: str, deadline: float, func: Callable[[], Any],
             undo: Callable[[Any], None] | None = None) -> Any:
    """Run one step within ``deadline`` seconds; StepFailed otherwise.

    The step runs in a thread of its own, so that a step past its
    deadline holds no shared worker. It is fenced: when it finishes
    after its deadline (the flow has gone on to revert), ``undo`` is
    called with its result, so that it leaves nothing behind.
    """
    started = time.monotonic()
    future: concurrent.futures.Future = concurrent.futures.Future()

    def target() -> None:
        try:
            future.set_result(func())
        except BaseException as error:  # noqa: B902 - handed to the caller
            future.set_exception(error)

    threading.Thread(target=target, daemon=True,
                     name='step-%s' % step).start()
    try:
        result = future.result(timeout=deadline)
        LOG.debug('Step %s took %.3f s.', step, time.monotonic() - started)
        return result
    except concurrent.futures.TimeoutError:
        if undo is not None:
            future.add_done_callback(lambda done: _fenced(step, done, undo))
        raise StepFailed(step, 'did not finish within %d seconds'
                         % deadline)
    except StepFailed:
        raise
    except exception.TroveError as error:
        raise StepFailed(step, error.message)
    except Exception as error:  # noqa: B902 - reported in the fault
        LOG.exception('Step %s failed.', step)
        raise StepFailed(step, '%s: %s' % (type(error).__name__, error))


def _fenced(step: str, done: concurrent.futures.Future,
            undo: Callable[[Any], None]) -> None:
    if done.exception() is not None:
        return
    LOG.warning('Step %s finished after its deadline: undoing what it '
                'did.', step)
    try:
        undo(done.result())
    except Exception:  # noqa: B902 - logged for the operator
        LOG.exception('Undoing the late step %s failed.', step)


def context_of(values: dict) -> trove_context.TroveContext:
    """The request context a flow stores as a dict."""
    return trove_context.TroveContext.from_dict(values)


def guest_for(row: dict, timeout: float | None = None
              ) -> guest_rpcapi.GuestAPI:
    key = None
    if row.get('encrypted_key'):
        key = secrets.unwrap_instance_key(row['encrypted_key'])
    return guest_rpcapi.GuestAPI(row['id'], timeout=timeout, key=key)


def payload(row: dict, **extra) -> dict:
    values = {'instance_id': row['id'], 'instance_name': row['name'],
              'tenant_id': row['tenant_id'],
              'flavor_id': row['flavor_id'],
              'volume_size': row['volume_size'],
              'datastore_version_id': row['datastore_version_id']}
    values.update(extra)
    return values


def wait_for_service(context, instance_id: str, deadline: float,
                     step: str = 'guest') -> dict:
    """Wait until the guest reports its database healthy.

    :raises: StepFailed when it reports a failure or the deadline passes
    """
    give_up = time.monotonic() + deadline
    while True:
        row = db_instances.get(context, instance_id)
        status = statuses.service_status(row['service_status'])
        if status in _READY:
            return row
        if status is statuses.FAILED:
            error = ''
            try:
                error = guest_for(row, 5).get_status(context)['error']
            except exception.TroveError as lookup_error:
                error = lookup_error.message
            raise StepFailed(step, 'the guest failed to prepare its '
                             'database', error or 'no details reported')
        if time.monotonic() > give_up:
            raise StepFailed(step, 'the guest did not report its database '
                             'healthy within %d seconds' % deadline)
        time.sleep(CONF.state_poll_interval)


def first_failure(flow_failures: dict) -> StepFailed:
    """The failure a flow reports: the failed task's StepFailed, or one
    made from what taskflow persisted (a flow resumed elsewhere)."""
    for name, failure in (flow_failures or {}).items():
        error = getattr(failure, 'exception', None)
        if isinstance(error, StepFailed):
            return error
        if isinstance(error, Dropped):
            continue
        if error is not None and isinstance(error, exception.TroveError):
            return StepFailed(name, error.message)
        text = getattr(failure, 'exception_str', '') or str(failure)
        if failure.check(StepFailed.__module__ + '.StepFailed') and \
                ': ' in text:
            step, reason = text.split(': ', 1)
            return StepFailed(step, reason)
        if failure.check(Dropped.__module__ + '.Dropped'):
            continue
        return StepFailed(name, text)
    return StepFailed('flow', 'the flow was reverted')


def dropped(flow_failures: dict) -> bool:
    """Whether the flow ended because it had nothing to do."""
    return any(getattr(failure, 'exception', None).__class__ is Dropped or
               failure.check(Dropped.__module__ + '.Dropped')
               for failure in (flow_failures or {}).values())


class InstanceTask(task.Task):
    """A task on one instance: ``context`` (a dict) and ``instance_id``
    come from the flow's store; ``step`` is its name in faults."""

    step = ''

    def __init__(self, name: str | None = None, **kwargs) -> None:
        super().__init__(name=name or self.step, **kwargs)
